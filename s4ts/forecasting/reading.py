"""User frames -> validated series on the model's time grid, for fit, predict and backtests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from s4ts.data.cross_series import with_cross_series
from s4ts.data.frames import SeriesData, parse_freq, split_series, time_kind, to_long

if TYPE_CHECKING:
    from s4ts.forecasting.estimator import S4Forecaster

__all__ = ["read_series"]


def read_series(
    est: S4Forecaster, data: pd.DataFrame | pd.Series, name: str, kind: str | None = None
) -> list[SeriesData]:
    """The validated series of `data` (argument `name` in messages). `kind` is the time kind
    the model expects, given exactly when the frame is read for a fitted model (whose series
    the cross-series inputs then are)."""
    long = to_long(data, covariates=est._covariates, name=name, **est._columns)
    found = time_kind(long[est.time_col])
    if kind is not None and found != kind:
        raise ValueError(
            f"{name}: time column {est.time_col!r} holds {found} time but the model was "
            f"fitted on {kind} time; give timestamps of the same kind"
        )
    if est.calendar_features and found != "datetime":
        raise ValueError(
            f"{name}: calendar_features=True needs datetime timestamps, but {est.time_col!r} "
            f"holds integers; set calendar_features=False"
        )
    freq = parse_freq(est.freq, found) if est.freq is not None else None
    series = split_series(
        long, freq=freq, time_grid=est.time_grid, covariates=est._covariates, **est._columns
    )
    irregular = [s.uid for s in series if s.freq is None]
    # linear="auto" turns the path off for irregular training data; a fitted path stays.
    linear = est.linear_ if kind is not None else (est.linear != "auto" and bool(est.linear))
    if irregular and (est.mode != "diag" or linear):
        raise ValueError(
            f"{name}: series {irregular[0]!r} has irregular timestamps (time_grid="
            f"{est.time_grid!r}), which need mode='diag' and no linear path: only the "
            f"diagonal SSM runs a per-step Δ, and the linear path maps steps of one rate. "
            f"Fit with those (linear='auto' or False), or resample the series and pass "
            f"time_grid='regular'"
        )
    if est.cross_series:
        ids = [s.uid for s in series] if kind is None else list(est.series_)
        series = with_cross_series(series, ids, name)
    return series
