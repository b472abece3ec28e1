#!/usr/bin/env bash
# `runner runs list` on a manifest of 100,000 runs x 20 metrics x 100 steps (200 M metric points,
# about 17 GB, made once by build/bin/bench_manifest_generate in ~10 minutes). Each query is the
# whole command a user types (process start, opening the database, the query, printing), run 5
# times after one warm-up; the median wall time is reported. Goal: under 200 ms.
# Usage: tools/bench/manifest_queries.sh [DB] [runs]   (default /tmp/mlq-bench/runs100k.sqlite)
set -euo pipefail
cd "$(dirname "$0")/../.."
db="${1:-/tmp/mlq-bench/runs100k.sqlite}"
runs="${2:-100000}"
[ -x build/bin/bench_manifest_generate ] || bash tools/build-benchmarks.sh
[ -x build/bin/runner ] || cmake --build build -j2 --target runner
if [ ! -f "$db" ]; then
  mkdir -p "$(dirname "$db")"
  build/bin/bench_manifest_generate "$db" "$runs"
fi
echo "manifest: $db ($(du -h "$db" | cut -f1); $(build/bin/runner runs list --db "$db" --format csv --columns id | tail -n +2 | wc -l) runs)"

median_ms() {  # runs the command 1 + 5 times, prints the median wall time of the last 5 in ms
  local times=() start end
  "$@" >/dev/null
  for _ in 1 2 3 4 5; do
    start=$(date +%s%N)
    "$@" >/dev/null
    end=$(date +%s%N)
    times+=($(((end - start) / 1000000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 3p
}

bench() {
  local shown="" arg
  for arg in "$@"; do [[ "$arg" == *" "* ]] && shown+=" \"$arg\"" || shown+=" $arg"; done
  printf '%8s  runner runs list%s\n' "$(median_ms build/bin/runner runs list --db "$db" "$@")" "$shown"
}

printf '%8s  %s\n' "ms" "command (median of 5)"
echo "-- filtered, ordered by a metric: the summary index is walked in order, the limit stops it"
bench --where "status = 'FINISHED' and tags.team = 'audio'" --order-by metrics.val_loss asc --limit 20
bench --where "metrics.val_loss < 0.8 and params.optimizer.lr >= 0.001" \
  --order-by "max(metrics.val_acc)" desc --limit 20
bench --where "params.data.batch_size in (16, 32) and start_time >= '2024-01-01'" \
  --order-by metrics.val_onset_f1 desc --limit 50 --format json
echo "-- newest first"
bench --limit 20
bench --where "metrics.val_acc > 0.9" --limit 20
echo "-- every run must be looked at: ordered by a non-metric field, or a filter almost nothing meets"
bench --where "min(metrics.train_loss) < 0.6" --order-by duration --limit 20
bench --where "not params.model.name like 'crnn%'" --order-by duration --limit 20
bench --where "params.optimizer.name = 'sgd'" --order-by params.optimizer.lr desc --limit 20
bench --where "tags.purpose = 'baseline' and metrics.val_acc > 0.99" --order-by metrics.val_loss --limit 20
bench --where "at(metrics.val_acc, 500) > 0.9" --order-by duration --limit 20
