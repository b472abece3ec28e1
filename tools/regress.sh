#!/usr/bin/env bash
# The CI regression check: a fixed short experiment of the test task, compared with the baseline
# committed in tests/baselines/ (runner regress exits 1 on a regression beyond tolerance).
#   tools/regress.sh          check (after tools/build.sh)
#   tools/regress.sh --write  run the experiment and make it the new baseline
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
baseline=$root/tests/baselines/regression.json
cd "$work"
"$root/build/bin/runner" --config="$root/configs/regression.toml" trainer.threads=1 \
  trainer.progress_bar=false >run.log 2>&1 || { cat run.log; exit 1; }
if [ "${1:-}" = "--write" ]; then
  "$root/build/bin/runner" regress --run=latest --write-baseline="$baseline"
else
  "$root/build/bin/runner" regress --run=latest --baseline="file:$baseline" \
    --lower-is-better='*loss' --lower-is-better='*mse' \
    --tolerance=test_r2=0.005 --tolerance=test_loss=0.005 --tolerance=test_mse=0.005
fi
