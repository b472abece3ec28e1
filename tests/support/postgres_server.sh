#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests and benchmarks, on loopback, in a temporary folder.
#   postgres_server.sh start STATE   initdb and start on a free port; STATE gets the data folder
#                                    (line 1) and the server URL (line 2); prints the URL
#   postgres_server.sh pause STATE   stops the server, keeping its data (a server going away)
#   postgres_server.sh resume STATE  starts it again on the same port
#   postgres_server.sh stop STATE    stops it and deletes everything
# PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user.
set -euo pipefail

command=${1:?usage: postgres_server.sh start|pause|resume|stop STATE}
state=${2:?usage: postgres_server.sh start|pause|resume|stop STATE}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x "$bin/pg_ctl" ]] || {
  echo "postgres_server.sh: no PostgreSQL server installed (apt-get install postgresql)" >&2
  exit 1
}

as_server_user() {
  if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}

start_on() {  # data port
  as_server_user "$bin/pg_ctl" -D "$1/data" -l "$1/log" -w -t 30 \
    -o "-p $2 -k $1 -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null
}

case "$command" in
start)
  data=$(mktemp -d /tmp/mlq-postgres.XXXXXX)
  ((EUID == 0)) && chown postgres "$data"
  as_server_user "$bin/initdb" -D "$data/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$data/initdb.log" 2>&1 || {
    cat "$data/initdb.log" >&2
    exit 1
  }
  for _ in $(seq 20); do
    port=$((20000 + RANDOM % 40000))
    if start_on "$data" "$port" 2>/dev/null; then
      url="postgresql://postgres@127.0.0.1:$port/postgres"
      mkdir -p "$(dirname "$state")"
      printf '%s\n%s\n' "$data" "$url" >"$state"
      echo "$url"
      exit 0
    fi
  done
  echo "postgres_server.sh: the server did not start; its log:" >&2
  cat "$data/log" >&2 || true
  exit 1
  ;;
pause)
  data=$(sed -n 1p "$state")
  as_server_user "$bin/pg_ctl" -D "$data/data" -m immediate -w stop >/dev/null
  ;;
resume)
  data=$(sed -n 1p "$state")
  url=$(sed -n 2p "$state")
  port=${url##*:}
  port=${port%%/*}
  start_on "$data" "$port"
  ;;
stop)
  [[ -f "$state" ]] || exit 0
  data=$(sed -n 1p "$state")
  as_server_user "$bin/pg_ctl" -D "$data/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$data" "$state"
  ;;
*)
  echo "postgres_server.sh: unknown command '$command' (start, pause, resume or stop)" >&2
  exit 2
  ;;
esac
