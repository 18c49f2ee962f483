#!/bin/bash
# `eosight train` and `eosight eval` end to end on a tiny dataset made here with gdal_create:
# two classes of 16x16 PNGs (reddish / bluish, 8 each, brightness varying), split files.
# Checks: training converges to 100 % validation accuracy and `eosight eval` agrees; the same
# seed gives the same loss curve twice; an interrupted run resumed with --resume ends with the
# same checkpoint bytes as an uninterrupted one; bad usage and missing data are clear errors.
# $1 is the built eosight command.
set -u
EOS="$1"
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
if ! command -v gdal_create >/dev/null || "$EOS" train --help 2>&1 | grep -q "without GDAL"; then
    echo "SKIP: needs GDAL (gdal_create, EOS_WITH_GDAL)"; echo "0 passed, 0 failed, 1 skipped"; exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
d="$tmp/ds"
make_redblue_dataset "$d"
common=(--task classify --data "$d" --arch cloudnet --width 8 --batch 4 --lr 5e-3 --threads 1 --quiet)

"$EOS" train --help > /dev/null 2>&1; check "train --help exits 0" [ $? -eq 0 ]
"$EOS" train --data "$d" --out "$tmp/x.onnx" 2> "$tmp/err.txt"
check "train without --task exits 2" [ $? -eq 2 ]
"$EOS" train --task classify --data "$tmp/nope" --out "$tmp/x.onnx" --quiet 2> "$tmp/err.txt"
check "train on a missing folder exits 1" [ $? -eq 1 ]
check "message names the folder" grep -q "nope" "$tmp/err.txt"

"$EOS" train "${common[@]}" --epochs 12 --out "$tmp/a.onnx" 2> "$tmp/a.err"
check "train exits 0" [ $? -eq 0 ]
check "model written" [ -s "$tmp/a.onnx" ]
check "checkpoint written" [ -s "$tmp/a.onnx.ckpt" ]
check "log has 12 epoch lines" [ "$(grep -c '"event":"epoch"' "$tmp/a.onnx.log.jsonl")" -eq 12 ]
best=$(grep -o '"best":[0-9.]*' "$tmp/a.onnx.log.jsonl" | tail -1 | cut -d: -f2)
check "validation reaches 100 % ($best)" [ "$best" = "1.000000" ]
"$EOS" eval --model "$tmp/a.onnx" --data "$d" --split val --json > "$tmp/eval.json" 2> "$tmp/eval.err"
check "eval exits 0" [ $? -eq 0 ]
check "eval accuracy 1" grep -q '"accuracy":1[,.}]' "$tmp/eval.json"
"$EOS" inspect "$tmp/a.onnx" > "$tmp/inspect.txt" 2>&1
check "metadata: task" grep -q "eosight.task.*classification" "$tmp/inspect.txt"
check "metadata: classes" grep -q "eosight.classes.*red,blue" "$tmp/inspect.txt"
check "metadata: norm" grep -q "eosight.norm.mean" "$tmp/inspect.txt"
check "metadata: command" grep -q "eosight.train.command" "$tmp/inspect.txt"

# an epoch line for every epoch, validated or not
"$EOS" train "${common[@]}" --epochs 4 --val-every 3 --out "$tmp/v.onnx" 2> /dev/null
check "--val-every 3: 4 epoch lines, 2 with val_score" \
    [ "$(grep -c '"event":"epoch"' "$tmp/v.onnx.log.jsonl")" -eq 4 -a "$(grep -c '"val_score"' "$tmp/v.onnx.log.jsonl")" -eq 2 ]

# same seed, same curve
"$EOS" train "${common[@]}" --epochs 12 --out "$tmp/b.onnx" 2> /dev/null
curve() { grep -o '"train_loss":[-0-9.e]*,"train_metric":[-0-9.e]*' "$1"; }
check "same seed, same loss curve" cmp -s <(curve "$tmp/a.onnx.log.jsonl") <(curve "$tmp/b.onnx.log.jsonl")
check "same seed, same checkpoint bytes" cmp -s "$tmp/a.onnx.ckpt" "$tmp/b.onnx.ckpt"

# interrupted after 5 epochs, resumed to 12: same checkpoint as the straight run (constant
# learning rate, so the schedule does not depend on --epochs)
"$EOS" train "${common[@]}" --sched constant --lr 2e-3 --epochs 12 --out "$tmp/c.onnx" 2> /dev/null
"$EOS" train "${common[@]}" --sched constant --lr 2e-3 --epochs 5 --out "$tmp/d.onnx" 2> /dev/null
"$EOS" train "${common[@]}" --sched constant --lr 2e-3 --epochs 12 --out "$tmp/d.onnx" --resume 2> "$tmp/r.err"
check "resume exits 0" [ $? -eq 0 ]
check "resumed run ends with the same checkpoint" cmp -s "$tmp/c.onnx.ckpt" "$tmp/d.onnx.ckpt"
printf 'garbage' > "$tmp/e.onnx.ckpt"
"$EOS" train "${common[@]}" --epochs 2 --out "$tmp/e.onnx" --resume 2> "$tmp/e.err"
check "a corrupt checkpoint is refused (exit 1)" [ $? -eq 1 ]
check "message says checkpoint" grep -qi "checkpoint" "$tmp/e.err"

summary
