#!/bin/bash
# tests/web/browser.sh EOSIGHT [BUILD_DIR] - the browser test of the web app (docs/web.md):
# starts the real `eosight serve` on a free port (--port 0) with the models of models/ and a
# catalog of one georeferenced GeoTIFF made here from a test image (gdal_translate
# -a_srs/-a_ullr, then `eosight catalog add`), and lets tests/web/browser.mjs drive Debian's
# chromium (headless, through the playwright-core that the build's `npm ci` put in
# BUILD_DIR/web/npm/node_modules) over the upload page and the map page. Screenshots go to
# BUILD_DIR/tests-artifacts/web/. BUILD_DIR defaults to the folder of EOSIGHT.
# The upload check uses the EuroSAT classifier (models/eurosat-rgb-scene.onnx, made by
# scripts/train-models.sh) when present, else the cloud model that git carries. Exit 77
# (skipped, with a SKIP line) without chromium, node or the npm modules, under sanitizers
# (EOS_SANITIZED=1), without GDAL, or without a usable model. EOS_WEB_MODELS=DIR serves the
# models of DIR instead of models/.
set -u
EOS="$1"
BUILD="${2:-$(dirname "$EOS")}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MODULES="$BUILD/web/npm/node_modules"
MODELS="${EOS_WEB_MODELS:-$ROOT/models}"   # another folder: e.g. the two models a clean clone has
ART="$BUILD/tests-artifacts/web"
skip() { echo "SKIP web browser test: $*"; echo "0 passed, 0 failed, 1 skipped"; exit 77; }

[ "${EOS_SANITIZED:-0}" = 1 ] && skip "not run under sanitizers (a browser against a slow server)"
"$EOS" serve --help 2>&1 | grep -q -- "--catalog" || skip "this eosight has no serve --catalog (built without GDAL?)"
CHROMIUM="${EOS_CHROMIUM:-$(command -v chromium || true)}"
[ -x "$CHROMIUM" ] || skip "chromium not found (scripts/install-deps.sh installs it)"
command -v node >/dev/null || skip "node not found (scripts/install-deps.sh installs nodejs)"
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 18 ] 2>/dev/null || skip "node $(node --version) is older than 18"
stamp=$(head -1 "$BUILD/web/npm.stamp" 2>/dev/null)
[[ "$stamp" == ok* ]] || skip "the web app was not built (${stamp:-no $BUILD/web/npm.stamp}): scripts/install-deps.sh, then rebuild"
[ -d "$MODULES/playwright-core" ] || skip "no $MODULES/playwright-core: npm ci did not run in this build ($BUILD/web/npm.stamp says why)"
command -v gdal_translate >/dev/null || skip "gdal_translate not found (gdal-bin)"

tmp=$(mktemp -d); pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

# The image: a real EuroSAT forest image from ../shared when it is there (datasets stay in
# ../shared, never in the repository), else one made here: 64 x 64 dark green canopy texture
# (a P6 PPM written by printf, then JPEG), which the cloud model must call clear.
REAL="${EOS_SHARED:-$ROOT/../shared}/data/eurosat-rgb/images/Forest/Forest_3.jpg"
synth_forest() {   # synth_forest OUT.jpg
    local ppm="$tmp/forest.ppm" x y v r g b bytes=""
    {
        printf 'P6\n64 64\n255\n'
        for ((y = 0; y < 64; y++)); do
            bytes=""
            for ((x = 0; x < 64; x++)); do
                v=$(( (x * 37 + y * 91 + (x * y) % 23) % 29 ))   # deterministic texture
                r=$(( 30 + v / 2 )); g=$(( 60 + v )); b=$(( 35 + v / 3 ))
                bytes+=$(printf '\\x%02x\\x%02x\\x%02x' "$r" "$g" "$b")
            done
            printf "$bytes"
        done
    } > "$ppm"
    gdal_translate -q -of JPEG "$ppm" "$1"
}
if [ -f "$REAL" ]; then
    IMAGE="$REAL"
else
    IMAGE="$tmp/forest.jpg"
    synth_forest "$IMAGE" || { echo "FAIL cannot make the test image"; exit 1; }
    echo "note: $REAL is absent (no ../shared): the test uses a synthetic forest texture"
fi
if [ -f "$MODELS/eurosat-rgb-scene.onnx" ] && [ "$IMAGE" = "$REAL" ]; then
    TASK=classify; EXPECT=Forest
elif [ -f "$MODELS/clouds.onnx" ]; then
    TASK=clouds; EXPECT=Clear
    echo "note: the upload and map checks use the cloud model (the EuroSAT classifier or the real image is absent)"
else
    skip "neither eurosat-rgb-scene.onnx nor clouds.onnx is in $MODELS"
fi

# The scene: the forest image placed at 10 m pixels in UTM 32N (lon 9.0, lat 47.85).
SCENE="$tmp/forest_20230615.tif"
gdal_translate -q -of GTiff -a_srs EPSG:32632 -a_ullr 500000 5300000 500640 5299360 \
    -mo "TIFFTAG_DATETIME=2023:06:15 10:30:00" "$IMAGE" "$SCENE" || { echo "FAIL gdal_translate"; exit 1; }
"$EOS" catalog add "$SCENE" --db "$tmp/cat.sqlite" > "$tmp/add.out" 2>&1 || {
    cat "$tmp/add.out"; echo "FAIL eosight catalog add"; exit 1; }

"$EOS" serve --port 0 --models "$MODELS" --catalog "$tmp/cat.sqlite" > "$tmp/serve.out" 2>&1 &
pid=$!
url=""
for _ in $(seq 100); do
    url=$(sed -n 's|.*listening on \(http://[^ ]*/\).*|\1|p' "$tmp/serve.out")
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$url" ]; then
    cat "$tmp/serve.out"; echo "FAIL the server did not print its URL"; exit 1
fi
echo "server: $url (models of $MODELS, catalog of 1 scene)"

mkdir -p "$ART"
node "$ROOT/tests/web/browser.mjs" --url "$url" --modules "$MODULES" --chromium "$CHROMIUM" \
    --image "$IMAGE" --bad "$ROOT/tests/web/browser.sh" --task "$TASK" --expect "$EXPECT" \
    --out "$ART"
rc=$?
echo "screenshots: $ART"
kill -TERM "$pid"; wait "$pid"; src=$?; pid=""
if [ $src -ne 0 ]; then
    echo "FAIL the server exited with status $src"; tail -20 "$tmp/serve.out"; exit 1
fi
exit $rc
