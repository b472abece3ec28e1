#!/usr/bin/env bash
# 16 training runs at once writing one manifest, on a SQLite file and on a PostgreSQL 15 server
# (started for the benchmark by tests/support/postgres_server.sh, stopped at the end). For each:
# the wall time of the whole batch, the latency of `runner runs list` while they write (median and
# 95th percentile of the commands run back to back during the batch), and lost rows: every run's
# metric points in the manifest against those in its metrics.csv, and the runs recorded.
# Usage: tools/bench/manifest_concurrency.sh [runs] [steps]   (default 16 runs of 2000 steps)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-16}"
steps="${2:-2000}"
[ -x build/bin/runner ] || cmake --build build -j2 --target runner
work=$(mktemp -d /tmp/mlq-concurrency.XXXXXX)
state="$work/postgres.state"
server=$(bash tests/support/postgres_server.sh start "$state")
trap 'bash tests/support/postgres_server.sh stop "$state"; rm -rf "$work"' EXIT
psql -q "$server" -c "CREATE DATABASE concurrency"

# Metric points per run in the manifest at $1, as "run_id count" lines.
recorded() {
  local sql="SELECT run_id, count(*) FROM metrics GROUP BY run_id ORDER BY run_id"
  if [[ "$1" == postgresql://* ]]; then psql -tA -F' ' "$1" -c "$sql"; else sqlite3 -separator ' ' "$1" "$sql"; fi
}

printf '%-10s  %6s  %5s  %7s  %12s  %12s  %5s\n' backend runs points "wall s" "list p50 ms" "list p95 ms" lost
for backend in sqlite postgresql; do
  cwd="$work/$backend"
  mkdir -p "$cwd"
  if [[ $backend == sqlite ]]; then db="$cwd/runs.sqlite"; else db="${server%/*}/concurrency"; fi
  build/bin/runner runs list --db "$db" >/dev/null  # the schema exists before the first writer
  start=$(date +%s%N)
  pids=()
  for i in $(seq "$runs"); do
    (cd "$cwd" && MLQ_DB="$db" MLQ_PLUGIN_PATH= exec "$OLDPWD/build/bin/runner" \
      --config="$OLDPWD/configs/regression.toml" "trainer.max_steps=$steps" \
      trainer.log_every_n_steps=1 trainer.val_every_n_steps=100 trainer.threads=1 \
      trainer.early_stopping.enabled=false "trainer.seed=$i" >"$cwd/run-$i.log" 2>&1) &
    pids+=($!)
  done
  latencies=()
  while kill -0 "${pids[@]}" 2>/dev/null; do
    t0=$(date +%s%N)
    build/bin/runner runs list --db "$db" --limit 20 >/dev/null
    latencies+=($((($(date +%s%N) - t0) / 1000000)))
  done
  failed=0
  for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
  wall=$(awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.1f", ns / 1e9 }')
  # Each run's points in its metrics.csv against the manifest's.
  written=$(for dir in "$cwd"/outputs/regression/*/*/; do
    echo "${dir%/}" | sed 's/.*-//' | tr '\n' ' '
    tail -n +2 "$dir/metrics.csv" | wc -l
  done | sort)
  lost=$(join <(echo "$written") <(recorded "$db") -a1 -e0 -o 0,1.2,2.2 |
    awk '{ lost += $2 - $3 } END { print lost + 0 }')
  total=$(echo "$written" | awk '{ s += $2 } END { print s }')
  recorded_runs=$(recorded "$db" | wc -l)
  sorted=$(printf '%s\n' "${latencies[@]}" | sort -n)
  n=${#latencies[@]}
  p50=$(echo "$sorted" | sed -n "$(((n + 1) / 2))p")
  p95=$(echo "$sorted" | sed -n "$(((n * 95 + 99) / 100))p")
  printf '%-10s  %6s  %5s  %7s  %12s  %12s  %5s\n' "$backend" "$recorded_runs/$runs" "$total" \
    "$wall" "$p50" "$p95" "$lost"
  ((failed == 0)) || echo "  $failed runs failed: see $cwd/run-*.log" >&2
done
