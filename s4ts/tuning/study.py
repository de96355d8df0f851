"""`tune`: an Optuna study over an estimator's parameters, and the refitted best estimator."""

from __future__ import annotations

import contextlib
import logging
import os
import statistics
import sys
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from s4ts._distributed import is_distributed
from s4ts._training import seed_from
from s4ts.tuning import plotting
from s4ts.tuning._optuna import require_optuna
from s4ts.tuning.objective import (
    CLASSIFIER_METRICS,
    FORECASTER_METRICS,
    QUANTILE_METRICS,
    ClassifierObjective,
    ForecastObjective,
)
from s4ts.tuning.selection import check_selection, select_trial, trial_params
from s4ts.tuning.spaces import SearchSpace, check_names, current_params, default_search_space
from s4ts.tuning.storage import open_storage, open_study, release_connections

__all__ = ["TuningResult", "default_pruner", "default_sampler", "optuna_logs", "run_study", "tune"]


@dataclass
class TuningResult:
    """What `tune` leaves: the chosen (`selection`) estimator refitted on all the data (None
    with refit=False), its parameters and validation score, the validation `cv` it was scored
    on, the study and its trials as a DataFrame."""

    best_estimator_: Any
    best_params_: dict[str, Any]
    best_value_: float
    metric: str
    cv: int | float  # the validation origins (forecasters) or held-out share (classifiers) scored
    selection: str  # how the trial behind best_params_ was chosen ("best" or "one_se")
    study: Any
    trials_: pd.DataFrame

    def plot_history(self, path: str | os.PathLike | None = None):
        """Trial values and the best so far (see `s4ts.tuning.plotting.plot_history`)."""
        return plotting.plot_history(self.study, self.metric, path)

    def plot_importances(self, path: str | os.PathLike | None = None):
        """Parameter importances (see `s4ts.tuning.plotting.plot_importances`)."""
        return plotting.plot_importances(self.study, path)


def default_sampler(seed: int | None):
    """TPE, seeded: what a study samples with unless told otherwise."""
    return require_optuna().samplers.TPESampler(seed=seed)


def default_pruner():
    """The median pruner: from the fourth trial and the second epoch on, stop a trial whose
    validation loss is worse than the median of earlier trials at the same epoch."""
    return require_optuna().pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)


def _kind(estimator: Any) -> str:
    from s4ts.classification import S4Classifier
    from s4ts.forecasting import S4Forecaster

    if isinstance(estimator, S4Forecaster):
        return "forecaster"
    if isinstance(estimator, S4Classifier):
        return "classifier"
    raise TypeError(f"estimator must be an S4Forecaster or an S4Classifier, got {type(estimator).__name__}")


def _check_count(name: str, value: Any, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}={value!r} must be a positive integer")


def _check_budget(n_trials: Any, timeout: Any, n_jobs: Any) -> None:
    _check_count("n_trials", n_trials)
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or not timeout > 0):
        raise ValueError(f"timeout={timeout!r} must be None or a positive number of seconds")
    if n_trials is None and timeout is None:
        raise ValueError("give n_trials, timeout or both: a study without either would never stop")
    if not (isinstance(n_jobs, (int, np.integer)) and not isinstance(n_jobs, bool) and (n_jobs >= 1 or n_jobs == -1)):
        raise ValueError(f"n_jobs={n_jobs!r} must be a positive integer or -1 (one thread per CPU)")


def _shortest_fit_length(estimator: Any, df: Any, cv: int, cv_step: int | None) -> int:
    """Steps of the shortest series before its first validation origin (the trials' fit data)."""
    series = estimator._series(df, "df")
    back = estimator.horizon + (cv_step or estimator.horizon) * (cv - 1)
    shortest = min(len(s.times) for s in series) - back
    if shortest <= estimator.horizon + 1:
        raise ValueError(
            f"the shortest series has {shortest + back} steps: too few for cv={cv} validation origins "
            f"every {cv_step or estimator.horizon} steps with horizon {estimator.horizon} and still "
            f"a history to fit; lower cv or cv_step"
        )
    return shortest


def _progress_bar(verbose: bool) -> bool:
    """A progress bar for a terminal; a log file or pipe gets optuna's one line per trial."""
    return verbose and sys.stderr.isatty()


@contextlib.contextmanager
def optuna_logs(verbose: bool) -> Iterator[None]:
    """Optuna's per-trial log lines with verbose=True and no progress bar (restored afterwards)."""
    logger = logging.getLogger("optuna")
    level = logger.level
    if not verbose or _progress_bar(verbose):
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _finished(study, optuna) -> int:
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return len(study.get_trials(deepcopy=False, states=states))


def _chosen_trial(study, optuna, given_params: dict[str, Any], selection: str):
    """The complete trial the tuned estimator takes (`select_trial`), read once (other workers
    may add better ones meanwhile)."""
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        counts = pd.Series([t.state.name for t in study.trials]).value_counts().to_dict()
        raise RuntimeError(f"study {study.study_name!r} has no complete trial (trials by state: {counts})")
    minimize = study.direction == optuna.study.StudyDirection.MINIMIZE
    return select_trial(complete, study.best_trial, given_params, selection, minimize)


def tune(
    estimator: Any,
    data: Any,
    y: Any = None,
    *,
    n_trials: int | None = None,
    timeout: float | None = None,
    search_space: SearchSpace | None = None,
    metric: str | None = None,
    cv: float | None = None,
    cv_step: int | None = None,
    season: int = 1,
    storage: Any = None,
    study_name: str | None = None,
    sampler: Any = None,
    pruner: Any = None,
    n_jobs: int = 1,
    random_state: int | None = 0,
    selection: str = "one_se",
    refit: bool = True,
    fit_params: Mapping[str, Any] | None = None,
    verbose: bool = True,
) -> TuningResult:
    """Search `estimator`'s parameters with Optuna; return the chosen settings (`selection`),
    refitted on all of `data`.

    estimator: an S4Forecaster (data: its training frame) or S4Classifier (data: X, y: labels);
        parameters outside the search space keep the estimator's values.
    n_trials: finished (complete or pruned) trials the study should hold; a resumed study or
        several workers stop together once it does (each worker may finish the trial it is in).
    timeout: seconds after which this call starts no new trial.
    search_space: a dict of parameter -> optuna distribution (or list of choices), or a
        function of the `optuna.Trial` returning a dict of parameters; default
        `default_search_space(estimator)`.
    metric: forecasters: "mase" (default), "mae", "mse", "smape", "crps", "quantile_loss", on
        `cv` rolling origins (default 3) `cv_step` steps apart (default horizon) at the end of
        `data`, MASE scaled with `season`; classifiers: "accuracy" (default),
        "balanced_accuracy", "f1_macro" or "log_loss" on a stratified share `cv` (default 0.2).
    storage: None (in memory), a file path or sqlite:/// URL (SQLite: resumable on one machine),
        a postgresql:// URL (many processes or machines), or an optuna storage.
    study_name: the study to create, or to resume when it exists in `storage`.
    sampler, pruner: optuna's; default TPE seeded by `random_state`, and a median pruner that
        compares each epoch's validation loss from the fourth trial and second epoch on.
    n_jobs: trials run at once in threads of this process (-1: one per CPU).
    selection: which trial the result takes: "one_se" (default: the estimator as given, the
        study's first trial, unless the best beats it by more than one standard error of their
        paired differences over the validation origins or held-out series; see
        `s4ts.tuning.selection`) or "best" (the study's best trial).
    fit_params: extra arguments of the classifier's fit (e.g. sample_rate).
    verbose: optuna's progress bar on a terminal, else its log line per trial.
    """
    optuna = require_optuna()
    kind = _kind(estimator)
    _check_budget(n_trials, timeout, n_jobs)
    metrics = FORECASTER_METRICS if kind == "forecaster" else CLASSIFIER_METRICS
    check_selection(selection)
    metric = metric or next(iter(metrics))
    if metric not in metrics:
        raise ValueError(f"metric={metric!r} is not one for {type(estimator).__name__}; choose one of {list(metrics)}")
    seed = seed_from(random_state)
    if is_distributed(estimator):
        raise ValueError(
            f"the estimator trains in several processes (devices={estimator.devices!r}, "
            f"strategy={estimator.strategy!r}); tune runs each trial in one process. To use more "
            f"processes or machines, run several workers on one study (storage=, `s4ts tune "
            f"--worker`; docs/tuning.md), then refit the best settings with several processes"
        )
    if kind == "forecaster":
        estimator._check_params()
        cv = 3 if cv is None else cv
        _check_count("cv", cv, allow_none=False)
        _check_count("cv_step", cv_step)
        _check_count("season", season, allow_none=False)
        if metric in QUANTILE_METRICS and estimator.distribution == "point" and not (
            isinstance(search_space, Mapping) and "distribution" in search_space
        ):
            raise ValueError(
                f"metric={metric!r} scores quantiles, but the estimator's distribution is 'point'; "
                f"choose mase, mae, mse or smape, or a probabilistic distribution"
            )
        shortest = _shortest_fit_length(estimator, data, cv, cv_step)
        space = default_search_space(estimator, shortest) if search_space is None else search_space
        objective = ForecastObjective(estimator, data, space, metric, cv, cv_step, season)
    else:
        if y is None:
            raise ValueError("tuning a classifier needs the labels: tune(classifier, X, y)")
        cv = 0.2 if cv is None else cv
        if isinstance(cv, bool) or not isinstance(cv, float) or not 0 < cv < 1:
            raise ValueError(f"cv={cv!r} must be the held-out share of the series, a float in (0, 1)")
        space = default_search_space(estimator) if search_space is None else search_space
        objective = ClassifierObjective(estimator, data, y, space, metric, cv, seed, dict(fit_params or {}))
    if not callable(space):
        if not isinstance(space, Mapping):
            raise TypeError(f"search_space must be a dict or a function of the trial, got {type(space).__name__}")
        check_names(space, estimator, "search_space")
    if not isinstance(verbose, bool):
        raise TypeError(f"verbose={verbose!r} must be True or False")

    record = {"estimator": type(estimator).__name__, "metric": metric}
    opened = open_storage(storage)
    try:
        with optuna_logs(verbose):
            study = open_study(opened, study_name, record, metrics[metric],
                               sampler or default_sampler(seed), pruner or default_pruner())
            start = {} if callable(space) else current_params(estimator, space)
            if not study.trials and start:
                # The first trial is the estimator as given: the tuned model is chosen against it.
                study.enqueue_trial(start)
            elif sampler is None and study.trials:
                # A resumed study seeded as before would sample its first trials' parameters again.
                study.sampler = default_sampler(seed + len(study.trials))
            run_study(study, objective, n_trials, timeout, n_jobs, verbose)
        warn_short_trials(study, estimator)
        chosen = _chosen_trial(study, optuna, start, selection)
        best_params = trial_params(chosen)
        trials = study.trials_dataframe()
    finally:
        if opened is not storage:  # tune opened it from a path or URL: its pooled connections go
            release_connections(opened)
    best = None
    if refit:
        best = clone(estimator).set_params(**best_params)
        if kind == "forecaster":
            best.fit(data)
        else:
            best.fit(data, y, **dict(fit_params or {}))
    return TuningResult(best, best_params, float(chosen.value), metric, cv, selection, study, trials)


def warn_short_trials(study, estimator) -> None:
    """Warn when the complete trials trained a median of one epoch or less per ensemble member
    while the estimator allows more: such a study ranks settings by how they start, which the
    refit, trained for longer, need not follow (benchmarks/results/tuning_v3: a trial chosen
    after one-epoch trials scored 1.049x the defaults on test)."""
    optuna = require_optuna()
    max_epochs = getattr(estimator, "max_epochs", None)
    per_member = []
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        if "epochs" in trial.user_attrs:
            members = trial.user_attrs.get("params", {}).get("n_estimators", getattr(estimator, "n_estimators", 1))
            per_member.append(trial.user_attrs["epochs"] / max(1, int(members or 1)))
    # "auto" (the classifier's default) scales the budget with the data: more than one epoch.
    if len(per_member) < 2 or max_epochs is None or (isinstance(max_epochs, int) and max_epochs <= 1):
        return
    median = statistics.median(per_member)
    if median <= 1:
        warnings.warn(
            f"the study's complete trials trained a median of {median:g} epoch(s) (max_epochs="
            f"{max_epochs}, max_time={getattr(estimator, 'max_time', None)}): it ranks settings by "
            f"their first epoch, and the refit trains longer. Give each trial more time (max_time) "
            f"or shorter epochs (batches_per_epoch) so trials train as the final fit does",
            UserWarning,
            stacklevel=3,
        )


def run_study(study, objective, n_trials: int | None, timeout: float | None, n_jobs: int, verbose: bool) -> None:
    """Run trials of `objective` until the study holds `n_trials` finished ones (counting those
    of earlier runs and other workers) or `timeout` seconds pass."""
    optuna = require_optuna()
    callbacks = []
    remaining = None
    if n_trials is not None:
        remaining = n_trials - _finished(study, optuna)
        if remaining <= 0:
            return
        # Other workers finish trials too: stop when the study, not this process, has enough.
        callbacks.append(optuna.study.MaxTrialsCallback(
            n_trials, states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
        ))
    study.optimize(
        objective, n_trials=remaining, timeout=timeout, n_jobs=n_jobs, callbacks=callbacks,
        show_progress_bar=_progress_bar(verbose),
    )
