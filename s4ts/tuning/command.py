"""The work behind `s4ts tune`: a study on a CSV's series, its files, and worker processes.

The study records how it was started (data file, columns, estimator settings, budget) in its
user attributes, so `s4ts tune --storage URL --study-name NAME --worker` on any machine that
reaches the database and the data file joins it with nothing else on its command line.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from s4ts.tuning._optuna import require_optuna
from s4ts.tuning.objective import FORECASTER_METRICS, PROCESS
from s4ts.tuning.storage import STUDY_ATTR, open_storage, open_study, redacted
from s4ts.tuning.study import TuningResult, default_sampler, optuna_logs, tune

__all__ = ["COLUMN_KEYS", "ESTIMATOR_KEYS", "join_study", "start_study", "study_record", "write_outputs"]

# What a worker needs to read the data as the first process did, and to build the same estimator.
COLUMN_KEYS = ("id_col", "id_col_given", "time_col", "target")
ESTIMATOR_KEYS = ("horizon", "freq", "futr_exog", "hist_exog", "max_epochs", "batches_per_epoch")
STUDY_KEYS = ("metric", "cv", "cv_step", "season", "n_trials")


def _estimator(settings: dict[str, Any]):
    from s4ts.forecasting import S4Forecaster

    return S4Forecaster(
        horizon=settings["horizon"], freq=settings["freq"], id_col=settings["id_col"],
        time_col=settings["time_col"], target_col=settings["target"], futr_exog=settings["futr_exog"],
        hist_exog=settings["hist_exog"], max_epochs=settings["max_epochs"],
        batches_per_epoch=settings["batches_per_epoch"] or None, random_state=settings["seed"],
    )


def _storage(args) -> Any:
    return open_storage(args.storage, heartbeat_interval=args.heartbeat) if args.storage else None


def start_study(args, df) -> tuple[TuningResult, dict[str, Any]]:
    """Create (or resume) the study the command line describes, run it, refit the best."""
    settings = {key: getattr(args, key) for key in (*COLUMN_KEYS, *ESTIMATOR_KEYS, *STUDY_KEYS, "seed")}
    settings["data"] = str(Path(args.data).resolve())
    estimator = _estimator(settings)
    storage = _storage(args)
    record = {"estimator": "S4Forecaster", "metric": args.metric, "cli": settings}
    if storage is not None:
        # Created here, before any trial, so workers started beside this process find the record.
        with optuna_logs(not args.quiet):
            open_study(storage, args.study_name, record, FORECASTER_METRICS[args.metric],
                       default_sampler(args.seed), None)
    result = tune(
        estimator, df, n_trials=args.n_trials, timeout=args.timeout, metric=args.metric, cv=args.cv,
        cv_step=args.cv_step, season=args.season, storage=storage, study_name=args.study_name,
        random_state=args.seed, selection=args.selection, verbose=not args.quiet,
    )
    return result, settings


def study_record(args, wait_s: float = 60.0) -> dict[str, Any]:
    """The settings `s4ts tune` stored in the study a worker joins (waiting up to `wait_s` seconds
    for the first process to create it and record them: two separate writes, so a worker can
    find the study before its settings)."""
    optuna = require_optuna()
    if not args.storage or not args.study_name:
        raise ValueError("--worker joins a study in a database: give --storage URL and --study-name NAME")
    storage = _storage(args)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            study = optuna.load_study(study_name=args.study_name, storage=storage)
        except KeyError:  # not created yet
            study = None
        record = {} if study is None else study.user_attrs.get(STUDY_ATTR, {})
        # Settled: a study with a record, or with trials and none (made elsewhere). A new empty
        # one may be between `s4ts tune`'s two writes (create the study, then record settings).
        if study is not None and (record or study.trials):
            break
        if time.monotonic() > deadline:
            if study is None:
                raise ValueError(
                    f"--study-name {args.study_name!r}: no such study in {redacted(str(args.storage))!r} "
                    f"after waiting {wait_s:.0f} s; start it with `s4ts tune DATA --horizon H --n-trials "
                    f"N --storage URL --study-name NAME` first"
                )
            break
        time.sleep(1.0)
    if "cli" not in record:
        raise ValueError(
            f"study {args.study_name!r} was not started by `s4ts tune` (it holds no command-line "
            f"settings); a worker can only join such a study; join others from Python with tune()"
        )
    return record["cli"]


def join_study(args, settings: dict[str, Any], df) -> int:
    """Run trials of the joined study until it holds its `n_trials` finished ones (or the
    worker's own --n-trials / --timeout); returns the trials this worker finished."""
    optuna = require_optuna()
    n_trials = args.n_trials or settings["n_trials"]
    if n_trials is None and args.timeout is None:
        raise ValueError(
            f"study {args.study_name!r} was started with --timeout and no --n-trials, so it has no "
            f"count of trials to finish; give this worker --n-trials N or --timeout SECONDS"
        )
    storage = _storage(args)
    before = {t.number for t in optuna.load_study(study_name=args.study_name, storage=storage).trials}
    # Every worker samples with its own seed: the same seed would repeat the first process's trials.
    result = tune(
        _estimator(settings), df, n_trials=n_trials, timeout=args.timeout,
        metric=settings["metric"], cv=settings["cv"], cv_step=settings["cv_step"],
        season=settings["season"], storage=storage, study_name=args.study_name,
        random_state=(settings["seed"] + os.getpid()) % 2**31, refit=False, verbose=not args.quiet,
    )
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    # Trials run by this process since it joined (other workers finish trials meanwhile).
    return sum(t.number not in before and t.user_attrs.get("process") == PROCESS and t.state in states
               for t in result.study.trials)


def write_outputs(result: TuningResult, out: Path) -> list[str]:
    """best_params.json, trials.csv, history.png, importances.png and model/ in `out`; returns
    one line per file written (or why a plot was left out)."""
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    summary = {"metric": result.metric, "best_value": result.best_value_, "best_params": result.best_params_,
               "study_name": result.study.study_name, "n_trials": len(result.trials_), "cv": result.cv,
               "selection": result.selection}
    (out / "best_params.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    result.trials_.to_csv(out / "trials.csv", index=False)
    lines = [f"wrote {out / 'best_params.json'}", f"wrote {out / 'trials.csv'} ({len(result.trials_)} trials)"]
    for name, draw in (("history.png", result.plot_history), ("importances.png", result.plot_importances)):
        try:
            plt.close(draw(out / name))
            lines.append(f"wrote {out / name}")
        except (ValueError, RuntimeError) as err:
            lines.append(f"no {name}: {err}")
    if result.best_estimator_ is not None:
        result.best_estimator_.save(out / "model")
        lines.append(f"saved the refitted best model to {out / 'model'}")
    return lines
