#!/usr/bin/env bash
# The data pipeline against its Python peer, side by side on the same files and thread counts:
#  1. preprocessing: decode + mix to mono + resample to 16 kHz + write .npy
#     (runner preprocess vs peer/preprocess_peer.py: soundfile + torchaudio + DataLoader workers,
#     once with torchaudio's default resampler and once with kaiser_best, the setting that matches
#     the quality of ours: tools/bench/resampler_quality.py)
#  2. loading: 10 s segments + collate + log-mel features in the workers
#     (build/bin/bench_loader vs peer/loader_peer.py: np.load mmap + torchaudio + DataLoader),
#     and the C++ loader again with every augmentation in its workers (ratio: cost of augmenting)
# Prints throughput, peak memory (max RSS of the process tree's largest process) and ratios.
# Usage: tools/bench/data_pipeline.sh [files=480] [seconds=30] [workers=2] [repeats=3]   (builds the benchmark programs first)
set -euo pipefail
cd "$(dirname "$0")/../.."
tools/build-benchmarks.sh >/dev/null
files=${1:-480}
seconds=${2:-30}
workers=${3:-2}
repeats=${4:-3}
runner=$PWD/build/bin/runner
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The first 48 files are made by sox, the rest are hard links to them: the same bytes under other
# names, each processed as a file of its own. Runs long enough to show steady throughput (the
# last index save syncs up to a second of output: a fixed cost that dominates a 1 s run) then need
# neither minutes of synthesis nor gigabytes of sources.
distinct=$((files < 48 ? files : 48))
echo "making $files stereo 44.1 kHz WAV files of $seconds s ($distinct by sox, the rest hard links)..."
mkdir -p "$work/raw/2004"
for ((n = 1; n <= files; ++n)); do
  name=$(printf "%s/raw/2004/piece-%04d.wav" "$work" "$n")
  if ((n <= distinct)); then
    sox -n -r 44100 -c 2 -b 16 "$name" synth "$seconds" pluck "$((200 + n * 7))" \
      synth "$seconds" sine fmod 3 vol 0.5
  else
    ln "$(printf "%s/raw/2004/piece-%04d.wav" "$work" $(((n - 1) % distinct + 1)))" "$name"
  fi
done

cat >"$work/exp.toml" <<TOML
task = "bench"
[data.preprocess]
source_path = "$work/raw"
destination_path = "$work/cpp"
audio_ext = "wav"
label_ext = false
sample_rate = 16000
workers = $workers
metadata = false
split = [1.0, 0.0, 0.0]
TOML

# Runs a command under /usr/bin/time; sets $line (its last output line) and $rss_mb. Each starts
# with nothing left to write back: `runner preprocess` syncs its filesystem, and would otherwise
# also wait for what the previous command (or making the files) left in the page cache.
measure() {
  local log="$work/time.log"
  sync
  line=$(/usr/bin/time -f "%M" -o "$log" "$@" | tail -1)
  rss_mb=$(($(tail -1 "$log") / 1024))
}
rate() { awk '{print $(NF-1)}' <<<"$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# Each measurement runs $repeats times, the two sides taking turns, and the median is reported:
# the throughput of a shared machine wanders by 20-40 % from minute to minute.
for ((r = 1; r <= repeats; ++r)); do
  echo "round $r of $repeats..."
  rm -rf "$work/cpp" "$work/py"
  measure "$runner" preprocess --config="$work/exp.toml"
  cpp_pre+=" $(awk '{for (i = 1; i <= NF; ++i) if ($i == "files/s);") print substr($(i-1), 2)}' <<<"$line")"
  cpp_pre_mb=$rss_mb
  measure /usr/bin/python3 tools/bench/peer/preprocess_peer.py "$work/raw" "$work/py" --workers "$workers"
  py_pre+=" $(rate "$line")"
  py_pre_mb=$rss_mb
  measure /usr/bin/python3 tools/bench/peer/preprocess_peer.py "$work/raw" "$work/py" \
    --workers "$workers" --resampler kaiser_best
  py_pre_best+=" $(rate "$line")"

  # runner preprocess leaves its output on disk, not in the page cache (write-behind): both
  # loaders start from a warm cache, as in every epoch after the first.
  find "$work/cpp" -name '*.npy' -exec cat {} + >/dev/null
  measure build/bin/bench_loader "$work/cpp" "$workers" 8 40
  cpp_load+=" $(rate "$line")"
  cpp_load_mb=$rss_mb
  measure /usr/bin/python3 tools/bench/peer/loader_peer.py "$work/cpp" --workers "$workers" \
    --batch 8 --batches 40
  py_load+=" $(rate "$line")"
  py_load_mb=$rss_mb
  measure build/bin/bench_loader "$work/cpp" "$workers" 8 40 augment
  aug_load+=" $(rate "$line")"
done
# Each round's own ratio (its two runs lie a minute apart at most); their median is steadier than
# the ratio of the medians when the machine's speed drifts between rounds.
round_ratios() {
  paste -d' ' <(tr ' ' '\n' <<<"${!1# }") <(tr ' ' '\n' <<<"${!2# }") |
    awk 'NF == 2 {printf "%.2f ", $1 / $2}'
}
pre_rounds=$(round_ratios cpp_pre py_pre)
pre_best_rounds=$(round_ratios cpp_pre py_pre_best)
load_rounds=$(round_ratios cpp_load py_load)
for name in cpp_pre py_pre py_pre_best cpp_load py_load aug_load; do
  echo "$name: ${!name# }"
  printf -v "$name" '%s' "$(median "${!name}")"
done

# What crnn_highres consumes in training on this machine (DESIGN.md §6): 0.68 audio-s/s.
model_segments=$(awk 'BEGIN {print 0.68 / 10}')
printf '\n%-38s %12s %12s %8s\n' "($files files x $seconds s, $workers workers, median of $repeats)" "C++" "Python peer" "ratio"
printf '%-38s %12s %12s %8s\n' "preprocess files/s (peer: default)" "$cpp_pre" "$py_pre" "$(ratio "$cpp_pre" "$py_pre")x"
printf '%-38s %12s %12s %8s\n' "  (peer: kaiser_best, same quality)" "$cpp_pre" "$py_pre_best" "$(ratio "$cpp_pre" "$py_pre_best")x"
printf '%-38s %12s %12s\n' "preprocess peak RSS (MB, largest proc)" "$cpp_pre_mb" "$py_pre_mb"
printf '%-38s %12s %12s %8s\n' "loader segments/s (10 s + log-mel)" "$cpp_load" "$py_load" "$(ratio "$cpp_load" "$py_load")x"
printf '%-38s %12s %12s\n' "loader peak RSS (MB, largest proc)" "$cpp_load_mb" "$py_load_mb"
printf '%-38s %12s %12s %8s\n' "loader + all augmentations (workers)" "$aug_load" "-" "$(ratio "$aug_load" "$cpp_load")x"
printf '%-38s %12s %12s\n' "loader / crnn_highres training need" "$(ratio "$cpp_load" "$model_segments")x" "$(ratio "$py_load" "$model_segments")x"
echo
echo "ratio in each round (C++ / peer), and their median:"
printf '  %-36s %s -> %sx\n' "preprocess (peer: default)" "$pre_rounds" "$(median "$pre_rounds")"
printf '  %-36s %s -> %sx\n' "preprocess (peer: kaiser_best)" "$pre_best_rounds" \
  "$(median "$pre_best_rounds")"
printf '  %-36s %s -> %sx\n' "loader" "$load_rounds" "$(median "$load_rounds")"
