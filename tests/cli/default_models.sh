#!/bin/bash
# tests/cli/default_models.sh EOSIGHT - the default models of models/ reproduce the metrics of
# their cards (models/expected-metrics.tsv) under `eosight eval`, on ../shared/data. Each row
# is skipped, with a line saying why, when its data (users' clones have no ../shared) or its
# model file is missing; the whole script is skipped under sanitizers (EOS_SANITIZED=1), where
# it would take too long. Scores must agree to 0.002 (a few images or pixels: thread counts
# change float rounding in oneDNN). The cloud model's held-out composites are remade from the
# EuroSAT test images with `eosight synth-clouds` (the same seed gives the same images).
EOS="$1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SHARED="${EOS_SHARED:-$ROOT/../shared}"
# shellcheck source=tests/cli/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
skipped=0
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if [ "${EOS_SANITIZED:-0}" = 1 ]; then
    echo "SKIP default models: not run under sanitizers (minutes of inference)"
    exit 77
fi
while IFS=$'\t' read -r model data split args want; do
    case "$model" in ''|'#'*) continue ;; esac
    [ "$args" = "-" ] && args=""
    dir="$SHARED/data/$data"
    src="$dir"
    [ "$data" = "clouds-data" ] && src="$SHARED/data/eurosat-rgb"
    if [ ! -d "$src" ]; then
        echo "SKIP $model: needs $src (../shared/data is not present in this checkout)"
        skipped=$((skipped + 1)); continue
    fi
    if [ ! -f "$ROOT/models/$model.onnx" ]; then
        echo "SKIP $model: models/$model.onnx is absent (scripts/train-models.sh makes it)"
        skipped=$((skipped + 1)); continue
    fi
    if [ "$data" = "clouds-data" ]; then   # the held-out composites, remade (same seed)
        dir="$tmp/clouds-data"
        [ -d "$dir" ] || "$EOS" synth-clouds --source "$src" --out "$dir" --train 0 --val 0 \
            --test 3000 --seed 1 --quiet
    fi
    # shellcheck disable=SC2086
    got=$("$EOS" eval --model "$ROOT/models/$model.onnx" --data "$dir" --split "$split" $args \
          --json --quiet | grep -o '"score":[0-9.e+-]*' | head -1 | cut -d: -f2)
    echo "$model: $split score $got (card: $want)"
    check "$model reproduces its card's $split score" \
        awk -v g="${got:-nan}" -v w="$want" 'BEGIN { d = g - w; exit !(g == g + 0 && d < 0.002 && d > -0.002) }'
done < "$ROOT/models/expected-metrics.tsv"
echo "$passed passed, $fail failed, $skipped skipped"
[ $fail -eq 0 ] || exit 1
[ $passed -gt 0 ] || exit 77   # nothing could run: ctest shows the script as skipped
