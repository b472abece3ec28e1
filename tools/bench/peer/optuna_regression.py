"""Optuna's TPE sampler driving the regression task: each trial is one `runner` training run with
the sampled overrides (the same space and budget as tools/bench/sweep_strategies.sh gives runner
sweep); its objective is the run's best val_loss, read from the manifest. Prints
"regression optuna-tpe SEED best10 best20 best40"."""
import os
import sqlite3
import subprocess
import sys
import tempfile

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
runner, config, seeds = sys.argv[1], sys.argv[2], int(sys.argv[3])
fixed = sys.argv[4:]

for seed in range(seeds):
    work = tempfile.mkdtemp(prefix="mlq-optuna-")
    db = os.path.join(work, "runs.sqlite")

    def objective(trial):
        overrides = [
            f"trainer.optimizer.lr={trial.suggest_float('lr', 1e-4, 3e-1, log=True)}",
            f"model.dropout={trial.suggest_categorical('dropout', ['0.0', '0.1', '0.2', '0.3'])}",
            f"trainer.batch_size={trial.suggest_categorical('batch', ['16', '32', '64'])}",
        ]
        subprocess.run([runner, f"--config={config}", *fixed, *overrides], cwd=work, check=True,
                       env={**os.environ, "MLQ_DB": db}, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        with sqlite3.connect(db) as con:
            (value,) = con.execute(
                "SELECT min(m.value) FROM metrics m JOIN runs r ON r.id = m.run_id "
                "WHERE m.key = 'val_loss' AND r.start_time = (SELECT max(start_time) FROM runs)"
            ).fetchone()
        return value

    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=40)
    values = [t.value for t in study.trials]
    print("regression optuna-tpe", seed, *(f"{min(values[:n]):.6g}" for n in (10, 20, 40)))
