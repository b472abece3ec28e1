#!/usr/bin/env bash
# `runner runs list` on a manifest of 100,000 runs x 20 metrics x 100 steps (200 M metric points,
# about 17 GB, made once by build/bin/bench_manifest_generate in ~10 minutes). Each query is the
# whole command a user types (process start, opening the database, the query, printing), run 5
# times after one warm-up; the median wall time is reported. Goal: under 200 ms.
# With --postgresql, the same manifest is also loaded into a PostgreSQL 15 server started for the
# benchmark (tests/support/postgres_server.sh, stopped at the end), and each query runs on both:
# SQLite ms, PostgreSQL ms and their ratio.
# MLQ_BASELINE_RUNNER=path/to/older/runner adds a first column: the same queries on the SQLite
# file with that runner (a before/after comparison, measured in the same run).
# Usage: tools/bench/manifest_queries.sh [--postgresql] [DB] [runs] [steps]
#   (default /tmp/mlq-bench/runs100k.sqlite, 100000 runs, 100 steps per metric)
set -euo pipefail
cd "$(dirname "$0")/../.."
postgresql=false
if [[ "${1:-}" == "--postgresql" ]]; then
  postgresql=true
  shift
fi
db="${1:-/tmp/mlq-bench/runs100k.sqlite}"
runs="${2:-100000}"
steps="${3:-100}"
[ -x build/bin/bench_manifest_generate ] || bash tools/build-benchmarks.sh
[ -x build/bin/runner ] || cmake --build build -j2 --target runner
if [ ! -f "$db" ]; then
  mkdir -p "$(dirname "$db")"
  build/bin/bench_manifest_generate "$db" "$runs" 20 "$steps"
fi
echo "manifest: $db ($(du -h "$db" | cut -f1); $(build/bin/runner runs list --db "$db" --format csv --columns id | tail -n +2 | wc -l) runs)"

dbs=("$db")
if $postgresql; then
  state=$(mktemp -u /tmp/mlq-bench/postgres.XXXXXX)
  server=$(bash tests/support/postgres_server.sh start "$state")
  trap 'bash tests/support/postgres_server.sh stop "$state"' EXIT
  url="${server%/*}/bench"
  psql -q "$server" -c "CREATE DATABASE bench"
  build/bin/runner runs list --db "$url" >/dev/null  # creates the schema
  start=$(date +%s)
  # The same rows, table by table, through COPY (NULL travels as an unquoted empty field).
  for table in \
    "runs:id,task,status,start_time,end_time,heartbeat,host,pid,git_commit,git_dirty,plugin_versions,run_dir,best_checkpoint,config_hash,config,error" \
    "params:run_id,key,value,value_num" "tags:run_id,key,value" \
    "artifacts:run_id,path,kind,checksum" \
    "metric_summary:run_id,key,last_step,last_value,min_value,max_value" \
    "metrics:run_id,key,step,value,time"; do
    name=${table%%:*}
    columns=${table#*:}
    sqlite3 -csv "$db" "SELECT $columns FROM $name" |
      psql -q "$url" -c "\\copy $name ($columns) FROM STDIN WITH (FORMAT csv)"
  done
  psql -q "$url" -c "VACUUM ANALYZE"
  echo "postgresql: $url (loaded in $(($(date +%s) - start)) s; $(psql -tA "$url" -c "SELECT pg_size_pretty(pg_database_size('bench'))"))"
  dbs+=("$url")
fi

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

baseline="${MLQ_BASELINE_RUNNER:-}"

bench() {
  local shown="" arg each=() ms
  for arg in "$@"; do [[ "$arg" == *" "* ]] && shown+=" \"$arg\"" || shown+=" $arg"; done
  [[ -n "$baseline" ]] && printf '%8s  ' "$(median_ms "$baseline" runs list --db "$db" "$@")"
  for target in "${dbs[@]}"; do
    ms=$(median_ms build/bin/runner runs list --db "$target" "$@")
    each+=("$ms")
    printf '%8s  ' "$ms"
  done
  if $postgresql; then
    printf '%6s  ' "$(awk -v a="${each[0]}" -v b="${each[1]}" 'BEGIN { printf "%.2f", b / (a > 0 ? a : 1) }')"
  fi
  printf 'runner runs list%s\n' "$shown"
}

[[ -n "$baseline" ]] && printf '%8s  ' "baseline"
if $postgresql; then
  printf '%8s  %8s  %6s  %s\n' "SQLite" "Postgres" "ratio" "command (median ms of 5)"
else
  printf '%8s  %s\n' "ms" "command (median of 5)"
fi
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
