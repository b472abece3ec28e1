#!/usr/bin/env bash
# The sweep strategies against each other and against Optuna's (python3-optuna): the best
# objective after 10, 20 and 40 trials (mean over seeds; lower is better) of random, our tpe and
# Optuna's TPE sampler on the same objectives and seeds:
#   - two test functions (a shifted 5-D sphere, Branin), 10 seeds;
#   - the regression task (val_loss over learning rate, dropout and batch size, 150 steps a trial),
#     3 seeds, through `runner sweep` and, for Optuna, one `runner` run per trial;
# then what successive halving saves: the same 27-trial random sweep with and without
# --pruning-min-steps 30 --pruning-eta 3, its total training steps and best val_loss.
# Usage: tools/bench/sweep_strategies.sh [function seeds] [regression seeds]   (about 10 minutes)
set -euo pipefail
cd "$(dirname "$0")/../.."
function_seeds="${1:-10}"
regression_seeds="${2:-3}"
[ -x build/bin/bench_sweep_functions ] || bash tools/build-benchmarks.sh
runner=$PWD/build/bin/runner
config=$PWD/configs/regression.toml
work=$(mktemp -d /tmp/mlq-sweep-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
fixed=(trainer.max_steps=150 trainer.val_every_n_steps=50 trainer.early_stopping.enabled=false
  trainer.progress_bar=false trainer.threads=1)
space=("trainer.optimizer.lr=tag(log, interval(1e-4, 3e-1))" "model.dropout=0.0,0.1,0.2,0.3"
  "trainer.batch_size=16,32,64")

# Trial objectives of a sweep, in trial order, as "best10 best20 best40".
sweep_bests() {
  sqlite3 "$1" "SELECT objective FROM sweep_trials WHERE sweep_id = '$2' ORDER BY number" |
    awk '{ v = ($1 == "" ? 1e300 : $1); if (NR == 1 || v < best) best = v
           if (NR == 10 || NR == 20 || NR == 40) printf "%s%.6g", (NR == 10 ? "" : " "), best }
         END { print "" }'
}

{
  build/bin/bench_sweep_functions "$function_seeds"
  /usr/bin/python3 tools/bench/peer/optuna_functions.py "$function_seeds"
  for strategy in random tpe; do
    for seed in $(seq 0 $((regression_seeds - 1))); do
      db="$work/$strategy-$seed.sqlite"
      (cd "$work" && MLQ_DB="$db" "$runner" sweep --config="$config" "${space[@]}" "${fixed[@]}" \
        --strategy="$strategy" --seed="$seed" --trials=40 >/dev/null 2>&1)
      id=$(sqlite3 "$db" "SELECT id FROM sweeps")
      echo "regression $strategy $seed $(sweep_bests "$db" "$id")"
    done
  done
  /usr/bin/python3 tools/bench/peer/optuna_regression.py "$runner" "$config" "$regression_seeds" \
    "${fixed[@]}"
} >"$work/lines"

echo "best objective after N trials, mean over seeds (lower is better):"
printf "%-12s %-14s %10s %10s %10s\n" objective strategy 10 20 40
awk '{ key = $1 " " $2; n[key]++; for (i = 4; i <= 6; i++) s[key, i] += $i }
     END {
       for (key in n) {
         split(key, part, " ")
         printf "%-12s %-14s %10.4g %10.4g %10.4g\n", part[1], part[2], s[key, 4] / n[key],
           s[key, 5] / n[key], s[key, 6] / n[key]
       }
     }' "$work/lines" | sort -k1,1 -k2,2

echo
echo "successive halving on the regression task (27 trials, random, seed 0, up to 270 steps):"
printf '%-10s %12s %14s\n' pruning "total steps" "best val_loss"
for pruning in off on; do
  db="$work/asha-$pruning.sqlite"
  extra=()
  [[ $pruning == on ]] && extra=(--pruning-min-steps=30 --pruning-eta=3)
  (cd "$work" && MLQ_DB="$db" "$runner" sweep --config="$config" "${space[@]}" \
    trainer.max_steps=270 trainer.val_every_n_steps=10 trainer.early_stopping.enabled=false \
    trainer.progress_bar=false trainer.threads=1 --strategy=random --seed=0 --trials=27 \
    "${extra[@]}" >/dev/null 2>&1)
  steps=$(sqlite3 "$db" "SELECT sum(s) FROM (SELECT max(step) AS s FROM metrics WHERE key = 'train_loss' GROUP BY run_id)")
  best=$(sqlite3 "$db" "SELECT min(objective) FROM sweep_trials")
  printf '%-10s %12s %14.6g\n' "$pruning" "$steps" "$best"
done
