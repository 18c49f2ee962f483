#!/bin/bash
# Install the Debian 12 packages (gdal-bin gives gdal_translate/gdalinfo to tests and benches) eosight needs to build, test and benchmark, when missing.
#   scripts/install-deps.sh [--bench]     (--bench adds python3-torch for golden/bench generators)
# Uses apt-get directly as root, through sudo otherwise. Prints nothing when all is present.
# The web app's tools (nodejs + npm for `npm ci` at build time, chromium for the browser test)
# are wanted but not required: when apt cannot install them the build goes on without the web
# app's npm assets and the browser test says SKIP, so this script warns instead of failing.
set -euo pipefail
pkgs=(cmake make gcc g++ pkg-config libdnnl-dev libgdal-dev gdal-bin libsqlite3-dev libmicrohttpd-dev libjansson-dev)
optional=(nodejs chromium)
command -v npm >/dev/null || optional+=(npm)
[ "${1:-}" = "--bench" ] && pkgs+=(python3-torch python3-torchvision python3-numpy)

# missing_of NAME...: the packages not installed (a node already on PATH counts as nodejs)
missing_of() {
  for p in "$@"; do
    [ "$p" = nodejs ] && command -v node >/dev/null && continue
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}
missing=($(missing_of "${pkgs[@]}"))
missing_opt=($(missing_of "${optional[@]}"))
[ ${#missing[@]} -eq 0 ] && [ ${#missing_opt[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq >&2 || true
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >&2
fi
for p in "${missing_opt[@]}"; do   # one by one: one that fails does not keep the others out
  echo "install-deps: installing $p (the web app and its browser test)" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$p" >&2 ||
    echo "install-deps: WARNING: could not install $p: without nodejs/npm the web app is built" \
         "without its npm packages; without chromium the browser test is skipped" >&2
done
