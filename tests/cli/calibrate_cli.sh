#!/bin/bash
# `eosight calibrate` end to end: a tiny CloudNet trained here on two classes of 16x16 PNGs
# (made with gdal_create) is calibrated for out-of-distribution scores; the calibrated model
# (a second output "features", eosight.ood.* keys) must still work everywhere a model is used:
# `eosight eval` gives the same report, `eosight run` the same logits bytes plus the features,
# `eosight train --init` fine-tunes it (dropping the features output and the ood keys), and
# `eosight inspect` shortens the long matrix keys. Bad usage is exit 2, missing data exit 1.
# $1 is the built eosight command.
set -u
EOS="$1"
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
skip() { echo "SKIP: $1"; echo "0 passed, 0 failed, 1 skipped"; exit 77; }
if ! command -v gdal_create >/dev/null || "$EOS" calibrate --help 2>&1 | grep -q "without GDAL"; then
    skip "needs GDAL (gdal_create, EOS_WITH_GDAL)"
fi
command -v python3 >/dev/null || skip "needs python3 to write the .npy input"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
d="$tmp/ds"
make_redblue_dataset "$d"
"$EOS" train --task classify --data "$d" --arch cloudnet --width 8 --batch 4 --lr 5e-3 \
    --threads 1 --quiet --epochs 6 --out "$tmp/a.onnx" 2> "$tmp/train.err"
check "train exits 0" [ $? -eq 0 ]

"$EOS" calibrate --help > /dev/null 2>&1; check "calibrate --help exits 0" [ $? -eq 0 ]
"$EOS" calibrate --model "$tmp/a.onnx" --data "$d" 2> /dev/null
check "calibrate without --out exits 2" [ $? -eq 2 ]
"$EOS" calibrate --model "$tmp/a.onnx" --data "$d" --out "$tmp/c.onnx" --quantile 2 2> /dev/null
check "--quantile 2 exits 2" [ $? -eq 2 ]
"$EOS" calibrate --model "$tmp/a.onnx" --data "$d" --out "$tmp/c.onnx" --split nope --quiet 2> "$tmp/err.txt"
check "a missing split exits 1" [ $? -eq 1 ]
check "message names the split" grep -q "nope" "$tmp/err.txt"

"$EOS" calibrate --model "$tmp/a.onnx" --data "$d" --out "$tmp/c.onnx" --threads 1 --quiet \
    > "$tmp/cal.txt" 2> "$tmp/cal.err"
check "calibrate exits 0" [ $? -eq 0 ]
check "summary: feature output" grep -q "output 'features'" "$tmp/cal.txt"
check "summary: centroids of both classes from 12 items" grep -q "centroids  2 of 2 classes.*12 items" "$tmp/cal.txt"
check "summary: flagged share of val" grep -q "flagged .* of split 'val'" "$tmp/cal.txt"
"$EOS" calibrate --model "$tmp/a.onnx" --data "$d" --out "$tmp/c2.onnx" --threads 1 --quiet \
    --json > "$tmp/cal.json" 2> /dev/null
check "--json: one object with held_flagged" grep -q '^{.*"held_flagged":.*}$' "$tmp/cal.json"
check "same model twice, same bytes" cmp -s "$tmp/c.onnx" "$tmp/c2.onnx"

"$EOS" inspect "$tmp/c.onnx" > "$tmp/inspect.txt" 2>&1
check "inspect: output 1 is features" grep -q "^output 1: features" "$tmp/inspect.txt"
check "inspect: ood keys" grep -q "eosight.ood.threshold = 1" "$tmp/inspect.txt"
check "inspect: training keys kept" grep -q "eosight.train.command" "$tmp/inspect.txt"

"$EOS" eval --model "$tmp/a.onnx" --data "$d" --split val --threads 1 --quiet --json > "$tmp/e1.json"
"$EOS" eval --model "$tmp/c.onnx" --data "$d" --split val --threads 1 --quiet --json > "$tmp/e2.json"
check "eval of the calibrated model exits 0" [ $? -eq 0 ]
acc() { grep -o '"accuracy":[0-9.]*' "$1" | head -1; }
check "eval: same accuracy ($(acc "$tmp/e2.json"))" [ -n "$(acc "$tmp/e1.json")" -a "$(acc "$tmp/e1.json")" = "$(acc "$tmp/e2.json")" ]

python3 - "$tmp/x.npy" <<'PYTHON'
import struct, sys
shape = (2, 3, 16, 16)
hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 16, 16), }"
hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
n = 2 * 3 * 16 * 16
vals = [((i * 7919) % 255) / 25.5 - 5.0 for i in range(n)]
with open(sys.argv[1], "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
    f.write(struct.pack("<%df" % n, *vals))
PYTHON
mkdir -p "$tmp/r1" "$tmp/r2"
"$EOS" run "$tmp/a.onnx" --input "$tmp/x.npy" --output-dir "$tmp/r1" --threads 1 --quiet > /dev/null
"$EOS" run "$tmp/c.onnx" --input "$tmp/x.npy" --output-dir "$tmp/r2" --threads 1 --quiet > "$tmp/run.txt"
check "run of the calibrated model exits 0" [ $? -eq 0 ]
check "run: same logits bytes" cmp -s "$tmp/r1/logits.npy" "$tmp/r2/logits.npy"
check "run: features written" [ -s "$tmp/r2/features.npy" ]

"$EOS" train --task classify --data "$d" --init "$tmp/c.onnx" --batch 4 --lr 1e-3 --threads 1 \
    --quiet --epochs 1 --out "$tmp/f.onnx" 2> "$tmp/ft.err"
check "train --init of the calibrated model exits 0" [ $? -eq 0 ]
"$EOS" inspect "$tmp/f.onnx" > "$tmp/f.txt" 2>&1
check "fine-tuned model: one output" [ "$(grep -c '^output' "$tmp/f.txt")" -eq 1 ]
check "fine-tuned model: no stale ood keys" [ "$(grep -c 'eosight.ood' "$tmp/f.txt")" -eq 0 ]

summary
