#!/usr/bin/env bash
# Builds the component image from infra/Dockerfile with buildah (no Docker daemon needed).
#   IMAGE=localhost/kfx:dev BASE=localhost/kfx-base:bookworm infra/build_image.sh
# Without a registry, the Debian 12 base is made with debootstrap and imported under $BASE.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${IMAGE:-localhost/kfx:dev}
BASE=${BASE:-localhost/kfx-base:bookworm}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
for tool in buildah podman debootstrap; do
  command -v "$tool" >/dev/null || { echo "build_image: needs $tool (apt-get install buildah podman debootstrap)" >&2; exit 1; }
done
if ! buildah inspect --type image "$BASE" >/dev/null 2>&1; then
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  echo "build_image: making $BASE with debootstrap (Debian 12 minbase)"
  debootstrap --variant=minbase bookworm "$root" "$MIRROR" >/dev/null
  [ -f /etc/apt/sources.list.d/debian.sources ] && cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
  tar -C "$root" -c . | podman import - "$BASE" >/dev/null
fi
# pip inside the build trusts the host's CA bundle (mounted where dpkg does not look).
CA=/etc/ssl/certs/ca-certificates.crt
buildah bud --isolation chroot --layers \
  --build-arg BASE="$BASE" \
  ${CA:+--volume "$CA:/run/host-ca.crt:ro" --build-arg PIP_CERT=/run/host-ca.crt} \
  -f infra/Dockerfile -t "$IMAGE" .
echo "build_image: $IMAGE"
