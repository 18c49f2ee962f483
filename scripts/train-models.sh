#!/bin/bash
# scripts/train-models.sh - (re)train the default models of models/ from ../shared/data with
# this checkout's eosight, exactly as their model cards (models/<name>.md) say, and copy each
# into models/.
#
#   scripts/train-models.sh eurosat|ucmerced|ucmerced-tags|dubai|clouds|all [--threads N]
#
# Work, checkpoints and logs go to ${EOS_RUNS:-~/eosight-runs}/<name>; an interrupted run
# resumes from its checkpoint (--resume). After training, `eosight meta` adds the contract keys
# training does not know (ground-sample distance, storage type, window), and the model is
# scored with `eosight eval` on the split its card reports. Hours on 2 cores: see each card.
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

# train NAME OUT.onnx -- TRAIN-ARGS...: train in $RUNS/NAME (resuming), leave $RUNS/NAME/OUT.
train() {
    local name="$1" out="$2"; shift 3
    mkdir -p "$RUNS/$name"
    local resume=()
    [ -f "$RUNS/$name/$out.ckpt" ] && resume=(--resume)
    (cd "$RUNS/$name" && "$EOS" train "$@" --threads "$threads" --out "$out" "${resume[@]}")
}

# install NAME OUT.onnx DATA "META-ARGS" "EVAL-ARGS": out-of-distribution calibration on DATA's
# train/val splits (not for segmentation: DATA ""), contract keys, copy to models/, score.
install_model() {
    local name="$1" out="$2" data="$3" meta="$4" eval_args="$5" src="$RUNS/$1/$2"
    if [ -n "$data" ]; then
        "$EOS" calibrate --model "$src" --data "$data" --out "$RUNS/$name/calibrated.onnx" \
            --threads "$threads"
        src="$RUNS/$name/calibrated.onnx"
    fi
    # shellcheck disable=SC2086
    "$EOS" meta "$src" $meta -o "$ROOT/models/$out"
    # shellcheck disable=SC2086
    "$EOS" eval --model "$ROOT/models/$out" $eval_args --threads "$threads"
}

case "$which" in
eurosat|all)
    train eurosat eurosat-rgb-scene.onnx -- \
        --task classify --data "$DATA/eurosat-rgb" --arch resnet18 --stem s2 --width 32 \
        --epochs 40 --batch 64 --lr 3e-3 --wd 0.05 --label-smoothing 0.1 --tta --val-every 4 \
        --seed 1
    install_model eurosat eurosat-rgb-scene.onnx "$DATA/eurosat-rgb" \
        "--set eosight.gsd_m=10 --set eosight.dtype=u8" \
        "--data $DATA/eurosat-rgb --split test --tta" ;;&
ucmerced|all)
    train ucmerced ucmerced-scene.onnx -- \
        --task classify --data "$DATA/ucmerced" --arch resnet18 --stem imagenet --width 32 \
        --size 128 --epochs 60 --batch 32 --lr 2e-3 --wd 0.05 --label-smoothing 0.1 --tta \
        --val-every 4 --seed 1
    install_model ucmerced ucmerced-scene.onnx "$DATA/ucmerced" \
        "--set eosight.window_px=256 --set eosight.gsd_m=0.6 --set eosight.dtype=u8" \
        "--data $DATA/ucmerced --split val --tta" ;;&
ucmerced-tags|all)
    train ucmerced-tags ucmerced-tags.onnx -- \
        --task tag --data "$DATA/ucmerced" --arch resnet18 --stem imagenet --width 32 \
        --size 128 --epochs 40 --batch 32 --lr 2e-3 --wd 0.05 --tta --val-every 4 --seed 1
    install_model ucmerced-tags ucmerced-tags.onnx "$DATA/ucmerced" \
        "--set eosight.window_px=256 --set eosight.gsd_m=0.6 --set eosight.dtype=u8" \
        "--data $DATA/ucmerced --split val --tta" ;;&
dubai|all)
    # from scratch (16 000 patches), then fine-tuned from that model (24 000 more)
    train dubai-base seg_dubai_unet16.onnx -- \
        --task segment --data "$DATA/seg-dubai" --arch unet --base 16 --size 256 --patches 1000 \
        --epochs 16 --batch 8 --lr 2e-3 --wd 0.01 --ignore-class Unlabeled --val-every 8 --seed 1
    train dubai dubai-landcover.onnx -- \
        --task segment --data "$DATA/seg-dubai" --init "$RUNS/dubai-base/seg_dubai_unet16.onnx" \
        --size 256 --patches 1000 --epochs 24 --batch 8 --lr 1e-3 --wd 0.01 \
        --ignore-class Unlabeled --val-every 4 --seed 2
    install_model dubai dubai-landcover.onnx "" "--set eosight.dtype=u8" \
        "--data $DATA/seg-dubai --split test --ignore-class Unlabeled --tta" ;;&
clouds|all)
    # synthetic clouds over EuroSAT-RGB (docs/training.md, "Synthetic cloud data")
    [ -f "$RUNS/clouds-data/classes.txt" ] ||
        "$EOS" synth-clouds --source "$DATA/eurosat-rgb" --out "$RUNS/clouds-data" --train 16000 \
            --val 2000 --test 3000 --seed 1
    train clouds clouds.onnx -- \
        --task classify --data "$RUNS/clouds-data" --arch cloudnet --width 32 --epochs 30 \
        --batch 64 --lr 3e-3 --wd 0.05 --label-smoothing 0.05 --val-every 5 --seed 1 \
        --meta eosight.task=cloud
    install_model clouds clouds.onnx "$RUNS/clouds-data" \
        "--set eosight.gsd_m=10 --set eosight.dtype=u8" \
        "--data $RUNS/clouds-data --split test" ;;
eurosat|ucmerced|ucmerced-tags|dubai) ;;
*) sed -n 2,11p "$0" >&2; exit 2 ;;
esac
