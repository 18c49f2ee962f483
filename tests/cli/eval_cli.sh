#!/bin/bash
# `eosight eval` end to end on synthetic datasets made here with gdal_create, scored by two tiny
# ONNX models written with the onnx Python package, whose predictions are known by hand:
#   gap.onnx    GlobalAveragePool + Flatten: an image's logits are its band means, so it is
#               predicted as the class of its brightest band
#   point.onnx  a 1x1 identity convolution: each pixel is predicted as its brightest band
# classify: 4 constant images, one of them wrong -> accuracy 0.75. segment: a 40 x 40 image
# whose band 2 is brightest everywhere (class g), mask g except a 20 x 20 block of r -> pixel
# accuracy 0.75, IoU g 0.75, r 0, b undefined -> mIoU 0.375; with --ignore-class r: 1.
# $1 is the built eosight command.
set -u
EOS="$1"
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
skip() { echo "SKIP: $1"; echo "0 passed, 0 failed, 1 skipped"; exit 77; }
if ! command -v gdal_create >/dev/null || "$EOS" eval --help 2>&1 | grep -q "without GDAL"; then
    skip "needs GDAL (gdal_create, EOS_WITH_GDAL)"
fi
PY=""
for p in /usr/bin/python3 python3; do
    if "$p" -c "import onnx" 2>/dev/null; then PY="$p"; break; fi
done
[ -n "$PY" ] || skip "needs Python with the onnx package to write the test models"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# ---------------------------------------------------------------- models
"$PY" - "$tmp" <<'PYTHON' || { echo "FAIL writing the models"; exit 1; }
import sys
import onnx
from onnx import TensorProto, helper

def save(path, nodes, out_shape, meta, inits=()):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "H", "W"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)
    g = helper.make_graph(nodes, "g", [x], [y], initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    helper.set_model_props(m, meta)
    onnx.save(m, path)

d = sys.argv[1]
cls = {"eosight.task": "classification", "eosight.classes": "a,b,c", "eosight.bands": "r,g,b",
       "eosight.input_size": "8,8"}
gap = [helper.make_node("GlobalAveragePool", ["x"], ["p"]), helper.make_node("Flatten", ["p"], ["y"])]
save(d + "/gap.onnx", gap, ["N", 3], cls)
save(d + "/gap_wrong.onnx", gap, ["N", 3], dict(cls, **{"eosight.classes": "a,b,sea"}))
eye = helper.make_tensor("w", TensorProto.FLOAT, [3, 3, 1, 1], [1, 0, 0, 0, 1, 0, 0, 0, 1])
save(d + "/point.onnx", [helper.make_node("Conv", ["x", "w"], ["y"])], ["N", 3, "H", "W"],
     {"eosight.task": "segmentation", "eosight.classes": "r,g,b"}, [eye])
PYTHON

# ---------------------------------------------------------------- classify dataset
C="$tmp/cls"
mkdir -p "$C/images/a" "$C/images/b" "$C/images/c"
printf 'a\nb\nc\n' > "$C/classes.txt"
img() { # img PATH V1 V2 V3: a constant 16 x 16 Float32 image
    gdal_create -q -of GTiff -outsize 16 16 -bands 3 -ot Float32 -burn "$2" -burn "$3" -burn "$4" "$1"
}
img "$C/images/a/0.tif" 5 1 1     # -> a
img "$C/images/a/1.tif" 1 5 1     # -> b (wrong)
img "$C/images/b/0.tif" 0 3 1     # -> b
img "$C/images/c/0.tif" 1 0 9     # -> c
mkdir -p "$C/splits"; printf 'a/0.tif\nc/0.tif\n' > "$C/splits/val.txt"

"$EOS" eval --model "$tmp/gap.onnx" --data "$C" --json > "$tmp/cls.json" 2> "$tmp/cls.err"
check "classify: exits 0" [ $? -eq 0 ]
check "classify: one JSON object" bash -c "[ \$(wc -l < '$tmp/cls.json') -eq 1 ] && grep -q '^{.*}\$' '$tmp/cls.json'"
check "classify: task" grep -q '"task":"classify"' "$tmp/cls.json"
check "classify: 4 items" grep -q '"items":4' "$tmp/cls.json"
check "classify: accuracy 0.75" grep -Eq '"accuracy": *0\.75[,}]' "$tmp/cls.json"
"$EOS" eval --model "$tmp/gap.onnx" --data "$C" --split val --tta8 --json > "$tmp/val.json" 2>/dev/null
check "classify: --split val has 2 items, both right" \
    bash -c "grep -q '\"items\":2' '$tmp/val.json' && grep -Eq '\"accuracy\": *1(\.0*)?[,}]' '$tmp/val.json'"
"$EOS" eval --model "$tmp/gap.onnx" --data "$C" --max-items 1 --batch 1 --quiet > "$tmp/cls.txt" 2>&1
check "classify: table output exits 0" [ $? -eq 0 ]
check "classify: table names the classes and accuracy" \
    bash -c "grep -q accuracy '$tmp/cls.txt' && grep -qw a '$tmp/cls.txt'"
check "classify: --max-items 1" grep -q "1 item in" "$tmp/cls.txt"

"$EOS" eval --model "$tmp/gap_wrong.onnx" --data "$C" > /dev/null 2> "$tmp/wrong.err"
check "class mismatch: exit 1" [ $? -eq 1 ]
check "class mismatch: names the class" grep -q "'sea'" "$tmp/wrong.err"

# ---------------------------------------------------------------- segment dataset
S="$tmp/seg"
mkdir -p "$S/images" "$S/masks"
printf 'r\ng\nb\n' > "$S/classes.txt"
gdal_create -q -of GTiff -outsize 40 40 -bands 3 -ot Float32 -burn 1 -burn 2 -burn 0 "$S/images/s.tif"
gdal_create -q -of GTiff -outsize 40 40 -bands 1 -ot Byte -burn 1 -a_ullr 0 40 40 0 "$tmp/mask.tif"
cat > "$tmp/block.csv" <<'CSV'
WKT,id
"POLYGON((0 40,20 40,20 20,0 20,0 40))",1
CSV
gdal_rasterize -q -burn 0 -l block "$tmp/block.csv" "$tmp/mask.tif" 2>/dev/null
gdal_translate -q -of PNG "$tmp/mask.tif" "$S/masks/s.png"

"$EOS" eval --model "$tmp/point.onnx" --data "$S" --tile 32 --overlap 8 --json > "$tmp/seg.json" 2> "$tmp/seg.err"
check "segment: exits 0" [ $? -eq 0 ]
check "segment: pixel accuracy 0.75" grep -Eq '"pixel_accuracy": *0\.75[,}]' "$tmp/seg.json"
check "segment: mIoU 0.375" grep -Eq '"miou": *0\.375[,}]' "$tmp/seg.json"
"$EOS" eval --model "$tmp/point.onnx" --data "$S" --ignore-class r --tta --json > "$tmp/ign.json" 2>/dev/null
check "segment: --ignore-class r gives mIoU 1" grep -Eq '"miou": *1(\.0*)?[,}]' "$tmp/ign.json"
"$EOS" eval --model "$tmp/point.onnx" --data "$S" --ignore-class sky > /dev/null 2> "$tmp/sky.err"
check "unknown --ignore-class: exit 1, names it" bash -c "[ $? -eq 1 ] && grep -q sky '$tmp/sky.err'"
"$EOS" eval --model "$tmp/gap.onnx" --data "$S" > /dev/null 2> "$tmp/task.err"
check "classification model on a segmentation dataset: exit 1" [ $? -eq 1 ]

# ---------------------------------------------------------------- usage
"$EOS" eval --help > "$tmp/help.txt" 2>&1
check "--help exits 0" [ $? -eq 0 ]
check "--help explains the layouts" grep -q "masks/<name>.png" "$tmp/help.txt"
"$EOS" eval --model "$tmp/gap.onnx" > /dev/null 2>&1
check "missing --data: exit 2" [ $? -eq 2 ]
"$EOS" eval --model "$tmp/gap.onnx" --data "$C" --batch 0 > /dev/null 2>&1
check "bad --batch: exit 2" [ $? -eq 2 ]
"$EOS" eval --model "$tmp/missing.onnx" --data "$C" > /dev/null 2> "$tmp/miss.err"
check "missing model: exit 1" [ $? -eq 1 ]
"$EOS" eval --model "$tmp/gap.onnx" --data "$tmp/nowhere" > /dev/null 2> "$tmp/nodata.err"
check "missing dataset: exit 1, names it" bash -c "[ $? -eq 1 ] && grep -q nowhere '$tmp/nodata.err'"
"$EOS" --help | grep -q "eval"; check "eosight --help lists eval" [ $? -eq 0 ]

summary
