#!/bin/bash
# Install the Debian 12 packages (gdal-bin gives gdal_translate/gdalinfo to tests and benches) eosight needs to build, test and benchmark, when missing.
#   scripts/install-deps.sh [--bench]     (--bench adds python3-torch for golden/bench generators)
# Uses apt-get directly as root, through sudo otherwise. Prints nothing when all is present.
set -euo pipefail
pkgs=(cmake make gcc g++ pkg-config libdnnl-dev libgdal-dev gdal-bin libsqlite3-dev libmicrohttpd-dev libjansson-dev)
# the web app's npm packages (npm ci at build time) and its browser test (chromium)
pkgs+=(nodejs chromium)
command -v npm >/dev/null || pkgs+=(npm)
[ "${1:-}" = "--bench" ] && pkgs+=(python3-torch python3-torchvision python3-numpy)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs may come from elsewhere (a node already on PATH counts)
if [[ " ${missing[*]:-} " == *" nodejs "* ]] && command -v node >/dev/null; then
  missing=("${missing[@]/nodejs}")
fi
missing=($(printf '%s\n' "${missing[@]:-}" | grep -v '^$' || true))
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}" >&2
$SUDO apt-get update -qq >&2 || true
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >&2
