"""The shell scripts CI and `make image` run parse: a syntax error stops CI before any test."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[3]
SCRIPTS = [PROJECT / ".ci" / "run", *sorted((PROJECT / "infra").glob("*.sh"))]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(PROJECT)))
def test_the_script_parses(script):
    parsed = subprocess.run(
        ["bash", "-n", str(script)], capture_output=True, text=True, check=False
    )
    assert parsed.returncode == 0, parsed.stderr


def test_ci_runs_the_readme_test_command():
    lines = (PROJECT / ".ci" / "run").read_text().splitlines()
    assert lines[-1] == "make test", "CI must end by running the README's test command"
