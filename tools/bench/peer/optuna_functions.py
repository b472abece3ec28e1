"""Optuna's TPE and random samplers on tools/bench/sweep_functions.cpp's test functions: the best
objective after 10, 20 and 40 trials per seed, in the same line format."""
import math
import sys

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def sphere5(trial):
    return sum((trial.suggest_float(f"x{i}", -5, 5) - 1.5) ** 2 for i in range(5))


def branin(trial):
    x0, x1 = trial.suggest_float("x0", -5, 10), trial.suggest_float("x1", 0, 15)
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x1 - b * x0 ** 2 + c * x0 - 6) ** 2 + 10 * (1 - t) * math.cos(x0) + 10


seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
for function in (sphere5, branin):
    for name, sampler in (("optuna-random", optuna.samplers.RandomSampler),
                          ("optuna-tpe", optuna.samplers.TPESampler)):
        for seed in range(seeds):
            study = optuna.create_study(sampler=sampler(seed=seed))
            study.optimize(function, n_trials=40)
            values = [t.value for t in study.trials]
            best = [min(values[:n]) for n in (10, 20, 40)]
            print(function.__name__, name, seed, *(f"{b:.6g}" for b in best))
