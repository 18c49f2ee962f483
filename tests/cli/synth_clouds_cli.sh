#!/bin/bash
# `eosight synth-clouds` end to end on a tiny source ImageFolder made here with gdal_create (two
# classes of 24x24 RGB PNGs with a pattern burnt in, train/val/test splits whose test images
# have their own names). Checks: the output layout `eosight train --task classify` reads
# (classes.txt, splits, every listed PNG present, 3 bands of 24x24), balanced classes, labels
# that agree with the cloud fraction in fractions.tsv and the threshold, test composites made
# only from test-split sources and train composites only from train-split ones, the same seed
# giving the same bytes, refusal of a non-empty output folder without --force, clear errors for
# 16-bit sources and a missing split, and that `eosight train --max-steps 2 --meta
# eosight.task=cloud` accepts the output and writes the task into the model.
# $1 is the built eosight command.
set -u
EOS="$1"
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
if ! command -v gdal_create >/dev/null || ! command -v gdalinfo >/dev/null ||
   "$EOS" synth-clouds --source "$(mktemp -u)" --out "$(mktemp -u)" 2>&1 | grep -q "without GDAL"; then
    echo "SKIP: needs GDAL (gdal_create, gdalinfo, EOS_WITH_GDAL)"; echo "0 passed, 0 failed, 1 skipped"; exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# ---------------------------------------------------------------- source dataset
src="$tmp/src"
mkdir -p "$src/images/field" "$src/images/water" "$src/splits"
printf '0 field\n1 water\n' > "$src/classes.txt"
for i in 0 1 2 3 4 5 6 7 8 9; do
    v=$((40 + i * 8))
    case $i in 8|9) s=test; n=t$i ;; 6|7) s=val; n=v$i ;; *) s=train; n=r$i ;; esac
    gdal_create -q -of PNG -outsize 24 24 -bands 3 -ot Byte -burn $v -burn $((v + 30)) -burn 35 "$src/images/field/$n.png"
    gdal_create -q -of PNG -outsize 24 24 -bands 3 -ot Byte -burn 20 -burn 40 -burn $((v + 20)) "$src/images/water/$n.png"
    echo "field/$n.png 0" >> "$src/splits/$s.txt"
    echo "water/$n.png 1" >> "$src/splits/$s.txt"
done

# ---------------------------------------------------------------- usage
"$EOS" synth-clouds --help > "$tmp/help.txt" 2>&1
check "--help exits 0" [ $? -eq 0 ]
check "--help explains the threshold" grep -q -- "--threshold T" "$tmp/help.txt"
"$EOS" synth-clouds --out "$tmp/o" 2> "$tmp/err.txt"
check "no --source: exit 2" [ $? -eq 2 ]
"$EOS" synth-clouds --source "$src" --out "$tmp/o" --threshold 2 2> "$tmp/err.txt"
check "bad --threshold: exit 2" [ $? -eq 2 ]
"$EOS" synth-clouds --source "$src" --out "$tmp/o" --bogus 2> "$tmp/err.txt"
check "unknown option: exit 2" [ $? -eq 2 ]

# ---------------------------------------------------------------- a dataset
out="$tmp/out"
"$EOS" synth-clouds --source "$src" --out "$out" --train 40 --val 10 --test 12 --seed 3 --quiet 2> "$tmp/err.txt"
check "synth-clouds exits 0" [ $? -eq 0 ]
check "classes.txt is clear, cloudy" [ "$(cat "$out/classes.txt")" = "$(printf 'clear\ncloudy')" ]
check "split sizes 40/10/12" [ "$(wc -l < "$out/splits/train.txt")" -eq 40 -a \
    "$(wc -l < "$out/splits/val.txt")" -eq 10 -a "$(wc -l < "$out/splits/test.txt")" -eq 12 ]
missing=0
for f in $(cut -d' ' -f1 "$out/splits/"*.txt); do [ -f "$out/images/$f" ] || missing=$((missing + 1)); done
check "every listed image exists" [ $missing -eq 0 ]
check "62 PNGs written" [ "$(find "$out/images" -name '*.png' | wc -l)" -eq 62 ]
check "no sidecar files" [ "$(find "$out/images" -type f ! -name '*.png' | wc -l)" -eq 0 ]
first="$out/images/$(head -1 "$out/splits/train.txt" | cut -d' ' -f1)"
check "a PNG of 3 bands, 24x24" sh -c "gdalinfo '$first' | grep -q 'Size is 24, 24' && [ \$(gdalinfo '$first' | grep -c '^Band ') -eq 3 ]"
check "balanced train split" [ "$(grep -c ' 1$' "$out/splits/train.txt")" -eq 20 ]
check "class folder matches the index" [ "$(grep -cv -e '^clear/.* 0$' -e '^cloudy/.* 1$' "$out/splits/train.txt")" -eq 0 ]
check "fractions.tsv: header + 62 rows" [ "$(wc -l < "$out/fractions.tsv")" -eq 63 ]
bad=$(awk -F'\t' 'NR > 1 && (($5 == "cloudy") != ($2 >= 0.1)) { n++ } END { print n + 0 }' "$out/fractions.tsv")
check "labels agree with cloud fraction >= 0.1" [ "$bad" -eq 0 ]
check "some clear images hold small clouds" [ "$(awk -F'\t' '$5 == "clear" && $2 > 0' "$out/fractions.tsv" | wc -l)" -gt 0 ]
check "some clear images are haze only" [ "$(awk -F'\t' '$5 == "clear" && $2 == 0 && $3 > 0' "$out/fractions.tsv" | wc -l)" -gt 0 ]
check "test composites only from test sources" [ "$(awk -F'\t' '$6 == "test" && $7 !~ /\/t[0-9]\.png$/' "$out/fractions.tsv" | wc -l)" -eq 0 ]
check "train composites only from train sources" [ "$(awk -F'\t' '$6 == "train" && $7 !~ /\/r[0-9]\.png$/' "$out/fractions.tsv" | wc -l)" -eq 0 ]
check "README.md written" grep -q "synthetic" "$out/README.md"

# ---------------------------------------------------------------- repeatable, no overwrite
"$EOS" synth-clouds --source "$src" --out "$out" --train 40 --val 10 --test 12 --seed 3 --quiet 2> "$tmp/err.txt"
check "non-empty output refused: exit 1" [ $? -eq 1 ]
check "message says not empty and --force" grep -q "not empty.*--force" "$tmp/err.txt"
sums() { (cd "$1" && find . -type f ! -name README.md | sort | xargs md5sum); }
sums "$out" > "$tmp/a.sum"
"$EOS" synth-clouds --source "$src" --out "$out" --train 40 --val 10 --test 12 --seed 3 --quiet --force 2> "$tmp/err.txt"
check "--force exits 0" [ $? -eq 0 ]
sums "$out" > "$tmp/b.sum"
check "same seed, same bytes" cmp -s "$tmp/a.sum" "$tmp/b.sum"
"$EOS" synth-clouds --source "$src" --out "$tmp/out4" --train 40 --val 0 --test 0 --seed 4 --quiet 2> /dev/null
check "another seed, other images" sh -c "! cmp -s '$out/fractions.tsv' '$tmp/out4/fractions.tsv'"
check "--val 0 leaves the split out" [ ! -e "$tmp/out4/splits/val.txt" ]
"$EOS" synth-clouds --source "$src" --out "$tmp/out5" --train 30 --val 0 --test 0 --threshold 0.3 --cloudy-share 0.2 --quiet 2> /dev/null
bad=$(awk -F'\t' 'NR > 1 && (($5 == "cloudy") != ($2 >= 0.3)) { n++ } END { print n + 0 }' "$tmp/out5/fractions.tsv")
check "--threshold 0.3: labels agree" [ "$bad" -eq 0 ]
check "--cloudy-share 0.2: 6 of 30 cloudy" [ "$(grep -c ' 1$' "$tmp/out5/splits/train.txt")" -eq 6 ]

# ---------------------------------------------------------------- bad sources
s16="$tmp/s16"
mkdir -p "$s16/images/a" "$s16/splits"
gdal_create -q -of GTiff -outsize 8 8 -bands 3 -ot UInt16 -burn 1000 "$s16/images/a/x.tif"
echo "a/x.tif" > "$s16/splits/train.txt"
"$EOS" synth-clouds --source "$s16" --out "$tmp/o16" --train 2 --val 0 --test 0 --quiet 2> "$tmp/err.txt"
check "16-bit source: exit 1" [ $? -eq 1 ]
check "message names the image and 8-bit" grep -q "a/x.tif.*8-bit" "$tmp/err.txt"
"$EOS" synth-clouds --source "$s16" --out "$tmp/o17" --train 0 --val 0 --test 2 --quiet 2> "$tmp/err.txt"
check "missing test split: exit 1" [ $? -eq 1 ]
check "message names the split" grep -q "test" "$tmp/err.txt"
check "a bad source leaves no output folder" [ ! -e "$tmp/o16" -a ! -e "$tmp/o17" ]

# ---------------------------------------------------------------- eosight train accepts it
"$EOS" train --task classify --data "$out" --out "$tmp/c.onnx" --arch cloudnet --width 8 --batch 4 \
    --threads 1 --max-steps 2 --quiet --meta eosight.task=cloud 2> "$tmp/train.err"
check "eosight train --max-steps 2 on the output exits 0" [ $? -eq 0 ]
"$EOS" inspect "$tmp/c.onnx" > "$tmp/inspect.txt" 2>&1
check "--meta eosight.task=cloud replaces the task" grep -q "eosight.task = cloud" "$tmp/inspect.txt"
check "... and only once" [ "$(grep -c "eosight.task =" "$tmp/inspect.txt")" -eq 1 ]
check "classes clear,cloudy" grep -q "eosight.classes = clear,cloudy" "$tmp/inspect.txt"
"$EOS" eval --model "$tmp/c.onnx" --data "$out" --split test > /dev/null 2> "$tmp/eval.err"
check "eosight eval takes the cloud model on the test split" [ $? -eq 0 ]
"$EOS" train --task classify --data "$out" --out "$tmp/d.onnx" --meta novalue 2> "$tmp/err.txt"
check "--meta without '=': exit 2" [ $? -eq 2 ]

summary
