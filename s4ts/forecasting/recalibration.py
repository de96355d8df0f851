"""Quantile widths recalibrated at every forecast from the series' most recent windows
(`S4Forecaster(calibrate_quantiles="recent")`).

Before a forecast of h steps from a series' last observation, the fitted model forecasts
the `RECENT_WINDOWS` whole windows of h steps that end at that observation (origins h,
2h, ... steps back), and each quantile's distance from the median is scaled to fit their
observed values (`quantile_widths`: each level's share and its band's, half the skew). Values the
network trained on (up to the series' `trained_until`, before its validation steps) are
left out (`SKIP_TRAINED`): errors on them understate a forecast's. Series whose
histories end at the same time are pooled; so in a backtest each cutoff is calibrated by
what was observed before it, including earlier test windows: the band widens after
misses and narrows after over-coverage, where widths fixed at fit time keep the
validation period's. The median (the point forecast) is unchanged.

Only regular series of a quantile head recalibrate (irregular ones keep the trained
widths). The extra work is one forecast per window, at most `MAX_WINDOWS` windows per
group of series (an evenly spaced subset beyond that).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from s4ts.data.frames import SeriesData
from s4ts.forecasting.inference import (
    Future,
    SeriesState,
    append_steps,
    groups,
    history_window,
    run_forecasts,
    truncate,
)
from s4ts.nn.distributions import QuantileHead, quantile_widths

if TYPE_CHECKING:
    from s4ts.forecasting.estimator import S4Forecaster

__all__ = [
    "MAX_WINDOWS", "RECENT_WINDOWS", "extend_recent", "recalibrates", "recent_tail", "recent_widths", "trained_until",
]

RECENT_WINDOWS = 8  # as many as the validation windows of `val_size=None`
WINDOW_STRIDE = 1.0  # origins this many forecast lengths apart
MAX_WINDOWS = 1024
SKIP_TRAINED = True  # leave out values the network trained on (False: calibration v4's "recent")


def recalibrates(est: S4Forecaster) -> bool:
    """Whether the fitted `est` recalibrates its quantiles at each forecast."""
    return isinstance(est.calibrate_quantiles, str) and isinstance(est.head_, QuantileHead)


def recent_tail(est: S4Forecaster, series: SeriesData, rate: float | None) -> SeriesData | None:
    """The end of a series that its recent windows and their contexts read: the span of
    `context_length_ + RECENT_WINDOWS * horizon` training steps (see `history_window`);
    None where nothing recalibrates (irregular series, other heads)."""
    if series.freq is None or not recalibrates(est):
        return None
    return history_window(series, _span(est), rate, est.train_step_, est.rates_)


def trained_until(series: SeriesData, val_size: int, before: SeriesState | None = None):
    """The time of the last value of `series` that a fit holding out its last `val_size`
    steps trained on (training targets end there, see `window_index`), or `before`'s (the
    series' state from an earlier fit that a warm start continues) when later."""
    until = series.times[len(series.times) - val_size - 1]
    if before is not None and before.trained_until is not None and before.trained_until > until:
        return before.trained_until
    return until


def extend_recent(est: S4Forecaster, state: SeriesState, new: SeriesData) -> None:
    """Append the observations `new` to the state's recent tail, if it keeps one (`update`)."""
    if state.recent is not None:
        state.recent = append_steps(state.recent, new, _span(est), state.rate, est.train_step_, est.rates_)


def _span(est: S4Forecaster) -> int:
    """Training steps of history a recent tail keeps."""
    return est.context_length_ + RECENT_WINDOWS * est.horizon


def _windows(state: SeriesState, steps: int) -> list[int]:
    """Cut positions in the state's tail of its latest `RECENT_WINDOWS` windows of `steps`
    steps, origins `WINDOW_STRIDE * steps` apart (the latest partly observed when under 1),
    latest first; none whose values the network all trained on."""
    tail = state.recent
    stride = max(1, round(WINDOW_STRIDE * steps))
    cuts = []
    for k in range(1, RECENT_WINDOWS + 1):
        cut = len(tail.times) - 1 - k * stride
        last = cut + min(steps, k * stride)  # the window's last observed position
        if cut < 0 or not np.isfinite(tail.y[: cut + 1]).any() or _trained_on(state, slice(last, last + 1)).any():
            break
        cuts.append(cut)
    return cuts


def _trained_on(state: SeriesState, positions: slice) -> np.ndarray:
    """(n,) for the values at `positions` of the state's tail: whether the network trained on
    them, so calibration leaves them out (never, with `SKIP_TRAINED` off)."""
    times = state.recent.times[positions]
    if not SKIP_TRAINED or state.trained_until is None:
        return np.zeros(len(times), dtype=bool)
    return np.asarray(times <= state.trained_until)


def recent_widths(est: S4Forecaster, states: Sequence[SeriesState], futures: Sequence[Future]) -> np.ndarray | None:
    """Widths (S, Q) per state and trained quantile level for forecasts of `futures` after
    `states`: 1 where a group's recent windows hold too few observed values (or the series
    is irregular). None when `est` does not recalibrate."""
    if not recalibrates(est):
        return None
    widths = np.ones((len(states), len(est.head_.quantiles)))
    keys = [st.last_time if st.recent is not None else None for st in states]
    for key, members in groups(keys).items():
        if key is None:
            continue
        windows = [(i, cut, len(futures[i].times)) for i in members
                   for cut in _windows(states[i], len(futures[i].times))]
        if len(windows) > MAX_WINDOWS:
            windows = [windows[j] for j in np.linspace(0, len(windows) - 1, MAX_WINDOWS).round().astype(int)]
        if not windows:
            continue
        found = _group_widths(est, states, windows)
        if found is not None:
            widths[members] = found
    return widths


def _group_widths(est: S4Forecaster, states: Sequence[SeriesState], windows: list[tuple[int, int, int]]):
    """Widths (Q,) from the forecasts of `windows` (state index, cut, steps); None if too few."""
    n_futr = len(est.futr_exog)
    past_states, past_futures, truths = [], [], []
    for i, cut, steps in windows:
        st = states[i]
        ahead = slice(cut + 1, cut + 1 + steps)
        context = est._context(truncate(st.recent, cut), st.rate)
        past_states.append(SeriesState(st.freq, st.loc, st.scale, st.rate, context))
        past_futures.append(Future(st.recent.times[ahead], st.recent.covariates[ahead, :n_futr]))
        truth = st.recent.y[ahead].astype(np.float64)  # (steps,), fewer at the tail's end
        truth[_trained_on(st, ahead)] = np.nan
        truths.append(truth)
    raw, shift, scale = run_forecasts(
        est.net_, est.featurizer_, past_states, past_futures, est.train_step_, est.rates_
    )  # (sum steps, Q), (sum steps,) x2
    y = (np.concatenate(truths) - shift) / scale  # in the head's units, as raw
    return quantile_widths(raw, y, est.head_.quantiles)
