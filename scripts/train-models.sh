#!/bin/bash
# scripts/train-models.sh - (re)train the models of models/README.md from ../shared/data with
# this checkout's eosight, exactly as their model cards say, and copy each into models/.
#
#   scripts/train-models.sh eurosat|ucmerced|ucmerced-tagger|seg-dubai|all [--threads N]
#
# The ResNet-18 models (45 MB each) are not kept in git: this script makes them (hours on
# 2 cores; see each card for the time). Work, checkpoints and logs go to
# ${EOS_RUNS:-~/eosight-runs}/<name>; a run that was interrupted resumes from its checkpoint.
# Then the model is scored with `eosight eval` on the split its card reports.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$(cd "$ROOT/.." && pwd)/shared/data"
RUNS="${EOS_RUNS:-$HOME/eosight-runs}"
EOS="$ROOT/build/eosight"
which="${1:-}"; shift || true
threads=2
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) threads="$2"; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
[ -d "$DATA" ] || { echo "needs $DATA (../shared/data)" >&2; exit 1; }
[ -x "$EOS" ] || make -C "$ROOT" build >/dev/null

# train NAME OUT.onnx EVAL-ARGS -- TRAIN-ARGS...
train() {
    local name="$1" out="$2" eval_args="$3"; shift 4
    mkdir -p "$RUNS/$name"
    local resume=()
    [ -f "$RUNS/$name/$out.ckpt" ] && resume=(--resume)
    (cd "$RUNS/$name" && "$EOS" train "$@" --threads "$threads" --seed 1 --out "$out" "${resume[@]}")
    cp "$RUNS/$name/$out" "$ROOT/models/$out"
    # shellcheck disable=SC2086
    "$EOS" eval --model "$ROOT/models/$out" $eval_args --threads "$threads"
}

case "$which" in
eurosat|all)
    train eurosat eurosat_resnet18.onnx "--data $DATA/eurosat-rgb --split test --tta" -- \
        --task classify --data "$DATA/eurosat-rgb" --arch resnet18 --stem s2 --epochs 20 \
        --batch 64 --lr 2e-3 --wd 0.05 --label-smoothing 0.1 --tta --val-every 2 ;;&
ucmerced|all)
    train ucmerced ucmerced_resnet18.onnx "--data $DATA/ucmerced --split val --tta" -- \
        --task classify --data "$DATA/ucmerced" --arch resnet18 --stem imagenet --size 128 \
        --epochs 60 --batch 32 --lr 2e-3 --wd 0.05 --label-smoothing 0.1 --tta --val-every 4 ;;&
ucmerced-tagger|all)
    train ucmerced-tagger ucmerced_tagger_resnet18.onnx "--data $DATA/ucmerced --split val --tta" -- \
        --task tag --data "$DATA/ucmerced" --arch resnet18 --stem imagenet --size 128 \
        --epochs 40 --batch 32 --lr 2e-3 --wd 0.05 --tta --val-every 4 ;;&
seg-dubai|all)
    train seg-dubai seg_dubai_unet16.onnx \
        "--data $DATA/seg-dubai --split test --ignore-class Unlabeled --tta" -- \
        --task segment --data "$DATA/seg-dubai" --arch unet --base 16 --size 256 --patches 1000 \
        --epochs 16 --batch 8 --lr 2e-3 --wd 0.01 --ignore-class Unlabeled --val-every 8 ;;
eurosat|ucmerced|ucmerced-tagger) ;;
*) sed -n 2,11p "$0" >&2; exit 2 ;;
esac
