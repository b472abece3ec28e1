#!/usr/bin/env bash
# Where transcription loses note ends: a checkpoint's validation pieces transcribed with a grid
# of --frame-threshold and --offset-threshold values, scored against the pieces' MIDI with the
# sustain pedal extending the reference notes (as the task scores them) and without; the
# estimates as predicted (held by their detected pedal, as the task scores them). Validation
# split only: what is tuned here must not be tuned on the test pieces.
# Usage: tools/bench/offset_study.sh CHECKPOINT
# The grid: FRAMES, OFFSETS, PEDALS (--pedal-threshold, for a model with a pedal output) and
# ONSETS (--onset-threshold; default: the checkpoint's), each a list of values, e.g. FRAMES="0.3 0.5" PEDALS="0.3 0.5" tools/bench/offset_study.sh CKPT
set -euo pipefail
cd "$(dirname "$0")/../.."
R=build/bin/runner
checkpoint=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mapfile -t wavs < <(python3 -c '
import csv
for r in csv.DictReader(open("data/raw/synth-piano/synth-piano.csv")):
    if r["split"] == "validation": print("data/raw/synth-piano/" + r["audio_filename"])')
printf "%-6s %-6s %-6s %-10s %-22s %-22s\n" frame offset pedal onset \
  "on/on+off/frame (pedal)" "on/on+off (no pedal)"
for frame in ${FRAMES:-0.1 0.2 0.3 0.4 0.5}; do
  for offset in ${OFFSETS:-0.2 0.3 0.5}; do
    for pedal in ${PEDALS:-0.5}; do
    for onset in ${ONSETS:-checkpoint}; do
    out=$work/$frame-$offset-$pedal-$onset
    onset_option=()
    [[ $onset == checkpoint ]] || onset_option=(--onset-threshold "$onset")
    $R predict --checkpoint="$checkpoint" --frame-threshold $frame --offset-threshold $offset \
      --pedal-threshold $pedal "${onset_option[@]}" "${wavs[@]}" -o "$out" >/dev/null
    python3 - "$R" "$out" "${wavs[@]}" <<'PY' | xargs printf "%-6s %-6s %-6s %-10s %-22s %-22s\n" $frame $offset $pedal $onset
import json, os, statistics, subprocess, sys
runner, out, wavs = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = {True: [], False: []}
for wav in wavs:
    ref = wav[:-4] + ".midi"
    est = os.path.join(out, os.path.basename(wav)[:-4] + ".mid")
    for pedal in (True, False):
        args = [runner, "score", ref, est, "--json"] + (["--extend-pedal"] if pedal else ["--extend-pedal=false"])
        s = json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout)
        rows[pedal].append((s["onset"]["f1"], s["onset_offset"]["f1"], s["frame"]["f1"]))
m = {p: [statistics.mean(x[i] for x in rows[p]) for i in range(3)] for p in rows}
print(f"{m[True][0]:.3f}/{m[True][1]:.3f}/{m[True][2]:.3f} {m[False][0]:.3f}/{m[False][1]:.3f}")
PY
    done
    done
  done
done
