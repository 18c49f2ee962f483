#!/bin/bash
# CLI plumbing: `eosight run` writes every output as .npy, `eosight bench` prints one JSON line,
# and bad usage or bad files give clear messages and the documented exit codes (0 ok, 1 failure,
# 2 usage). Numerical correctness is covered by tests/models. $1 is the built eosight command.
set -u
EOS="$1"
DATA="tests/data/models/resnet_block"
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
if [ ! -f "$DATA/model.onnx" ]; then
    echo "SKIP: $DATA/model.onnx missing (generate with tools/gen_golden.py)"; echo "0 passed, 0 failed, 1 skipped"; exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

"$EOS" --help > "$tmp/help.txt"; check "help lists run and bench" grep -q "bench" "$tmp/help.txt"
"$EOS" run "$DATA/model.onnx" --input "$DATA/input.npy" --output-dir "$tmp/out" > "$tmp/run.txt" 2>&1
rc=$?
check "run exits 0" [ $rc -eq 0 ]
n_out=$(ls "$tmp/out"/*.npy 2>/dev/null | wc -l)
check "run writes an .npy per output" [ "$n_out" -ge 1 ]
f=$(ls "$tmp/out"/*.npy 2>/dev/null | head -1)
check "output is a .npy file" bash -c "head -c 6 '$f' | grep -q NUMPY"
# input by name
name=$("$EOS" inspect "$DATA/model.onnx" | awk '/^input  0:/ {print $3}')
"$EOS" run "$DATA/model.onnx" --input "$name=$DATA/input.npy" --output-dir "$tmp/out2" >/dev/null 2>&1
check "run accepts NAME=file" cmp -s "$f" "$tmp/out2/$(basename "$f")"
# errors
"$EOS" run "$DATA/model.onnx" --output-dir "$tmp/o3" 2> "$tmp/err1.txt"; rc=$?
check "missing input: exit 2" [ $rc -eq 2 ]
check "missing input: lists the inputs" grep -q "input 0" "$tmp/err1.txt"
"$EOS" run "$DATA/model.onnx" --input nosuch=x.npy --output-dir "$tmp/o3" 2> "$tmp/err2.txt"; rc=$?
check "unknown input name: exit 2" [ $rc -eq 2 ]
head -c 100 /dev/urandom > "$tmp/bad.onnx"
"$EOS" run "$tmp/bad.onnx" --input "$DATA/input.npy" --output-dir "$tmp/o4" 2> "$tmp/err3.txt"; rc=$?
check "garbage model: exit 1" [ $rc -eq 1 ]
check "garbage model: names the file" grep -q "bad.onnx" "$tmp/err3.txt"
printf 'not numpy' > "$tmp/bad.npy"
"$EOS" run "$DATA/model.onnx" --input "$tmp/bad.npy" --output-dir "$tmp/o5" 2> "$tmp/err4.txt"; rc=$?
check "garbage input: exit 1 with npy message" bash -c "[ $rc -eq 1 ] && grep -q npy '$tmp/err4.txt'"
"$EOS" frobnicate 2>/dev/null; rc=$?
check "unknown command: exit 2" [ $rc -eq 2 ]
# bench JSON
"$EOS" bench "$DATA/model.onnx" --batch 2 --threads 1 --runs 3 --warmup 1 > "$tmp/bench.txt" 2>&1; rc=$?
check "bench exits 0" [ $rc -eq 0 ]
check "bench prints median_ms and img_per_s" bash -c "grep -q '\"median_ms\"' '$tmp/bench.txt' && grep -q '\"img_per_s\"' '$tmp/bench.txt' && grep -q '\"batch\":2' '$tmp/bench.txt'"
EOS_BACKEND=ref "$EOS" bench "$DATA/model.onnx" --runs 2 --warmup 0 > "$tmp/bench2.txt" 2>&1
check "EOS_BACKEND=ref forces ref" grep -q '"backend":"ref"' "$tmp/bench2.txt"
EOS_BACKEND=bogus "$EOS" bench "$DATA/model.onnx" --runs 1 > /dev/null 2>&1; rc=$?
check "EOS_BACKEND=bogus is refused" [ $rc -ne 0 ]
summary
