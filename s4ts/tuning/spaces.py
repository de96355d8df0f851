"""Search spaces: the defaults per estimator, and a user's space (a dict or a function of the trial)
turned into one trial's parameters, with the names checked against the estimator's."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from s4ts.tuning._optuna import require_optuna

__all__ = [
    "FIXED_PARAMS", "SearchSpace", "check_names", "context_choices", "current_params", "default_search_space", "suggest",
]

# A dict of optuna distributions (or lists of choices), or a function of the trial returning
# the parameters it chose.
SearchSpace = Mapping[str, Any] | Callable[[Any], Mapping[str, Any]]

# Parameters that describe the task or the data, not the model: never searched.
FIXED_PARAMS = frozenset({
    "horizon", "freq", "time_grid", "id_col", "time_col", "target_col", "futr_exog", "hist_exog",
    "cross_series", "quantiles", "accelerator", "random_state", "verbose",
})

_CONTEXT_MULTIPLES = (1, 2, 4, 8)


def _shared_space(distributions) -> dict[str, Any]:
    """The backbone and optimiser settings both estimators search."""
    return {
        "d_model": distributions.CategoricalDistribution([32, 64, 128]),
        "n_layers": distributions.IntDistribution(2, 6),
        "d_state": distributions.CategoricalDistribution([16, 32, 64]),
        "mode": distributions.CategoricalDistribution(["diag", "dplr"]),
        "dropout": distributions.FloatDistribution(0.0, 0.3),
        "learning_rate": distributions.FloatDistribution(3e-4, 1e-2, log=True),
        "weight_decay": distributions.FloatDistribution(1e-4, 0.1, log=True),
    }


def context_choices(horizon: int, default: int, shortest: int | None) -> list[int]:
    """Context lengths of 1, 2, 4 and 8 horizons (and the estimator's own), those at most half
    the shortest training series; the estimator's own alone when none is that short."""
    choices = sorted({horizon * m for m in _CONTEXT_MULTIPLES} | {default})
    if shortest is not None:
        choices = [c for c in choices if c <= shortest // 2] or [default]
    return choices


def default_search_space(estimator: Any, shortest: int | None = None) -> dict[str, Any]:
    """The default space of `estimator` (S4Forecaster or S4Classifier) as optuna distributions.

    Both: d_model {32, 64, 128}, n_layers 2-6, d_state {16, 32, 64}, mode {diag, dplr},
    dropout 0-0.3, learning_rate 3e-4-1e-2 and weight_decay 1e-4-0.1 (log scale).
    S4Forecaster adds context_length (1, 2, 4 or 8 horizons, at most half of `shortest`, the
    shortest training series), norm {mean, last} and linear {auto, False}; S4Classifier adds
    pooling {mean, max, meanmax} and bidirectional {True, False} (it has no input normalisation to choose:
    every channel is standardised).
    """
    distributions = require_optuna().distributions
    space = _shared_space(distributions)
    kind = type(estimator).__name__
    if kind == "S4Forecaster":
        default = estimator.context_length or 4 * estimator.horizon
        space["context_length"] = distributions.CategoricalDistribution(
            context_choices(estimator.horizon, default, shortest)
        )
        space["norm"] = distributions.CategoricalDistribution(["mean", "last"])
        space["linear"] = distributions.CategoricalDistribution(["auto", False])
    elif kind == "S4Classifier":
        space["pooling"] = distributions.CategoricalDistribution(["mean", "max", "meanmax"])
        space["bidirectional"] = distributions.CategoricalDistribution([True, False])
    else:
        raise TypeError(f"estimator must be an S4Forecaster or an S4Classifier, got {kind}")
    return space


def check_names(names, estimator: Any, where: str) -> None:
    """ValueError naming a parameter the estimator does not have, or one that is not searchable."""
    valid = set(estimator.get_params()) - FIXED_PARAMS
    for name in names:
        if name in FIXED_PARAMS:
            raise ValueError(
                f"{where}: {name!r} describes the task or the data and cannot be searched; "
                f"set it on the {type(estimator).__name__}"
            )
        if name not in valid:
            raise ValueError(
                f"{where}: {name!r} is not a parameter of {type(estimator).__name__}; "
                f"searchable ones are {sorted(valid)}"
            )


def _suggest_one(trial, name: str, distribution) -> Any:
    """Ask the trial for one value of `distribution` (a list or tuple is a set of choices)."""
    distributions = require_optuna().distributions
    if isinstance(distribution, (list, tuple)):
        return trial.suggest_categorical(name, list(distribution))
    if isinstance(distribution, distributions.CategoricalDistribution):
        return trial.suggest_categorical(name, distribution.choices)
    if isinstance(distribution, distributions.IntDistribution):
        return trial.suggest_int(name, distribution.low, distribution.high, step=distribution.step,
                                 log=distribution.log)
    if isinstance(distribution, distributions.FloatDistribution):
        return trial.suggest_float(name, distribution.low, distribution.high, step=distribution.step,
                                   log=distribution.log)
    raise TypeError(
        f"search_space[{name!r}] = {distribution!r} must be an optuna distribution "
        f"(FloatDistribution, IntDistribution, CategoricalDistribution) or a list of choices"
    )


def suggest(trial, space: SearchSpace, estimator: Any) -> dict[str, Any]:
    """One trial's estimator parameters from `space`, names checked against `estimator`."""
    if callable(space):
        params = space(trial)
        if not isinstance(params, Mapping):
            raise TypeError(
                f"search_space function returned {type(params).__name__}; it must return a dict "
                f"of {type(estimator).__name__} parameters"
            )
        check_names(params, estimator, "search_space function")
        return dict(params)
    return {name: _suggest_one(trial, name, distribution) for name, distribution in space.items()}


def _inside(distribution, value) -> bool:
    """Whether `value` is one `distribution` (or a list of choices) can give."""
    distributions = require_optuna().distributions
    if isinstance(distribution, (list, tuple)):
        return value in distribution
    if isinstance(distribution, distributions.CategoricalDistribution):
        return value in distribution.choices
    if isinstance(distribution, (distributions.IntDistribution, distributions.FloatDistribution)):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return number and distribution.low <= value <= distribution.high
    return False


def current_params(estimator: Any, space: Mapping[str, Any]) -> dict[str, Any]:
    """The estimator's own values of the parameters in `space` that the space can give: the
    study's first trial, so a search starts from the settings it is asked to improve.
    A forecaster's context_length None is the 4 horizons it stands for."""
    params = estimator.get_params()
    if params.get("context_length", 0) is None and "horizon" in params:
        params["context_length"] = 4 * params["horizon"]
    return {name: params[name] for name, distribution in space.items()
            if name in params and _inside(distribution, params[name])}
