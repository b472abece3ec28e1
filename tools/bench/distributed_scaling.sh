#!/usr/bin/env bash
# Data-parallel scaling of transcription training (crnn_small, configs/transcription.toml) on this
# machine, side by side in one run on the same synthetic pieces:
#   1 process x 1 thread  (the per-process baseline that scaling efficiency is measured against)
#   1 process x 2 threads (what one process makes of the whole machine)
#   2 processes x 1 thread, gradient all-reduce overlapping backward, then after backward
# Each process takes batches of `batch`, so 2 processes train on a global batch of 2 x batch.
# Prints samples/s, scaling efficiency and the time each step waits for the gradient all-reduce.
# Usage: tools/bench/distributed_scaling.sh [steps=12] [batch=4] [segment_seconds=2]
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-12}
batch=${2:-4}
segment=${3:-2}
runner=${MLQ_RUNNER:-$PWD/build/bin/runner}  # MLQ_RUNNER: another build
config=$PWD/configs/transcription.toml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data=$PWD/data/bench-scaling  # kept between runs: synthesis takes a minute
common=(model=crnn_small "data.segment_seconds=$segment" "data.root=$data/preprocessed"
  "data.synth.destination_path=$data/raw" "data.synth.pieces=[24, 2, 2]"
  "data.preprocess.source_path=$data/raw" "data.preprocess.destination_path=$data/preprocessed"
  "trainer.max_steps=$steps" "trainer.batch_size=$batch" trainer.val_every_n_steps=0
  trainer.val_every_n_epochs=0 trainer.test_after_fit=false trainer.tensorboard=false
  trainer.progress_bar=false trainer.checkpoint.save_last=false)

train() {  # label, then runner arguments
  local label=$1 log="$work/$1.log"
  shift
  echo "$label..." >&2
  (cd "$work" && "$runner" "$@" --config="$config" "${common[@]}") >"$log" 2>&1 || {
    tail -5 "$log" >&2
    exit 1
  }
  # rank 0's summary line (other ranks' lines start "[rank N] "): "training: X samples/s ..."
  grep -v '^\[rank' "$log" | grep -m1 'training: ' | sed 's/.*training: //'
}

(cd "$work" && "$runner" --config="$config" "${common[@]}" trainer.max_steps=1 >/dev/null 2>&1) ||
  { echo "could not prepare the data set under $data" >&2; exit 1; }
one_thread=$(train one-process-1-thread trainer.threads=1)
two_threads=$(train one-process-2-threads trainer.threads=2)
overlap=$(train two-processes-overlap --nproc-per-node=2 trainer.threads=1)
after=$(train two-processes-after-backward --nproc-per-node=2 trainer.threads=1 \
  trainer.overlap_gradient_sync=false)

rate() { sed -E 's/^([0-9.]+) samples.*/\1/' <<<"$1"; }
printf '%-34s %s\n' "1 process x 1 thread:" "$one_thread" "1 process x 2 threads:" "$two_threads" \
  "2 processes x 1 thread, overlap:" "$overlap" "2 processes x 1 thread, after:" "$after"
awk -v a="$(rate "$one_thread")" -v b="$(rate "$two_threads")" -v c="$(rate "$overlap")" \
  -v d="$(rate "$after")" 'BEGIN {
    printf "scaling efficiency (2 processes / (2 x 1 process x 1 thread)): %.2f overlap, %.2f after backward\n", c / (2 * a), d / (2 * a)
    printf "2 processes against 1 process x 2 threads: %.2fx overlap, %.2fx after backward\n", c / b, d / b
  }'
