#!/usr/bin/env bash
# Transcription models against their Python peers (python3-torch, same LibTorch 1.13), side by side
# in one run with the same threads, shapes, loss and optimiser: training step time, samples/s,
# model GFLOP/s against the sgemm GFLOP/s measured in the same process, inference real-time factor
# over batched 10 s windows, peak memory.
#  C++:  build/bin/bench_transcription_step (glibc malloc tuned as the runner tunes it)
#  peer: tools/bench/peer/model_step_peer.py (DemoTranscriber of demo_model.py; crnn_highres_peer.py)
# For harmonic_cnn each side also runs once with the other's allocator settings, so the table
# separates what the code does from what the allocator does.
# crnn_highres runs 2 x 5 s steps (the peer takes about 15 s each here).
# Usage: tools/bench/transcription_models.sh [threads=2] [crnn_steps=3]   (builds the benchmark programs first)
set -euo pipefail
cd "$(dirname "$0")/../.."
tools/build-benchmarks.sh >/dev/null
threads=${1:-2}
crnn_steps=${2:-3}
tuned=(MALLOC_ARENA_MAX=1 MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_MMAP_MAX_=0
  MALLOC_TRIM_THRESHOLD_=1073741824)
out=$(mktemp)
trap 'rm -f "$out"' EXIT

run_pair() {  # model batch seconds steps warmup infer_batch infer_windows allocator_variants
  local model=$1 batch=$2 seconds=$3 steps=$4 warmup=$5 ib=$6 iw=$7 variants=$8
  echo "$model: batch $batch x $seconds s, $steps steps, $threads threads..." >&2
  build/bin/bench_transcription_step "$model" "$threads" "$batch" "$seconds" "$steps" "$warmup" \
    "$ib" "$iw" | sed 's/^{/{"variant": "c++", /' >>"$out"
  /usr/bin/python3 tools/bench/peer/model_step_peer.py --model "$model" --threads "$threads" \
    --batch "$batch" --seconds "$seconds" --steps "$steps" --warmup "$warmup" --infer-batch "$ib" \
    --infer-windows "$iw" 2>/dev/null | sed 's/^{/{"variant": "peer", /' >>"$out"
  [ "$variants" = yes ] || return 0
  MLQ_BENCH_DEFAULT_MALLOC=1 build/bin/bench_transcription_step "$model" "$threads" "$batch" \
    "$seconds" "$steps" "$warmup" "$ib" "$iw" | sed 's/^{/{"variant": "c++ default malloc", /' >>"$out"
  env "${tuned[@]}" /usr/bin/python3 tools/bench/peer/model_step_peer.py --model "$model" \
    --threads "$threads" --batch "$batch" --seconds "$seconds" --steps "$steps" \
    --warmup "$warmup" --infer-batch "$ib" --infer-windows "$iw" 2>/dev/null |
    sed 's/^{/{"variant": "peer tuned malloc", /' >>"$out"
}

run_pair harmonic_cnn 8 2 20 3 4 3 yes
run_pair crnn_highres 2 5 "$crnn_steps" 1 2 2 no

/usr/bin/python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
print(f"{'model':13} {'variant':20} {'ms/step':>9} {'samples/s':>10} {'GFLOP/s':>8} {'sgemm':>7} "
      f"{'util':>6} {'infer RTF':>10} {'peak MB':>8}")
for r in rows:
    print(f"{r['model']:13} {r['variant']:20} {r['ms_per_step']:9.1f} {r['samples_per_s']:10.3f} "
          f"{r['model_gflops']:8.1f} {r['sgemm_gflops']:7.1f} {r['utilisation']:6.1%} "
          f"{r['infer_rtf']:10.4f} {r['peak_rss_mb']:8.0f}")
print()
for model in sorted({r["model"] for r in rows}):
    by = {r["variant"]: r for r in rows if r["model"] == model}
    cpp, peer = by["c++"], by["peer"]
    both = ""
    if "peer tuned malloc" in by:
        both = (f" (both with the tuned allocator: "
                f"{cpp['samples_per_s'] / by['peer tuned malloc']['samples_per_s']:.2f}x)")
    print(f"{model}: training samples/s c++ / peer = "
          f"{cpp['samples_per_s'] / peer['samples_per_s']:.2f}x{both}; inference speed c++ / peer = "
          f"{peer['infer_rtf'] / cpp['infer_rtf']:.2f}x (RTF {cpp['infer_rtf']:.4f} vs "
          f"{peer['infer_rtf']:.4f})")
PY
