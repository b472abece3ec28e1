#!/usr/bin/env bash
# Startup latency of runner commands (mean of N runs each, milliseconds). The light commands must
# not load LibTorch; `runner plugins` does (it loads every plugin), shown for contrast.
# Usage: tools/bench/startup.sh [N]   (after tools/build.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-20}
runner=$PWD/build/bin/runner
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && "$runner" --config="$OLDPWD/configs/exp.toml" trainer.max_steps=2 trainer.progress_bar=false >/dev/null 2>&1)

mean_ms() {
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$n"); do (cd "$work" && "$@" >/dev/null 2>&1); done
  end=$(date +%s%N)
  echo $(((end - start) / n / 1000))
}

printf '%-45s %10s\n' "command ($n runs each)" "mean"
for cmd in "--help" "--cfg --config=$PWD/configs/exp.toml" "plugins --help" "runs list" "plugins"; do
  # shellcheck disable=SC2086
  us=$(mean_ms "$runner" $cmd)
  printf '%-45s %7d.%d ms\n' "runner ${cmd/$PWD\//}" $((us / 1000)) $((us % 1000 / 100))
done
