#!/bin/bash
# `eosight classify|tag|clouds|segment|models|meta` end to end. The models are the committed
# golden networks of tests/data/models/ turned into eosight models with `eosight meta` (which
# is tested on the way): resnet_block (10 outputs, 3 bands, 64 x 64) as a classifier, a tagger
# and a cloud screen; unet_small (6 classes, 3 bands, 32 x 32, batch fixed at 1, Softmax
# output) as a land-cover model. Scenes are synthetic GeoTIFFs from gdal_create (UTM 33N,
# 10 m). The weights are random, so the checks are those that hold for any model: exit codes
# (0 done, 1 refused or failed with the reason on stderr, 2 bad usage), JSON that parses,
# grid arithmetic, a constant scene giving one class, nodata in -> 255 out, areas that add
# up, the scene's georeferencing on every output, cloud screening that skips everything at
# P = 0, byte-exact metadata round trips. Known answers: tests/analysis/test_{scene,image}.c.
# $1 is the built eosight command.
set -u
EOS="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
skip() { echo "SKIP: $1"; echo "0 passed, 0 failed, 1 skipped"; exit 77; }
if ! command -v gdal_create >/dev/null || ! command -v gdal_rasterize >/dev/null ||
   "$EOS" classify --help 2>&1 | grep -q "without GDAL"; then
    skip "needs GDAL (gdal_create, gdal_rasterize, EOS_WITH_GDAL)"
fi
D="$(pwd)/tests/data/models"
[ -f "$D/resnet_block/model.onnx" ] && [ -f "$D/unet_small/model.onnx" ] ||
    skip "needs tests/data/models/{resnet_block,unet_small}"
PY=""
python3 -c "import json" 2>/dev/null && PY=python3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1   # away from ./models: `eosight models` lists only what is made here
export EOSIGHT_MODELS="$tmp/m"
mkdir -p m

# run ARGS...: eosight ARGS > out, 2> err; the exit status in $rc
run() { "$EOS" "$@" > out 2> err; rc=$?; }
# saved NAME: keep out as NAME (for later comparisons)
saved() { cp out "$1"; }
is() { [ "$rc" -eq "$1" ]; }
# json_lines FILE [N]: every line of FILE is one JSON object (N lines when given)
json_lines() {
    [ -s "$1" ] || return 1
    if [ $# -gt 1 ] && [ "$(wc -l < "$1")" -ne "$2" ]; then return 1; fi
    if [ -n "$PY" ]; then
        "$PY" -c 'import json, sys
for line in open(sys.argv[1]):
    assert isinstance(json.loads(line), dict)' "$1"
    else
        ! grep -qv '^{.*}$' "$1"
    fi
}
# py FILE EXPR: a Python expression over d (the first JSON line of FILE) is true; without
# Python these checks pass (the grep checks still run)
py() {
    [ -z "$PY" ] && return 0
    "$PY" -c 'import json, sys
d = json.loads(open(sys.argv[1]).readline())
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$1" "$2"
}
# georef_same A B: same origin and pixel size per gdalinfo, and A's CRS is EPSG:32633
georef_same() {
    local a b
    a=$(gdalinfo "$1" 2>/dev/null | grep -E '^(Origin|Pixel Size) =')
    b=$(gdalinfo "$2" 2>/dev/null | grep -E '^(Origin|Pixel Size) =')
    [ -n "$a" ] && [ "$a" = "$b" ] && gdalinfo "$1" | grep -q 'ID\["EPSG",32633\]\]$'
}
# same_json A B: equal apart from "image" and "seconds"
strip_json() { sed 's/"image":"[^"]*",//; s/"seconds":[0-9.]*//' "$1"; }
same_json() { [ "$(strip_json "$1")" = "$(strip_json "$2")" ]; }

# ---------------------------------------------------------------- models, with `eosight meta`
C10=c0,c1,c2,c3,c4,c5,c6,c7,c8,c9
run meta "$D/resnet_block/model.onnx" -o m/scene10.onnx --set eosight.task=classification \
    --set eosight.classes=$C10 --set eosight.bands=Red,Green,Blue \
    --set eosight.norm.scale=0.00392156862745098 --set eosight.gsd_m=10
check "meta --set -o: exit 0" is 0
run meta m/scene10.onnx
check "meta shows the five keys set" bash -c "grep -qx 'eosight.task = classification' out &&
    grep -qx 'eosight.gsd_m = 10' out && [ \$(wc -l < out) -eq 5 ]"
"$EOS" meta m/scene10.onnx -o m/clouds.onnx --set eosight.task=cloud \
    --set eosight.classes=clear,cloudy,c2,c3,c4,c5,c6,c7,c8,c9 --set eosight.thresholds=0.5
"$EOS" meta m/scene10.onnx -o m/tags.onnx --set eosight.task=multilabel \
    --set eosight.thresholds=0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1
"$EOS" meta "$D/unet_small/model.onnx" -o m/lc6.onnx --set eosight.task=segmentation \
    --set eosight.classes=c0,c1,c2,c3,c4,c5 --set eosight.output=probabilities \
    --set eosight.bands=Red,Green,Blue \
    --set eosight.colors=#000000,#ff0000,#00ff00,#0000ff,#ffff00,#ffffff
check "meta: four models written" bash -c "ls m/*.onnx | wc -l | grep -qx 4"

# round trips: --set then --unset gives the original bytes; in place, replacing a value
cp "$D/resnet_block/model.onnx" base.onnx
"$EOS" meta base.onnx --set eosight.x=1 -o a.onnx && "$EOS" meta a.onnx --unset eosight.x -o b.onnx
check "meta: --set then --unset gives the original bytes" cmp -s base.onnx b.onnx
check "meta: -o leaves the input alone" cmp -s base.onnx "$D/resnet_block/model.onnx"
cp a.onnx c.onnx
run meta c.onnx --set eosight.x=2
check "meta in place: exit 0, no temporary left" bash -c "[ $rc -eq 0 ] && [ ! -e c.onnx.part ]"
run meta c.onnx
check "meta in place: the new value" grep -qx 'eosight.x = 2' out
check "meta in place: only the value byte differs" bash -c "[ \$(cmp -l a.onnx c.onnx | wc -l) -eq 1 ]"

# ---------------------------------------------------------------- scenes
# 200 x 130 RGB, constant; UTM 33N, 10 m, origin (431230, 5001240)
UTM=(-a_srs EPSG:32633 -a_ullr 431230 5001240 433230 4999940)
gdal_create -q -of GTiff -outsize 200 130 -bands 3 -ot Byte -burn 90 -burn 120 -burn 60 \
    "${UTM[@]}" -co PHOTOMETRIC=RGB scene.tif
# the same as BGR (colour interpretations Blue, Green, Red): to be read as RGB by name
gdal_create -q -of GTiff -outsize 200 130 -bands 3 -ot Byte -burn 60 -burn 120 -burn 90 \
    "${UTM[@]}" bgr0.tif
gdal_translate -q -colorinterp blue,green,red bgr0.tif bgr.tif
# 100 x 70 RGB with nodata 0 and a 20 x 20 hole of it at columns [20, 40), rows [20, 40)
gdal_create -q -of GTiff -outsize 100 70 -bands 3 -ot Byte -burn 90 -burn 120 -burn 60 \
    -a_srs EPSG:32633 -a_ullr 431230 5001240 432230 5000540 -a_nodata 0 -co PHOTOMETRIC=RGB seg.tif
cat > hole.csv <<'CSV'
WKT,id
"POLYGON((431430 5001040,431630 5001040,431630 5000840,431430 5000840,431430 5001040))",1
CSV
gdal_rasterize -q -b 1 -burn 0 -l hole hole.csv seg.tif 2>/dev/null
# contract breakers: reflectance DN x 10000 in UInt16; two bands
gdal_create -q -of GTiff -outsize 64 64 -bands 3 -ot UInt16 -burn 9000 -burn 10000 -burn 11000 \
    -a_srs EPSG:32633 -a_ullr 431230 5001240 431870 5000600 u16.tif
gdal_create -q -of GTiff -outsize 64 64 -bands 2 -ot Byte -burn 1 -burn 2 two.tif

# ---------------------------------------------------------------- classify
run classify scene.tif --model scene10 --json --grid-tif g.tif --grid-geojson g.geojson
check "classify: exit 0 (model found by name in \$EOSIGHT_MODELS)" is 0
check "classify --json: one object" json_lines out 1
# 64-px windows (64 px input at 10 m): 4 x 3 cells, the last column (8 px) and row (2 px)
# mostly outside the scene -> nodata; the scene is constant, so one class takes every cell
check "classify: grid 4 x 3, 6 valid, 6 nodata" grep -q \
    '"grid":{"window_px":64,"cells_x":4,"cells_y":3,"valid":6,"nodata":6,"cloudy":0' out
check "classify: a constant scene is one class" grep -q '"share":1.000000' out
check "classify: top 5 classes, sorted, sum <= 1" py out 'len(d["classes"]) == 5 and
    sum(c["prob"] for c in d["classes"]) <= 1 + 1e-5 and d["top"] == d["classes"][0]["name"] and
    all(a["prob"] >= b["prob"] for a, b in zip(d["classes"], d["classes"][1:]))'
gdalinfo g.tif > g.txt 2>&1
check "classify: grid GeoTIFF of 4 x 3 cells of 640 m" bash -c "grep -q 'Size is 4, 3' g.txt &&
    grep -q 'Pixel Size = (640.000000000000000,-640.000000000000000)' g.txt"
check "classify: grid GeoTIFF at the scene's origin, its CRS" bash -c \
    "grep -q 'Origin = (431230.000000000000000,5001240.000000000000000)' g.txt &&
     grep -q 'ID\[\"EPSG\",32633\]\]\$' g.txt"
check "classify: grid GeoJSON has the 12 cells" bash -c \
    "ogrinfo -ro -so -al g.geojson | grep -q 'Feature Count: 12'"
run classify scene.tif --model scene10 --whole --top-k 0 --tta 8 --json
check "classify --whole --top-k 0 --tta 8: all 10 classes, no grid" bash -c \
    "[ $rc -eq 0 ] && ! grep -q '\"grid\"' out && [ \$(grep -o '\"prob\":' out | wc -l) -eq 11 ]"
check "classify --whole: probabilities sum to 1" py out \
    'abs(sum(c["prob"] for c in d["classes"]) - 1) < 1e-4'
saved rgb.json
run classify bgr.tif --model scene10 --whole --top-k 0 --tta 8 --json
check "classify: a BGR file is read as RGB (the same answer)" same_json out rgb.json
check "classify: ... without a warning" bash -c "[ $rc -eq 0 ] && [ ! -s err ]"
run classify scene.tif seg.tif --model scene10 --quiet
check "classify: two images, a table each" bash -c \
    "[ $rc -eq 0 ] && [ \$(grep -c '^scene.tif\|^seg.tif' out) -eq 2 ]"

# ---------------------------------------------------------------- contracts refused
run classify u16.tif --model scene10
check "8-bit model on UInt16 ~10000: exit 1" is 1
check "... refused, saying 8-bit" bash -c "grep -q 'refused' err && grep -q '8-bit' err"
run classify u16.tif --model scene10 --force --json
check "--force predicts anyway, saying so" bash -c \
    "[ $rc -eq 0 ] && grep -q '(forced)' err && grep -q '\"top\"' out"
run classify two.tif --model scene10
check "2-band image for a 3-band model: exit 1, says why" bash -c "[ $rc -eq 1 ] && grep -q '2 bands' err"
run classify two.tif scene.tif --model scene10 --json
check "one image of two refused: exit 1, the other done" bash -c \
    "[ $rc -eq 1 ] && grep -q '\"image\":\"scene.tif\"' out && ! grep -q two.tif out"

# ---------------------------------------------------------------- tag, clouds
run tag scene.tif --model tags --whole --top-k 0 --json
check "tag: exit 0, JSON with labels" bash -c \
    "[ $rc -eq 0 ] && grep -q '\"task\":\"tag\"' out && grep -q '\"labels\":\\[' out"
check "tag: a label is on exactly when its score reaches its own threshold" py out \
    'len(d["classes"]) == 10 and
     sorted(d["labels"]) == sorted(c["name"] for c in d["classes"] if c["prob"] >= c["threshold"])'
run tag scene.tif --model tags --whole
check "tag: the table marks tags with their thresholds" grep -q 'TAG (threshold' out
run clouds scene.tif --model clouds --json
check "clouds: exit 0, cloudy decision and probability" bash -c \
    "[ $rc -eq 0 ] && grep -q '\"cloudy\":\(true\|false\),\"cloud_prob\":' out"
run classify scene.tif --model scene10 --skip-cloudy 0 --cloud-model clouds --json
check "--skip-cloudy 0 leaves out every cell" bash -c "[ $rc -eq 0 ] &&
    grep -q '\"valid\":0,\"nodata\":6,\"cloudy\":6' out && grep -q '\"skipped\":\"cloudy\"' out"
run classify scene.tif --model lc6
check "classify with a segmentation model: exit 2, names the command" bash -c \
    "[ $rc -eq 2 ] && grep -q 'eosight segment' err"

# ---------------------------------------------------------------- segment
run segment seg.tif --model lc6 -o mask.tif --probs probs.tif --vector poly.geojson \
    --overlay over.png --areas areas.json --window 32 --overlap 8 --json
check "segment: exit 0" is 0
check "segment --json parses" json_lines out 1
check "segment: 15 windows (5 x 3 of step 24)" grep -q '"windows":15,' out
check "segment: the 400 hole pixels are nodata" grep -q '"nodata_px":400,' out
check "segment: class pixels add up to the rest, 100 m2 each" py out \
    'sum(c["pixels"] for c in d["classes"]) == 100 * 70 - 400 and
     all(abs(c["area_m2"] - 100 * c["pixels"]) < 1e-6 for c in d["classes"])'
check "segment --areas: the same JSON in a file" same_json areas.json out
saved seg.json
gdalinfo mask.tif > mask.txt 2>&1
check "segment: mask is a COG with nodata 255" bash -c \
    "grep -q 'LAYOUT=COG' mask.txt && grep -q 'NoData Value=255' mask.txt"
check "segment: mask georeferencing is the scene's" georef_same mask.tif seg.tif
check "segment: probabilities have 6 bands" bash -c \
    "[ \$(gdalinfo probs.tif | grep -c '^Band ') -eq 6 ]"
check "segment: probabilities georeferencing is the scene's" georef_same probs.tif seg.tif
gdal_translate -q -of XYZ mask.tif mask.xyz
# pixel centres in the hole: x in (431430, 431630), y in (5000840, 5001040)
check "segment: 255 exactly on the hole, classes 0..5 elsewhere" bash -c "[ \$(wc -l < mask.xyz) -eq 7000 ] &&
    awk '{ hole = \$1 > 431430 && \$1 < 431630 && \$2 > 5000840 && \$2 < 5001040
           if (hole != (\$3 == 255) || (\$3 != 255 && \$3 > 5)) bad++ }
         END { exit bad > 0 }' mask.xyz"
check "segment: polygons cover the valid area" bash -c "ogrinfo -ro -al poly.geojson |
    awk -F'= ' '/area_m2 \\(Real\\)/ { s += \$2 } END { exit !(s > 659999 && s < 660001) }'"
check "segment: the overlay is a PNG" bash -c "head -c 4 over.png | grep -q PNG"
run segment seg.tif --model lc6 -o skipped.tif --skip-cloudy 0 --cloud-model clouds --json
check "segment --skip-cloudy 0: every window skipped, all nodata" bash -c "[ $rc -eq 0 ] &&
    grep -q '\"nodata_px\":7000,' out && grep -q '\"windows_cloudy\":15,' out"
run segment seg.tif --model lc6 -o post.tif --min-object 500 --min-hole 500 --open 1 --quiet
check "segment with post-processing: exit 0, a table" bash -c \
    "[ $rc -eq 0 ] && grep -q 'area m2' out && grep -q '(nodata) *400' out"

# ---------------------------------------------------------------- models
run models
check "models: lists the four models of \$EOSIGHT_MODELS" bash -c \
    "[ $rc -eq 0 ] && [ \$(grep -c '^\(scene10\|clouds\|tags\|lc6\) ' out) -eq 4 ]"
run models --json
check "models --json: one object per model" json_lines out 4
check "models --json: the contracts" bash -c "grep -q '\"name\":\"lc6\",\"task\":\"segment\"' out &&
    grep -q '\"color\":\"#ff0000\"' out && grep -q '\"gsd_m\":10' out"
run models lc6
check "models NAME: just that one" bash -c \
    "[ $rc -eq 0 ] && [ \$(grep -c 'classes' out) -eq 2 ] && grep -q '^lc6 ' out"
run models nosuch
check "models NAME not found: exit 1, says so" bash -c "[ $rc -eq 1 ] && grep -q \"no model 'nosuch'\" err"

# ---------------------------------------------------------------- usage and failures
for c in classify tag clouds segment models meta; do
    run $c --help
    check "$c --help: exit 0, usage" bash -c "[ $rc -eq 0 ] && grep -q '^usage: eosight $c' out"
done
"$EOS" segment --help | grep -q -- '--overlap N'; check "segment --help explains --overlap" [ $? -eq 0 ]
"$EOS" --help 2>&1 | grep -q 'classify'; check "eosight --help lists classify" [ $? -eq 0 ]
usage2() { run "$@"; [ $rc -eq 2 ] && [ -s err ]; }
check "classify without an image: exit 2" usage2 classify --model scene10
check "classify --tta 3: exit 2" usage2 classify scene.tif --model scene10 --tta 3
check "classify --top-k x: exit 2" usage2 classify scene.tif --model scene10 --top-k x
check "classify --skip-cloudy 2: exit 2" usage2 classify scene.tif --model scene10 --skip-cloudy 2
check "classify unknown option: exit 2" usage2 classify scene.tif --bogus
check "classify --model without a value: exit 2" usage2 classify scene.tif --model
check "segment two scenes: exit 2" usage2 segment seg.tif scene.tif -o x.tif
check "segment --vector without -o: exit 2" usage2 segment seg.tif --vector v.geojson
check "segment --overlap 7: exit 2" usage2 segment seg.tif -o x.tif --overlap 7
check "segment --window 20: exit 2" usage2 segment seg.tif -o x.tif --window 20
check "segment --scales 9: exit 2" usage2 segment seg.tif -o x.tif --scales 9
check "models --bogus: exit 2" usage2 models --bogus
check "meta without a model: exit 2" usage2 meta
check "meta --set without '=': exit 2" usage2 meta a.onnx --set foo
run segment seg.tif --model lc6 -o x.tif --overlap 20
check "segment overlap > window / 2: exit 1, says so" bash -c \
    "[ $rc -eq 1 ] && grep -q 'overlap 20' err && [ ! -e x.tif ]"
run segment seg.tif --model lc6 -o x.tif --window 64
check "segment window other than the model's fixed input: exit 1" bash -c \
    "[ $rc -eq 1 ] && grep -q 'fixed at 32' err"
run classify scene.tif --model nosuch
check "missing model: exit 1, names it" bash -c "[ $rc -eq 1 ] && grep -q nosuch err"
run classify nowhere.tif --model scene10
check "missing image: exit 1, names it" bash -c "[ $rc -eq 1 ] && grep -q nowhere.tif err"
run segment seg.tif --model lc6 -o nodir/x.tif
check "unwritable output: exit 1, says why" bash -c "[ $rc -eq 1 ] && [ -s err ]"
run meta hole.csv --set a=b -o z.onnx
check "meta on a non-ONNX file: exit 1, nothing written" bash -c \
    "[ $rc -eq 1 ] && [ -s err ] && [ ! -e z.onnx ]"
"$EOS" meta "$D/resnet_block/model.onnx" -o m/notask.onnx --set eosight.classes=$C10 2>/dev/null
run classify scene.tif --model notask
check "a model without eosight.task: exit 1, says what to add" bash -c \
    "[ $rc -eq 1 ] && grep -q 'eosight.task' err"

summary
