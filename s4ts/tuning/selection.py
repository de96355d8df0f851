"""Which finished trial the tuned estimator takes: the study's best, or the estimator as given
unless a trial beats it by more than the noise of the validation.

A study of a few trials over noisy scores picks its best partly by luck (the winner's curse).
With selection="one_se" a trial replaces the given parameters only when its score is better by
more than one standard error of the paired differences over the validation units (a
forecaster's origins, a classifier's held-out series): the "one-standard-error rule" of model
selection, with the given estimator as the model preferred when the difference is noise.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from s4ts.tuning.objective import PAIRED_SCORES

__all__ = ["SELECTIONS", "check_selection", "paired_gain", "select_trial", "trial_params"]

SELECTIONS = ("best", "one_se")


def check_selection(selection: Any) -> None:
    if selection not in SELECTIONS:
        raise ValueError(f"selection={selection!r} must be one of {list(SELECTIONS)}")


def trial_params(trial) -> dict[str, Any]:
    """The estimator parameters a trial set (a search-space function's too)."""
    return dict(trial.user_attrs.get("params", trial.params))


def paired_gain(trial, reference, minimize: bool) -> tuple[float, float] | None:
    """Mean and standard error of how much `trial` beats `reference` per validation unit
    (positive: better), or None where the two were not scored on the same units."""
    a, b = trial.user_attrs.get(PAIRED_SCORES), reference.user_attrs.get(PAIRED_SCORES)
    if a is None or b is None or len(a) != len(b) or len(a) < 2:
        return None
    gain = np.asarray(b, float) - np.asarray(a, float)  # (units,)
    if not minimize:
        gain = -gain
    if not np.isfinite(gain).all():
        return None
    return float(gain.mean()), float(gain.std(ddof=1) / math.sqrt(len(gain)))


def select_trial(complete: list, best, given_params: dict[str, Any], selection: str, minimize: bool):
    """The trial whose parameters the tuned estimator takes, among the `complete` trials.

    "best": `best` (the study's). "one_se": the first complete trial with `given_params`, unless
    `best` beats it by more than one standard error; `best` where there is no such trial or
    the metric does not split into validation units (balanced accuracy, F1).
    """
    check_selection(selection)
    if selection == "best" or not given_params:
        return best
    given = next((t for t in complete if trial_params(t) == given_params), None)
    if given is None or given.number == best.number:
        return best
    gain = paired_gain(best, given, minimize)
    if gain is None:
        return best
    mean, standard_error = gain
    return best if mean > standard_error else given
