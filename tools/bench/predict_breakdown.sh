#!/usr/bin/env bash
# Where `runner predict` spends its time: a trained demo checkpoint (harmonic_cnn) transcribes
# 39 minutes of piano audio (the synthetic test pieces, both timbres, repeated and concatenated
# into one file), with --timings: decode (libsox + resampling), features, model, stitching the
# windows, post-processing, writing the MIDI file; each as a real-time factor and a share. Twice:
# windows overlapping as the reference's (a quarter window of context each side, so the model runs
# over the audio twice) and with the demo config's 0.75 s of context (1.18 times); then how far
# the two transcriptions agree (runner score: one as the reference of the other). Both run the
# model alone (--pitch-shifts=none); a third run times the checkpoint's pitch ensemble.
# Usage: tools/bench/predict_breakdown.sh [CHECKPOINT] [threads=2]
#   without CHECKPOINT, trains the default experiment for 300 steps first (about a minute).
set -euo pipefail
cd "$(dirname "$0")/../.."
R=build/bin/runner
threads=${2:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
checkpoint=${1:-}
if [ -z "$checkpoint" ]; then
  echo "training the demo model for 300 steps..." >&2
  $R --config=configs/exp.toml trainer.max_steps=300 trainer.val_every_n_steps=300 \
    trainer.test_after_fit=false trainer.progress_bar=false >"$work/train.log" 2>&1
  run_dir=$(grep -o '/[^ ]*/outputs/transcription/[^ ]*' "$work/train.log" | head -1)
  checkpoint=$run_dir/checkpoints/last.pt
fi
$R synth --config=configs/exp.toml >/dev/null
mapfile -t pieces < <(python3 -c '
import csv, glob
for f in ["data/raw/synth-piano/synth-piano.csv"] + glob.glob("data/raw/synth-piano/synth-piano-eval-*.csv"):
    for r in csv.DictReader(open(f)):
        if r["split"] == "test": print("data/raw/synth-piano/" + r["audio_filename"])')
sox "${pieces[@]}" "${pieces[@]}" "${pieces[@]}" "${pieces[@]}" "$work/long.wav" trim 0 2340
echo "predict over $(soxi -d "$work/long.wav") of audio..." >&2
for context in 2.5 0.75; do
  echo "context $context s each side, the model alone (--pitch-shifts=none):"
  $R predict --checkpoint="$checkpoint" --threads "$threads" --timings --context-seconds $context \
    --pitch-shifts=none "$work/long.wav" -o "$work/midi-$context" | grep -v '^/'
done
echo "context 0.75 s each side, the checkpoint's [inference] pitch ensemble (if any):"
$R predict --checkpoint="$checkpoint" --threads "$threads" --timings --context-seconds 0.75 \
  "$work/long.wav" -o "$work/midi-ensemble" | grep -v '^/'
$R score "$work/midi-2.5/long.mid" "$work/midi-0.75/long.mid"
