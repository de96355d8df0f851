"""The S4Forecaster settings the bench may set or search, and `--search` grids of them."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection

from s4ts.forecasting.params import DISTRIBUTIONS
from s4ts.nn.forecast_net import NORMS

__all__ = ["FORECASTER_OPTIONS", "SEARCHABLE", "candidates", "parse_search"]


def boolean(text: str) -> bool:
    """'true' or 'false' (any case)."""
    return {"true": True, "false": False}[text.lower()]


def one_of(allowed: Collection[str]) -> Callable[[str], str]:
    """A parser accepting only the values in `allowed`."""
    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"expected one of {list(allowed)}")
        return text
    return parse


def count_or_all(text: str) -> int | None:
    """A positive count, or None for 0 ('no cap')."""
    return int(text) or None


# S4Forecaster constructor arguments the bench passes through (unset: the estimator's default).
FORECASTER_OPTIONS: dict[str, Callable[[str], object]] = {
    "d_model": int, "n_layers": int, "d_state": int, "mode": one_of(("diag", "dplr")),
    "dropout": float, "norm": one_of(NORMS), "linear": boolean, "train_linear": boolean,
    "cross_series": boolean,
    "calendar_features": boolean,
    "distribution": one_of(DISTRIBUTIONS), "ssm_lr": float, "learning_rate": float,
    "weight_decay": float, "batch_size": int, "max_epochs": int, "max_time": float,
    "batches_per_epoch": count_or_all, "early_stopping_patience": int, "gradient_clip_val": float,
}
# `--search` keys: the context length (the baseline's too) and every forecaster option.
SEARCHABLE = {"seq_len": int, **FORECASTER_OPTIONS}


def parse_search(items: list[str] | None) -> dict[str, list]:
    """`["seq_len=96,336", "dropout=0.1,0.3"]` -> `{"seq_len": [96, 336], "dropout": [0.1, 0.3]}`."""
    grid: dict[str, list] = {}
    for item in items or []:
        key, sep, values = item.partition("=")
        if not sep or not values or key not in SEARCHABLE:
            raise ValueError(
                f"--search takes KEY=V1,V2,... with KEY one of {sorted(SEARCHABLE)}; got {item!r}."
            )
        try:
            grid[key] = [SEARCHABLE[key](v) for v in values.split(",")]
        except (KeyError, ValueError) as err:
            raise ValueError(f"--search {item!r}: cannot read a value of {key} ({err}).") from err
    return grid


def candidates(grid: dict[str, list]) -> list[dict]:
    """Every combination of the grid's values (one empty dict when there is nothing to search)."""
    return [dict(zip(grid, values)) for values in itertools.product(*grid.values())]
