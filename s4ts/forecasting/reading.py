"""User frames -> validated series on the model's time grid, for fit, predict and backtests."""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from s4ts._training import refuse_changed_network
from s4ts.data.cross_series import with_cross_series
from s4ts.data.frames import SeriesData, parse_freq, split_series, time_gaps, time_kind, to_long
from s4ts.data.timing import series_rate
from s4ts.data.windows import Featurizer, calendar_periods, check_network_range, fit_scale
from s4ts.forecasting.inference import Future, SeriesState
from s4ts.forecasting.params import network_params
from s4ts.forecasting.rates import check_rates
from s4ts.forecasting.recalibration import recent_tail
from s4ts.forecasting.training import auto_val_size
from s4ts.nn.forecast_net import MIN_WINDOW_SCALE

if TYPE_CHECKING:
    from s4ts.forecasting.estimator import S4Forecaster

__all__ = [
    "auto_linear", "auto_nonnegative", "check_future_range", "check_series_range", "check_warm_start",
    "fit_featurizer", "read_series", "series_states", "warn_flat_unscaled",
]


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
    if est.calendar_features is not False and not isinstance(est.calendar_features, str) \
            and found != "datetime":  # True (or numpy's True); "auto" reads no calendar here
        raise ValueError(
            f"{name}: calendar_features=True needs datetime timestamps, but {est.time_col!r} "
            f"holds integers; set calendar_features=False"
        )
    freq = parse_freq(est.freq, found) if est.freq is not None else None
    series = split_series(
        long, freq=freq, time_grid=est.time_grid, covariates=est._covariates, **est._columns
    )
    irregular = [s.uid for s in series if s.freq is None]
    if irregular and est.mode != "diag":
        raise ValueError(
            f"{name}: series {irregular[0]!r} has irregular timestamps (time_grid="
            f"{est.time_grid!r}), which need mode='diag': only the diagonal SSM runs a "
            f"per-step Δ. Fit with mode='diag', or resample the series and pass time_grid='regular'"
        )
    if kind is None and est.linear != "auto" and bool(est.linear) and 0 < len(irregular) < len(series):
        regular = next(s.uid for s in series if s.freq is not None)
        raise ValueError(
            f"{name}: series {irregular[0]!r} has irregular timestamps and series {regular!r} "
            f"a regular grid; one linear path reads either steps of one rate or time, not both. "
            f"Fit with linear='auto' or False, or pass time_grid='irregular' for all"
        )
    if est.cross_series:
        ids = [s.uid for s in series] if kind is None else list(est.series_)
        series = with_cross_series(series, ids, name)
    return series


def auto_linear(est: S4Forecaster, series: list[SeriesData]) -> bool:
    """Whether a fit on `series` gets the linear path: `linear`, or for "auto" when every
    series is regular or every one is irregular (the path then reads time, see `ForecastNet`)."""
    if est.linear != "auto":
        return bool(est.linear)
    regular = [s.freq is not None for s in series]
    return all(regular) or not any(regular)


def auto_nonnegative(est: S4Forecaster, series: list[SeriesData]) -> bool:
    """Whether forecasts are floored at zero: `nonnegative`, or for "auto" when no training
    value is negative."""
    if est.nonnegative != "auto":
        return bool(est.nonnegative)
    return all(np.nanmin(s.y, initial=0.0) >= 0 for s in series)


def check_series_range(
    est: S4Forecaster, name: str, s: SeriesData, loc: float, scale: float, featurizer: Featurizer
) -> None:
    """Refuse a series whose values, scaled by (loc, scale) and the covariates' training
    statistics, exceed what the float32 network reads (see `check_network_range`)."""
    columns = [est.target_col, *est._covariates]
    n_cross = s.covariates.shape[1] - len(est._covariates)  # cross_series=True: other targets
    columns += [f"cross-series input {k}" for k in range(n_cross)]
    with np.errstate(over="ignore", invalid="ignore"):
        y_scaled = (s.y - loc) / scale
        covariates = featurizer.scale_covariates(s.covariates)
    check_network_range(name, s.uid, s.times, y_scaled, covariates, columns, est.scaler)


def check_future_range(est: S4Forecaster, uid: Hashable, future: Future, featurizer: Featurizer) -> None:
    """Refuse X_future covariates beyond what the float32 network reads."""
    if future.futr.shape[1]:
        with np.errstate(over="ignore", invalid="ignore"):
            covariates = featurizer.scale_covariates(future.futr)
        check_network_range("X_future", uid, future.times, None, covariates, est.futr_exog, est.scaler)


def warn_flat_unscaled(est: S4Forecaster, series: list[SeriesData]) -> None:
    """With scaler=None, warn about a series that varies less than the smallest window scale:
    every window of it is read as flat, so its forecasts come out flat."""
    if est.scaler is not None or est.norm == "none":
        return
    for s in series:
        spread = np.nanstd(s.y)
        if spread < 10 * MIN_WINDOW_SCALE:
            warnings.warn(
                f"series {s.uid!r} varies by {spread:.3g}, less than 10x the smallest spread the "
                f"network normalises a window by ({MIN_WINDOW_SCALE:g}); with scaler=None its "
                f"windows read as flat and its forecasts come out flat. Use scaler='standard'",
                UserWarning, stacklevel=4,
            )
            return


def checked_val_size(est: S4Forecaster, series: list[SeriesData]) -> int:
    """Steps of each series held out for validation (`val_size`, None decided by the series'
    lengths); every series must hold them plus a horizon and one step of context."""
    horizon, val_size = est.horizon, est.val_size
    if val_size is None:
        val_size = auto_val_size(horizon, [len(s.times) for s in series])
    needed = horizon + 1 + val_size
    for s in series:
        if len(s.times) < needed:
            raise ValueError(
                f"series {s.uid!r} has {len(s.times)} time steps; fitting needs at least "
                f"{needed} (1 step of context + horizon {horizon} + validation {val_size}). "
                f"Drop the series, lower horizon, or set val_size=0"
            )
    return val_size


def series_states(
    est: S4Forecaster, series: list[SeriesData], name: str, rate: float | None = None
) -> list[SeriesState]:
    """Forecasting states after new histories (known series keep their fitted scaling).

    A regular series runs at `rate` when given, else at its step / the training step;
    an irregular one at its own gaps."""
    states, checked = [], []
    for s in series:
        if s.freq is None:
            if rate is not None:
                raise ValueError(
                    f"{name}: series {s.uid!r} has irregular timestamps, whose Δ comes from "
                    f"its gaps; rate= applies to regular series only, so leave it out"
                )
            series_rate_ = None
            gaps = time_gaps(s.times) / est.train_step_
            # The typical gap stands for the sampling rate of an irregular series.
            checked.append(float(np.median(gaps)) if len(gaps) else 1.0)
        else:
            series_rate_ = series_rate(s, est.train_step_) if rate is None else rate
            checked.append(series_rate_)
        known = est.series_.get(s.uid)
        loc, scale = (known.loc, known.scale) if known else fit_scale(s.y, est.scaler)
        check_series_range(est, name, s, loc, scale, est.featurizer_)
        states.append(SeriesState(s.freq, loc, scale, series_rate_, est._context(s, series_rate_),
                                  recent_tail(est, s, series_rate_), known.trained_until if known else None))
    check_rates(est.net_, [s.uid for s in series], checked, est.rates_, name)
    return states


def fit_featurizer(
    est: S4Forecaster, series: list[SeriesData], scaling: list[tuple[float, float]],
    fitted: Featurizer | None = None,
) -> Featurizer:
    """The input encoder fitted on the training series (or the `fitted` one a warm start
    keeps), whose value ranges (scaled by `scaling`, one (loc, scale) each) it then checks."""
    featurizer = fitted
    if featurizer is None:
        # Past-only inputs: hist_exog, then the cross-series targets when cross_series=True.
        n_hist = series[0].covariates.shape[1] - len(est.futr_exog)
        featurizer = Featurizer(len(est.futr_exog), n_hist, calendar_periods(est.calendar_features, series))
        featurizer.fit(series)
    for s, (loc, scale) in zip(series, scaling):
        check_series_range(est, "df", s, loc, scale, featurizer)
    warn_flat_unscaled(est, series)
    return featurizer


def check_warm_start(est: S4Forecaster, series: list[SeriesData]) -> None:
    """A warm start continues the fitted network on `series`: the same architecture, time
    kind and (with cross_series=True) series; with a linear path, regular series after a fit
    on regular ones, irregular after irregular. Else a ValueError says what differs."""
    refuse_changed_network(est, network_params(est))
    kind = time_kind(series[0].times)
    if kind != est.time_kind_:
        raise ValueError(f"warm_start=True: df's times are {kind}s but the forecaster was "
                         f"fitted on {est.time_kind_}s")
    uids = [s.uid for s in series]
    if est.cross_series and uids != list(est.series_):
        raise ValueError(f"warm_start=True with cross_series=True: every series reads the values of "
                         f"the {len(est.series_)} fitted series, so df must hold those series, in "
                         f"the fitted order; it holds {len(uids)}")
    if est.linear_:
        fitted_regular = all(state.rate is not None for state in est.series_.values())
        other = [s.uid for s in series if (s.freq is not None) != fitted_regular]
        if other:
            kinds = ("regular", "irregular") if fitted_regular else ("irregular", "regular")
            raise ValueError(f"warm_start=True: the linear path was fitted on {kinds[0]} series, "
                             f"and series {other[0]!r} is {kinds[1]}; fit from scratch")
