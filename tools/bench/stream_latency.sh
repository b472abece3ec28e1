#!/usr/bin/env bash
# `runner predict --stream` against offline `runner predict`: test pieces of the synthetic data
# set are played at real-time pace (--realtime) into the streaming transcriber; for every note of
# the piece's MIDI that a streamed note-on matches (same pitch, onset within 50 ms), the latency
# is the wall-clock time at which the event was written minus the note's true onset in the audio.
# Prints the median and 95th percentile latency, and onset F1 against the piece's MIDI of the
# stream's MIDI file, of its note-on events as they came (dropped ones included) and of offline
# prediction (the model alone, as the stream runs it; and with the checkpoint's [inference] pitch
# ensemble, as `runner predict` runs by default), and of the stream's MIDI file against offline.
# Usage: tools/bench/stream_latency.sh CHECKPOINT [pieces=2] [threads=2]
# LOOKAHEAD=SECONDS and ONSET_LOOKAHEAD=SECONDS pass --lookahead-seconds and
# --onset-lookahead-seconds (default: the stream's, the model's look-ahead and 0.15).
set -euo pipefail
cd "$(dirname "$0")/../.."
R=build/bin/runner
checkpoint=$1
pieces=${2:-2}
threads=${3:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$R synth --config=configs/exp.toml >/dev/null
mapfile -t wavs < <(python3 -c '
import csv, sys
rows = [r for r in csv.DictReader(open("data/raw/synth-piano/synth-piano.csv")) if r["split"] == "test"]
for r in rows[:int(sys.argv[1])]: print("data/raw/synth-piano/" + r["audio_filename"])' "$pieces")
for wav in "${wavs[@]}"; do
  name=$(basename "$wav" .wav)
  echo "streaming $name at real-time pace..." >&2
  $R predict --stream --realtime --threads "$threads" --checkpoint="$checkpoint" "$wav" \
    ${LOOKAHEAD:+--lookahead-seconds "$LOOKAHEAD"} \
    ${ONSET_LOOKAHEAD:+--onset-lookahead-seconds "$ONSET_LOOKAHEAD"} \
    -o "$work/$name-stream.mid" >"$work/$name.jsonl" 2>/dev/null
  # Offline with the model alone, as the stream runs it, and with the checkpoint's pitch ensemble.
  $R predict --threads "$threads" --checkpoint="$checkpoint" --pitch-shifts=none "$wav" \
    -o "$work/offline" >/dev/null
  $R predict --threads "$threads" --checkpoint="$checkpoint" "$wav" -o "$work/ensemble" >/dev/null
  # The note-on events as a live listener got them (dropped ones included), as MIDI to score.
  /usr/bin/python3 - "$work/$name.jsonl" "$work/$name-events.mid" <<'PY'
import json, sys
import mido
events = [json.loads(l) for l in open(sys.argv[1])]
ends = {(e["pitch"], e["onset"]): e["time"] for e in events if e["event"] == "note_off"}
messages = []
for e in events:
    if e["event"] == "note_on":
        end = max(ends.get((e["pitch"], e["time"]), e["time"] + 0.1), e["time"] + 0.01)
        messages += [(e["time"], 1, e["pitch"], e["velocity"]), (end, 0, e["pitch"], 0)]
midi = mido.MidiFile(ticks_per_beat=480)  # 120 bpm: 960 ticks a second
track = mido.MidiTrack()
midi.tracks.append(track)
tick = 0
for t, on, pitch, velocity in sorted(messages):
    at = round(t * 960)
    track.append(mido.Message("note_on", note=pitch, velocity=velocity if on else 0, time=at - tick))
    tick = at
midi.save(sys.argv[2])
PY
  for pair in "${wav%.wav}.midi $work/$name-stream.mid stream" \
    "${wav%.wav}.midi $work/$name-events.mid note-on-events" \
    "${wav%.wav}.midi $work/offline/$name.mid offline" \
    "${wav%.wav}.midi $work/ensemble/$name.mid offline-with-the-checkpoint's-[inference]" \
    "$work/offline/$name.mid $work/$name-stream.mid stream-vs-offline"; do
    set -- $pair
    echo "$3 $($R score "$1" "$2" --json)" >>"$work/scores.txt"
  done
done
/usr/bin/python3 - "$work" "${wavs[@]}" <<'PY'
import json, os, statistics, sys
import mido
work, wavs = sys.argv[1], sys.argv[2:]
latencies, decided = [], []
note_ons = dropped = late = 0
for wav in wavs:
    name = os.path.basename(wav)[:-4]
    midi = mido.MidiFile(wav[:-4] + ".midi")
    t, onsets = 0.0, []
    for msg in midi:
        t += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            onsets.append((t, msg.note))
    events = [json.loads(l) for l in open(os.path.join(work, name + ".jsonl"))]
    ons = [e for e in events if e["event"] == "note_on"]
    note_ons += len(ons)
    dropped += sum(1 for e in events if e.get("dropped"))
    late += sum(1 for e in ons if e["decided_at"] - e["time"] > 0.3)
    for onset, pitch in onsets:
        match = [e for e in ons if e["pitch"] == pitch and abs(e["time"] - onset) <= 0.05]
        if match:
            e = min(match, key=lambda e: abs(e["time"] - onset))
            latencies.append(e["wall"] - onset)
            decided.append(e["decided_at"] - onset)
scores = {}
for line in open(os.path.join(work, "scores.txt")):
    kind, text = line.split(" ", 1)
    scores.setdefault(kind, []).append(json.loads(text)["onset"]["f1"])
q = statistics.quantiles(latencies, n=20)
print(f"notes matched: {len(latencies)}; note-ons {note_ons}, of them dropped (ended by the final "
      f"frames) {dropped}, decided over 0.3 s late {late}")
print(f"latency, onset in the audio -> event written (wall clock): median {statistics.median(latencies)*1000:.0f} ms, "
      f"95th percentile {q[18]*1000:.0f} ms")
print(f"  of which waiting for audio (decided after that much audio): median {statistics.median(decided)*1000:.0f} ms")
for kind, f1 in scores.items():
    print(f"onset F1 {kind}: {statistics.mean(f1):.4f}")
PY
