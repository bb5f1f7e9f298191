#!/usr/bin/env bash
# Creates or refreshes the project's virtualenv from requirements.lock. Idempotent: the Makefile
# only calls it when the lock file, pyproject.toml or this script changed, and it reinstalls
# only when the recorded lock hash differs.
set -euo pipefail
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
want=$(cat requirements.lock pyproject.toml infra/setup.sh | sha256sum | cut -d' ' -f1)
have=$(cat "$VENV/.kfx-lock-hash" 2>/dev/null || true)
if [ "$want" = "$have" ] && "$VENV/bin/python" -c 'import tfx, pipelines' 2>/dev/null; then
  echo "setup: $VENV is current"
  exit 0
fi
"$PYTHON" -c 'import sys; assert sys.version_info[:2] >= (3, 10), sys.version' \
  || { echo "setup: Python >= 3.10 is required (found $("$PYTHON" --version))" >&2; exit 1; }
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
# The lock file is a complete, verified `pip freeze`: installing it without the resolver takes
# ~2 minutes instead of pip backtracking for hours over apache-beam[gcp]. tfx 1.16 declares
# python<3.11 but works on 3.11, hence --ignore-requires-python.
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps \
  --ignore-requires-python -r requirements.lock
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps \
  --no-build-isolation -e .
"$VENV/bin/python" -m pip check >/dev/null 2>&1 || "$VENV/bin/python" -m pip check | grep -v "requires wheel" || true
echo "$want" > "$VENV/.kfx-lock-hash"
echo "setup: $VENV ready"
