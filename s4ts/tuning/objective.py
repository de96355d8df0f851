"""Trial objectives: fit a clone with the trial's parameters, score it on data it did not fit.

Forecasters are scored on rolling-origin windows at the end of the data given to `tune`
(`cv` origins `cv_step` apart; the clone is fitted on what precedes the first), classifiers
on a stratified held-out share `cv` of the series. Either way the estimator's own
early-stopping split lies inside the part it fits, and its per-epoch validation loss is what
the trial reports to the pruner.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import numpy as np
from sklearn import metrics as sk_metrics
from sklearn.base import clone
from sklearn.model_selection import train_test_split

from s4ts import _training
from s4ts.data.sequences import align_labels, to_sequences
from s4ts.forecasting.evaluation import cross_validation_metrics_by_origin
from s4ts.tuning._optuna import require_optuna
from s4ts.tuning.pruning import PruningCallback
from s4ts.tuning.spaces import SearchSpace, suggest

__all__ = [
    "CLASSIFIER_METRICS", "FORECASTER_METRICS", "PROCESS", "ClassifierObjective", "ForecastObjective", "Objective",
]

# metric -> direction. Forecast metrics are those `S4Forecaster.evaluate` returns.
FORECASTER_METRICS = {
    "mase": "minimize", "mae": "minimize", "mse": "minimize", "smape": "minimize",
    "crps": "minimize", "quantile_loss": "minimize",
}
# Forecast metrics that need quantiles (a probabilistic distribution).
QUANTILE_METRICS = ("crps", "quantile_loss")
CLASSIFIER_METRICS = {
    "accuracy": "maximize", "balanced_accuracy": "maximize", "f1_macro": "maximize", "log_loss": "minimize",
}


# The worker a trial ran in, recorded on the trial (user attribute "process").
PROCESS = f"{socket.gethostname()}:{os.getpid()}"


# Trial attribute: the objective's metric on each validation unit (a forecaster's origins, a
# classifier's held-out series), in a fixed order, so two trials can be compared pairwise.
PAIRED_SCORES = "paired_scores"


class Objective:
    """Shared by every objective: the trial's clone, its pruning callback, its recorded scores.

    A subclass fits `model` and scores it in `_scores`, returning the metrics and, per metric
    that splits into them, its value on each validation unit; training runs with `pruning`
    among its callbacks, and once `pruning.pruned` is set the scores are not read (it may skip
    them).
    """

    def __init__(self, estimator: Any, space: SearchSpace, metric: str) -> None:
        self.estimator = estimator
        self.space = space
        self.metric = metric

    def _scores(self, model: Any, pruning: PruningCallback) -> tuple[dict[str, float], dict[str, list[float]]]:
        raise NotImplementedError

    def __call__(self, trial) -> float:
        optuna = require_optuna()
        params = suggest(trial, self.space, self.estimator)
        # Also what a search-space function set without asking the trial: the refit reads this.
        trial.set_user_attr("params", {k: v.item() if isinstance(v, np.generic) else v for k, v in params.items()})
        trial.set_user_attr("process", PROCESS)  # which worker ran it
        model = clone(self.estimator).set_params(**params)
        callback = PruningCallback(trial)
        with _training.extra_callbacks(callback):
            scores, by_unit = self._scores(model, callback)
        trial.set_user_attr("epochs", callback.epochs_reported)
        if callback.pruned:
            raise optuna.TrialPruned(f"pruned after {callback.epochs_reported} epochs")
        if self.metric not in scores:
            raise ValueError(
                f"metric={self.metric!r} cannot score this trial ({params}); it gives {sorted(scores)} "
                f"(crps and quantile_loss need a probabilistic distribution, not 'point')"
            )
        for name, value in scores.items():
            trial.set_user_attr(name, float(value))
        if self.metric in by_unit:
            trial.set_user_attr(PAIRED_SCORES, [float(v) for v in by_unit[self.metric]])
        return float(scores[self.metric])


class ForecastObjective(Objective):
    """Score S4Forecaster trials on `cv` rolling origins `cv_step` apart at the end of `df`."""

    def __init__(self, estimator: Any, df: Any, space: SearchSpace, metric: str, cv: int,
                 cv_step: int | None, season: int) -> None:
        super().__init__(estimator, space, metric)
        self.df, self.cv, self.cv_step, self.season = df, cv, cv_step, season

    def _scores(self, model: Any, pruning: PruningCallback) -> tuple[dict[str, float], dict[str, list[float]]]:
        scores, by_origin = cross_validation_metrics_by_origin(model, self.df, self.cv, self.cv_step, self.season)
        return scores, {name: [origin[name] for origin in by_origin] for name in scores}


class ClassifierObjective(Objective):
    """Score S4Classifier trials on a stratified held-out share `cv` of the series."""

    def __init__(self, estimator: Any, X: Any, y: Any, space: SearchSpace, metric: str, cv: float,
                 seed: int, fit_params: dict[str, Any]) -> None:
        super().__init__(estimator, space, metric)
        series, ids = to_sequences(X)  # (C, L_i) arrays
        labels = align_labels(y, ids, len(series))
        self.fit_part, self.score_part = stratified_split(labels, cv, seed)
        self.series, self.labels, self.fit_params = series, labels, fit_params

    def _scores(self, model: Any, pruning: PruningCallback) -> tuple[dict[str, float], dict[str, list[float]]]:
        model.fit([self.series[i] for i in self.fit_part], self.labels[self.fit_part], **self.fit_params)
        if pruning.pruned:
            return {}, {}
        X_score = [self.series[i] for i in self.score_part]
        truth = self.labels[self.score_part]
        sample_rate = self.fit_params.get("sample_rate")
        proba = model.predict_proba(X_score, sample_rate=sample_rate)  # (n, n_classes)
        predicted = model.classes_[proba.argmax(axis=1)]
        true_proba = proba[np.arange(len(truth)), np.searchsorted(model.classes_, truth)]
        scores = {
            "accuracy": sk_metrics.accuracy_score(truth, predicted),
            "balanced_accuracy": sk_metrics.balanced_accuracy_score(truth, predicted),
            "f1_macro": sk_metrics.f1_score(truth, predicted, average="macro"),
            "log_loss": sk_metrics.log_loss(truth, proba, labels=model.classes_),
        }
        # Per held-out series where the metric is a mean over series (the others are not).
        eps = np.finfo(proba.dtype).eps
        by_series = {"accuracy": (predicted == truth).astype(float).tolist(),
                     "log_loss": (-np.log(np.clip(true_proba, eps, 1.0))).tolist()}
        return scores, by_series


def stratified_split(labels: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the series to fit and those to score (share `share`), stratified by label."""
    classes, counts = np.unique(labels, return_counts=True)
    if counts.min() < 2:
        raise ValueError(
            f"class {classes[counts.argmin()].item()!r} has {counts.min()} series; a stratified tuning "
            f"split needs at least two per class (one to fit, one to score)"
        )
    n_score = max(round(share * len(labels)), len(classes))
    if len(labels) - n_score < len(classes):
        raise ValueError(
            f"cv={share!r} leaves {len(labels) - n_score} of {len(labels)} series to fit, fewer than "
            f"the {len(classes)} classes; lower cv"
        )
    return train_test_split(np.arange(len(labels)), test_size=n_score, stratify=labels, random_state=seed)
