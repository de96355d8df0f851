"""Model inputs from regular series: scaling, calendar features, masks and training windows."""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from s4ts.data.frames import SeriesData

__all__ = [
    "CALENDAR_FEATURES",
    "CALENDAR_PERIODS",
    "SCALERS",
    "Featurizer",
    "WindowDataset",
    "calendar_features",
    "calendar_periods",
    "check_network_range",
    "covered_periods",
    "fit_scale",
    "mean_and_std",
    "warn_short_calendar",
    "window_index",
]

SCALERS = ("standard", "robust", None)
CALENDAR_FEATURES = (
    "time_of_day_sin",
    "time_of_day_cos",
    "day_of_week_sin",
    "day_of_week_cos",
    "day_of_year_sin",
    "day_of_year_cos",
)
# The calendar's cycles, each encoded by a (sin, cos) pair of CALENDAR_FEATURES, and their length.
CALENDAR_PERIODS = {"day": pd.Timedelta(days=1), "week": pd.Timedelta(days=7),
                    "year": pd.Timedelta(days=365.25)}
# The interquartile range of a standard normal; dividing by it makes the robust scale
# agree with the standard deviation on Gaussian data.
_NORMAL_IQR = 1.3489795
# The largest input magnitude the float32 network reads: its window statistics square the
# inputs, and 1e15 squared stays below float32's largest value (3.4e38).
MAX_NETWORK_INPUT = 1e15


def mean_and_std(values: np.ndarray, axis: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """NaN-ignoring mean and standard deviation, computed on values divided by their largest
    magnitude so that squares of values near float64's limit (1e300) do not overflow."""
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN
        size = np.nanmax(np.abs(values), axis=axis, keepdims=True)
        size = np.where(np.isfinite(size) & (size > 0), size, 1.0)
        unit = values / size
        mean = np.nanmean(unit, axis=axis, keepdims=True) * size
        std = np.nanstd(unit, axis=axis, keepdims=True) * size
    return np.squeeze(mean, axis=axis), np.squeeze(std, axis=axis)


def fit_scale(y: np.ndarray, method: str | None) -> tuple[float, float]:
    """Location and scale of the observed values of one series (`method`: standard, robust, None)."""
    observed = y[~np.isnan(y)]
    if method is None:
        return 0.0, 1.0
    if method == "standard":
        loc, scale = mean_and_std(observed)
    elif method == "robust":
        q25, loc, q75 = np.quantile(observed, [0.25, 0.5, 0.75])
        scale = (q75 - q25) / _NORMAL_IQR
        if not scale > 0:  # more than half the values equal: fall back to the spread of all
            scale = mean_and_std(observed)[1]
    else:
        raise ValueError(f"scaler={method!r} is not one of {SCALERS}")
    # A constant series has no spread; dividing by 1 keeps it finite and unchanged in shape.
    return float(loc), float(scale) if scale > 1e-12 * max(1.0, abs(loc)) else 1.0


def check_network_range(
    name: str, uid: Hashable, times: pd.Index, y_scaled: np.ndarray | None,
    covariates_scaled: np.ndarray, columns: Sequence[str], scaler: str | None,
) -> None:
    """Refuse a series whose scaled target (T,) or standardised covariates (T, K) exceed what
    the float32 network reads, naming the column and time. `columns` names the checked
    columns in order: the target (unless `y_scaled` is None), then the covariates."""
    parts = [covariates_scaled] if y_scaled is None else [y_scaled[:, None], covariates_scaled]
    values = np.abs(np.concatenate(parts, axis=1))  # (T, len(columns))
    with np.errstate(invalid="ignore"):
        beyond = values > MAX_NETWORK_INPUT
    if not beyond.any():
        return
    step, col = np.argwhere(beyond)[0]
    column = columns[col]
    if y_scaled is not None and col == 0 and scaler is None:
        hint = "with scaler=None the network reads the values as they are; use scaler='standard'"
    else:
        hint = f"divide {column!r} by a constant (the scaling learned in fit maps it this far)"
    raise ValueError(
        f"{name}: series {uid!r}, column {column!r} at {times[step]} reaches "
        f"{values[step, col]:.3g} as the network reads it, beyond the ±{MAX_NETWORK_INPUT:.0e} the float32 "
        f"network can read; {hint}"
    )


def warn_short_calendar(series: Sequence[SeriesData]) -> None:
    """Warn when no series spans two years: the day-of-year inputs then see each day once."""
    span = max(s.times[-1] - s.times[0] for s in series)
    if span < pd.Timedelta(days=730):
        warnings.warn(
            f"calendar_features=True with at most {span.days} days of history per series: each "
            f"day of the year occurs at most once in training, so the day-of-year inputs can "
            f"learn that one year instead of a yearly pattern (Prophet turns yearly seasonality "
            f"off below two years). Check forecasts on a season the training data does not "
            f"repeat, or set calendar_features=False",
            UserWarning, stacklevel=5,
        )


def covered_periods(series: Sequence[SeriesData]) -> tuple[str, ...]:
    """The calendar cycles worth reading from datetime series (`calendar_features="auto"`):
    those that vary between steps (the most common step is shorter than the cycle: no time
    of day for daily data) and that the history covers at least twice (the longest series
    spans two cycles: no day of year below two years, as Prophet does)."""
    if not series or not all(isinstance(s.times, pd.DatetimeIndex) for s in series):
        return ()
    span = max(s.times[-1] - s.times[0] for s in series)
    gaps = np.concatenate([np.diff(s.times.asi8) for s in series if len(s.times) > 1])
    if not len(gaps):
        return ()
    values, counts = np.unique(gaps, return_counts=True)
    step = pd.Timedelta(int(values[np.argmax(counts)]), "ns")
    return tuple(name for name, period in CALENDAR_PERIODS.items() if step < period and span >= 2 * period)


def calendar_periods(requested: bool | str, series: Sequence[SeriesData]) -> tuple[str, ...]:
    """The calendar cycles a model of `calendar_features=requested` reads from `series`:
    "auto" those they cover, True all (warning under two years), False none."""
    if isinstance(requested, str):  # "auto"
        return covered_periods(series)
    if requested:
        warn_short_calendar(series)
        return tuple(CALENDAR_PERIODS)
    return ()


def calendar_features(times: pd.DatetimeIndex, periods: Sequence[str] = tuple(CALENDAR_PERIODS)) -> np.ndarray:
    """Cyclic encodings (sin, cos) of the time of day, day of week and day of year, those of
    `periods` ("day", "week", "year"): (T, 2 * len(periods))."""
    if not periods:
        return np.zeros((len(times), 0))
    # From integer seconds of the local wall clock (what .hour and .dayofyear read), in numpy:
    # pandas' field accessors cost 0.6 ms a call, which predict paid once per series.
    times = pd.DatetimeIndex(times)
    wall = times.tz_localize(None) if times.tz is not None else times
    seconds = wall.asi8 // 10**9  # (T,) since 1970-01-01 (floor: also before it)
    days = seconds // 86400
    day = (seconds - days * 86400) / 86400.0
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0, as pandas counts
    year_start = wall.to_numpy().astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    phase = {"day": day, "week": (weekday + day) / 7.0, "year": (days - year_start + day) / 365.25}
    angles = 2 * np.pi * np.stack([phase[p] for p in periods], axis=1)  # (T, len(periods))
    return np.stack([np.sin(angles), np.cos(angles)], axis=2).reshape(len(times), 2 * len(periods))


@dataclass
class Featurizer:
    """Encodes a series as model inputs: [y, observed, futr..., hist..., calendar...] per step.

    Unknown values (NaN: missing y, y and past-only covariates over the horizon) enter as 0,
    and the `observed` channel tells the model where y was seen. Covariates are standardized
    per column with statistics of the training data.
    """

    n_futr: int
    n_hist: int
    calendar: tuple[str, ...]  # the CALENDAR_PERIODS read, e.g. ("day", "week"); () for none
    cov_loc: np.ndarray | None = None  # (n_futr + n_hist,)
    cov_scale: np.ndarray | None = None  # (n_futr + n_hist,)

    def fit(self, series: Sequence[SeriesData]) -> Featurizer:
        """Learn per-column covariate statistics from training series."""
        covariates = np.concatenate([s.covariates for s in series], axis=0)  # (sum T, K)
        if len(covariates):
            loc, scale = mean_and_std(covariates, axis=0)
        else:
            loc, scale = np.zeros(covariates.shape[1]), np.ones(covariates.shape[1])
        self.cov_loc = np.nan_to_num(loc)
        self.cov_scale = np.where(np.nan_to_num(scale) > 1e-12, scale, 1.0)
        return self

    @property
    def n_channels(self) -> int:
        return 2 + self.n_futr + self.n_hist + 2 * len(self.calendar)

    @property
    def hidden_channels(self) -> list[int]:
        """Channels unknown at forecast positions: y, observed, past-only covariates."""
        first_hist = 2 + self.n_futr
        return [0, 1, *range(first_hist, first_hist + self.n_hist)]

    def scale_covariates(self, covariates: np.ndarray) -> np.ndarray:
        """Raw covariates (T, K) standardised by the training statistics, NaN kept; (T, n_futr)
        future-known ones alone are scaled by their columns' statistics."""
        k = covariates.shape[1]  # all K columns, or the first n_futr (future-known values)
        return (covariates - self.cov_loc[:k]) / self.cov_scale[:k]

    def encode(
        self, y_scaled: np.ndarray, covariates: np.ndarray, times: pd.Index
    ) -> np.ndarray:
        """Inputs (T, C) float32 from scaled y (T,), raw covariates (T, K) and timestamps (T,)."""
        observed = ~np.isnan(y_scaled)
        parts = [np.where(observed, y_scaled, 0.0)[:, None], observed[:, None].astype(float)]
        if covariates.shape[1]:
            parts.append(np.nan_to_num(self.scale_covariates(covariates)))
        if self.calendar:
            parts.append(calendar_features(times, self.calendar))
        return np.concatenate(parts, axis=1).astype(np.float32)


def window_index(
    lengths: Sequence[int], horizon: int, val_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """(series, end) pairs of training and validation windows; a window's targets are [end-horizon, end).

    Training targets stay out of the last `val_size` steps of each series; validation
    windows tile those steps from the end, one horizon apart. Every window has at least one
    step of context.
    """
    train, val = [], []
    for i, length in enumerate(lengths):
        last_train_end = length - val_size
        ends = np.arange(horizon + 1, last_train_end + 1)
        train.append(np.stack([np.full(len(ends), i), ends], axis=1))
        if val_size:
            ends = np.arange(length, max(last_train_end + horizon, horizon + 1) - 1, -horizon)
            val.append(np.stack([np.full(len(ends), i), ends], axis=1))
    empty = np.zeros((0, 2), dtype=np.int64)
    return (
        np.concatenate(train).astype(np.int64) if train else empty,
        np.concatenate(val).astype(np.int64) if val else empty,
    )


class WindowDataset(Dataset):
    """Windows of `context_length` steps followed by `horizon` forecast steps with hidden inputs.

    Windows that start before the series are left-padded; `valid` marks the real steps so the
    backbone zeroes the padding (with a causal model this equals starting at the series start).
    A series' Δ multiplier is one rate (regular grid) or one value per step (irregular
    timestamps: the gap before each step in training steps); `dt` carries it per window step.
    """

    def __init__(
        self,
        inputs: Sequence[np.ndarray],  # each (T_i, C)
        targets: Sequence[np.ndarray],  # each (T_i,), scaled, NaN where missing
        rates: Sequence[float | np.ndarray],  # per series: its step in training steps, or (T_i,) per-step gaps
        index: np.ndarray,  # (n, 2) series, end
        context_length: int,
        horizon: int,
        hidden_channels: Sequence[int],
    ) -> None:
        self.inputs = inputs
        self.targets = targets
        self.rates = rates
        self.index = index
        self.context_length = context_length
        self.horizon = horizon
        self.hidden_channels = list(hidden_channels)

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        series, end = self.index[i]
        width = self.context_length + self.horizon
        start = end - width
        pad = max(0, -start)
        x = np.zeros((width, self.inputs[series].shape[1]), dtype=np.float32)  # (W, C)
        y = np.full(width, np.nan, dtype=np.float32)  # (W,)
        x[pad:] = self.inputs[series][max(start, 0) : end]
        y[pad:] = self.targets[series][max(start, 0) : end]
        # The forecast positions see only future-known inputs.
        x[self.context_length :, self.hidden_channels] = 0.0
        target = y[self.context_length :]  # (H,)
        valid = np.arange(width) >= pad
        rate = self.rates[series]
        regular = not np.ndim(rate)
        if regular:
            dt = np.full(width, float(rate), dtype=np.float32)
        else:
            # Padded steps are zeroed by the mask, so their Δ never matters; 1 keeps it finite.
            # The window's first step has no predecessor in the window: 1, as at prediction.
            dt = np.ones(width, dtype=np.float32)
            dt[pad + 1 :] = rate[max(start, 0) + 1 : end]
        return {
            "x": torch.from_numpy(x),
            "y": torch.from_numpy(np.nan_to_num(target)),  # (H,) scaled target, 0 where missing
            "loss_mask": torch.from_numpy(~np.isnan(target)),  # (H,) observed horizon steps
            "valid": torch.from_numpy(valid),  # (W,) real steps (False: left padding)
            # Δ multiplier per step in training steps, constant on regular grids (`regular`).
            "dt": torch.from_numpy(dt),
            "regular": torch.tensor(regular),
        }
