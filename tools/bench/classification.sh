#!/usr/bin/env bash
# The classification plugin's default model (BC-ResNet, width 3) against the same model in
# python3-torch (tools/bench/peer/classification_peer.py), side by side in one run with equal
# threads, on the embedded synthetic data: training samples/s (batch 32 of 1 s windows, log-mel
# computed in the loader: our loader thread vs torch's DataLoader with one worker; no
# augmentation on either side) and inference clips/s over the 330 test WAV files (decode,
# features, model, softmax: `runner predict` vs the peer's soundfile + torchaudio + model).
# Usage: tools/bench/classification.sh [threads=2] [steps=60]
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=${1:-2}
steps=${2:-60}
R=build/bin/runner
config=configs/classification.toml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$R synth --config=$config >/dev/null
$R preprocess --config=$config >/dev/null
python3 - "$work/files.txt" <<'PY'
import csv, sys
rows = csv.DictReader(open("data/raw/synth-families/synth-classes.csv"))
with open(sys.argv[1], "w") as out:
    for r in rows:
        if r["split"] == "test":
            out.write("data/raw/synth-families/" + r["filename"] + "\n")
PY
echo "c++: $steps steps..." >&2
cpp=$($R --config=$config trainer.max_steps=$steps trainer.val_every_n_steps=0 \
  trainer.val_every_n_epochs=1000 trainer.test_after_fit=false trainer.progress_bar=false \
  trainer.threads="$threads" 'augment.chain=[]' 'augment.spectrogram_chain=[]' \
  trainer.scheduler.warmup_steps=0 2>&1 | tee "$work/train.log" | grep -o '[0-9.]* samples/s' | cut -d' ' -f1)
run_dir=$(grep -o '/[^ ]*/outputs/classification/[^ ]*' "$work/train.log" | head -1)
cpp_infer=$($R predict --checkpoint="$run_dir/checkpoints/last.pt" --threads "$threads" \
  -o "$work/predicted.csv" $(cat "$work/files.txt") | grep -o '[0-9.]* clips/s' | cut -d' ' -f1)
echo "peer: $steps steps..." >&2
peer=$(/usr/bin/python3 tools/bench/peer/classification_peer.py --index data/preprocessed/synth-families \
  --files "$work/files.txt" --steps "$steps" --batch 32 --threads "$threads" 2>/dev/null)
python3 - "$cpp" "$cpp_infer" "$peer" <<'PY'
import json, sys
cpp_train, cpp_infer, peer = float(sys.argv[1]), float(sys.argv[2]), json.loads(sys.argv[3])
print(f"| | C++ (runner) | python3-torch peer | ratio |")
print(f"|---|---|---|---|")
print(f"| training samples/s (batch 32 x 1 s) | {cpp_train:.1f} | {peer['train_samples_per_s']:.1f} | {cpp_train / peer['train_samples_per_s']:.2f}x |")
print(f"| inference clips/s ({peer['clips']} WAV files) | {cpp_infer:.0f} | {peer['inference_clips_per_s']:.0f} | {cpp_infer / peer['inference_clips_per_s']:.2f}x |")
print(f"peer parameters: {peer['parameters']}")
PY
