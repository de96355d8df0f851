"""Backtests of a fitted S4Forecaster: rolling-origin cross-validation and hold-out scores."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from s4ts import metrics
from s4ts.data.frames import SeriesData
from s4ts.forecasting import reading
from s4ts.forecasting.horizon import check_future_covariates
from s4ts.forecasting.inference import Future, SeriesState, truncate

if TYPE_CHECKING:
    from s4ts.forecasting.estimator import S4Forecaster

__all__ = ["backtest", "cross_validation", "cross_validation_metrics", "cross_validation_metrics_by_origin", "evaluate", "historical_forecasts"]


def backtest(est: S4Forecaster, series: list[SeriesData], cuts: list[int], states: list[SeriesState]) -> pd.DataFrame:
    """Forecasts of `horizon` steps after position cuts[i] of series[i] from states[i], with the
    cutoff and the true target as columns."""
    horizon, n_futr = est.horizon, len(est.futr_exog)
    futures = []
    for s, cut in zip(series, cuts):
        ahead = slice(cut + 1, cut + 1 + horizon)
        futures.append(Future(s.times[ahead], s.covariates[ahead, :n_futr]))
        check_future_covariates(s.uid, futures[-1].futr, futures[-1].times, est.futr_exog, "df")
    forecast = est._forecast([s.uid for s in series], states, futures)
    forecast.insert(2, "cutoff", pd.Index([s.times[c] for s, c in zip(series, cuts)]).repeat(horizon))
    truth = [s.y[cut + 1 : cut + 1 + horizon] for s, cut in zip(series, cuts)]
    forecast.insert(3, est.target_col, np.concatenate(truth))
    return forecast


def _positive(name: str, value) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}={value!r} must be a positive integer")


def _origins(est: S4Forecaster, series: list[SeriesData], n_windows: int, step: int) -> list[int]:
    """Position of the first of `n_windows` forecast origins of each series, `step` apart, the
    last one `horizon` steps before the series' end."""
    _positive("n_windows", n_windows)
    _positive("step", step)
    back = est.horizon + step * (n_windows - 1)  # steps from the first cutoff to the end
    for s in series:
        if len(s.times) <= back:
            raise ValueError(
                f"series {s.uid!r} has {len(s.times)} time steps, too few for {n_windows} "
                f"windows of horizon {est.horizon} every {step} steps (needs more than {back})"
            )
    return [len(s.times) - 1 - back for s in series]


def _rolling(est: S4Forecaster, series: list[SeriesData], first_cuts: list[int], n_windows: int, step: int):
    """Backtest of fitted `est` from every origin, listed cutoff by cutoff, in one batched pass."""
    all_series, all_cuts, histories = [], [], []
    for k in range(n_windows):
        for s, first in zip(series, first_cuts):
            all_series.append(s)
            all_cuts.append(first + step * k)
            histories.append(truncate(s, first + step * k))
    # Each origin reads the last context before it; known series keep their fitted scaling.
    return backtest(est, all_series, all_cuts, reading.series_states(est, histories, "df"))


def historical_forecasts(est: S4Forecaster, df, n_windows: int = 1, step: int | None = None) -> pd.DataFrame:
    """Forecasts of fitted `est` from the last `n_windows` origins of each series in `df`; no training."""
    check_is_fitted(est)
    step = est.horizon if step is None else step
    series = est._series(df, "df", kind=est.time_kind_)
    return _rolling(est, series, _origins(est, series, n_windows, step), n_windows, step)


def _cross_validate(est: S4Forecaster, df, n_windows: int, step: int | None):
    """Forecasts from every cutoff of a clone fitted up to the first, and the histories it fitted."""
    est._check_params()
    step = est.horizon if step is None else step
    series = est._series(df, "df")
    first_cuts = _origins(est, series, n_windows, step)
    history = [truncate(s, cut) for s, cut in zip(series, first_cuts)]
    model = clone(est)._fit_series(history)
    return _rolling(model, series, first_cuts, n_windows, step), history


def cross_validation(est: S4Forecaster, df, n_windows: int = 1, step: int | None = None) -> pd.DataFrame:
    """Fit a clone of `est` on each series up to its first cutoff and forecast from every cutoff."""
    return _cross_validate(est, df, n_windows, step)[0]


def cross_validation_metrics(
    est: S4Forecaster, df, n_windows: int = 1, step: int | None = None, season: int = 1
) -> dict[str, float]:
    """Metrics (as `evaluate` returns) of `cross_validation`'s forecasts, MASE scaled by the
    history before the first cutoff (the data the clone was fitted on)."""
    return cross_validation_metrics_by_origin(est, df, n_windows, step, season)[0]


def cross_validation_metrics_by_origin(
    est: S4Forecaster, df, n_windows: int = 1, step: int | None = None, season: int = 1
) -> tuple[dict[str, float], list[dict[str, float]]]:
    """`cross_validation_metrics`, and the same metrics of each origin's windows (the k-th
    cutoff of every series), in time order: for paired comparisons of models over origins."""
    _positive("season", season)
    forecasts, history = _cross_validate(est, df, n_windows, step)
    origin = forecasts.groupby(est.id_col, sort=False)["cutoff"].rank(method="dense").to_numpy()
    by_origin = [_metrics(est, forecasts[origin == k], history, season) for k in range(1, n_windows + 1)]
    return _metrics(est, forecasts, history, season), by_origin


def _metrics(est: S4Forecaster, forecasts: pd.DataFrame, history: list[SeriesData], season: int) -> dict[str, float]:
    """`s4ts.metrics.evaluate` of backtest forecasts, scaled by the series' `history`."""
    train = pd.DataFrame(
        {
            est.id_col: pd.Index([s.uid for s in history]).repeat([len(s.y) for s in history]),
            est.target_col: np.concatenate([s.y for s in history]),
        }
    )
    return metrics.evaluate(
        forecasts, train, id_col=est.id_col, target_col=est.target_col, pred_col=est._pred_col,
        quantile_cols=est._quantile_cols, season=season,
    )


def evaluate(est: S4Forecaster, df, season: int = 1) -> dict[str, float]:
    """Metrics of forecasts of the last `horizon` steps of each series from what precedes them."""
    check_is_fitted(est)
    _positive("season", season)
    series = est._series(df, "df", kind=est.time_kind_)
    for s in series:
        if len(s.times) <= est.horizon + season:
            raise ValueError(
                f"series {s.uid!r} has {len(s.times)} time steps; scoring needs more than "
                f"horizon + season = {est.horizon + season}"
            )
    cuts = [len(s.times) - 1 - est.horizon for s in series]
    history = [truncate(s, cut) for s, cut in zip(series, cuts)]
    return _metrics(est, backtest(est, series, cuts, reading.series_states(est, history, "df")), history, season)
