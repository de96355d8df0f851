"""The irregular-sampling benchmark's protocol: observations at random times, outages, bins, scores.

A setting turns a dataset's regular series into what an irregularly read sensor reports:
observation times from a Poisson process (exponential gaps, mean one native step, so the
times sit at no grid), values read off the native series by linear interpolation, and
optionally a share of the observations taken out in bursts (outages). Pedestrian counts keep
their own observed hours and gaps instead.

Windows: the forecast origins (cutoffs) are the last `n_windows` midnights before the end of
the data; each window asks for the values at the observation times of the day after its
cutoff (times > cutoff and <= cutoff + 1 day), from the observations at or before it. Every
contender is fit once on the observations before the first cutoff.

Contenders that need a regular grid read the observations averaged into bins of one native
step, [t, t + step), labelled t: a bin before a cutoff holds no later observation. Their
forecast for bin t stands for the mean over the bin, so it is placed at t + step / 2 and
interpolated (from the last observation before the cutoff) to the asked times.

Scores at the asked times (`score`): MAE, MASE (MAE over the in-sample seasonal-naive error
of the native series before the first cutoff, the same scale for every setting of a
dataset), the scaled quantile loss at 10/50/90% ("CRPS") and 80% coverage where a contender
gives quantiles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import pairwise

import numpy as np
import pandas as pd

from s4ts import metrics
from s4ts.datasets import load_ett_ot, load_pedestrian, load_vic_elec

__all__ = [
    "SPECS",
    "IrregularSpec",
    "asked_windows",
    "before_test_block",
    "bin_to_grid",
    "burst_keep",
    "cutoffs",
    "grid_to_times",
    "make_setting",
    "poisson_times",
    "scale_of",
    "score",
    "score_by_wait",
]

ID, TIME, TARGET = "unique_id", "ds", "y"
DAY = pd.Timedelta("1D")
LEVELS = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class IrregularSpec:
    """A dataset of the benchmark: its native series and how its settings are observed."""

    name: str
    loader: Callable[[], pd.DataFrame]  # () -> long frame unique_id, ds, y on a regular grid
    step: pd.Timedelta  # native step
    season: int  # native steps per season (MASE's scale)
    resample: bool = True  # Poisson observation times; False: the series' own observed times
    n_windows: int = 14

    @property
    def steps_per_day(self) -> int:
        """Native steps in one window (a day)."""
        return int(DAY / self.step)


def _target_only(loader: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    return loader()[[ID, TIME, TARGET]]


SPECS: dict[str, IrregularSpec] = {
    s.name: s
    for s in [
        IrregularSpec("vic_elec", partial(_target_only, load_vic_elec), pd.Timedelta("30min"), 48),
        IrregularSpec("ETTh1", partial(_target_only, partial(load_ett_ot, "ETTh1")), pd.Timedelta("1h"), 24),
        IrregularSpec("pedestrian", load_pedestrian, pd.Timedelta("1h"), 24, resample=False),
    ]
}


def poisson_times(start: pd.Timestamp, end: pd.Timestamp, mean_gap: pd.Timedelta,
                  rng: np.random.Generator) -> pd.DatetimeIndex:
    """Times of a Poisson process over [start, end] with mean gap `mean_gap` (whole ns)."""
    span, gap = (end - start).value, mean_gap.value
    gaps = rng.exponential(gap, size=int(span / gap * 1.2) + 100)
    while gaps.sum() < span:  # a rare short draw: extend it
        gaps = np.concatenate([gaps, rng.exponential(gap, size=len(gaps))])
    offsets = np.cumsum(gaps).astype(np.int64)
    offsets = np.unique(offsets[offsets <= span])
    return pd.DatetimeIndex(start + pd.to_timedelta(offsets, unit="ns"))


def burst_keep(n: int, share: float, mean_burst: float, rng: np.random.Generator) -> np.ndarray:
    """(n,) True for observations kept after removing about `share` of them in bursts
    (outages) of geometric length with mean `mean_burst` observations, placed at random."""
    keep = np.ones(n, dtype=bool)
    target = round(share * n)
    while (~keep).sum() < target:
        length = rng.geometric(1 / mean_burst)
        begin = rng.integers(0, n)
        keep[begin : begin + length] = False
    return keep


def _read_off(native: pd.DataFrame, times: pd.DatetimeIndex) -> np.ndarray:
    """Values of one native series at `times` by linear interpolation; NaN next to a gap."""
    grid = pd.DatetimeIndex(native[TIME]).as_unit("ns").asi8  # instants: the time zone drops out
    values = native[TARGET].to_numpy(float)
    at = times.as_unit("ns").asi8
    right = np.clip(np.searchsorted(grid, at, side="right"), 1, len(grid) - 1)
    left = right - 1
    weight = (at - grid[left]) / (grid[right] - grid[left])
    out = values[left] * (1 - weight) + values[right] * weight
    # A native gap (missing steps) between the neighbours: nothing to read there.
    step = np.median(np.diff(grid))
    out[(grid[right] - grid[left]) > step] = np.nan
    return out


def make_setting(spec: IrregularSpec, native: pd.DataFrame, removed: float, seed: int) -> pd.DataFrame:
    """The observations of one setting: long frame unique_id, ds, y at irregular times, with
    `removed` of them taken out in bursts (mean burst: half a day of observations)."""
    rng = np.random.default_rng(seed)
    parts = []
    for uid, series in native.groupby(ID, sort=True):
        series = series.dropna(subset=[TARGET]).sort_values(TIME)
        if spec.resample:
            times = poisson_times(series[TIME].iloc[0], series[TIME].iloc[-1], spec.step, rng)
            values = _read_off(series, times)
        else:
            times, values = pd.DatetimeIndex(series[TIME]), series[TARGET].to_numpy(float)
        frame = pd.DataFrame({ID: uid, TIME: times, TARGET: values}).dropna(subset=[TARGET])
        if removed:
            frame = frame[burst_keep(len(frame), removed, spec.steps_per_day / 2, rng)]
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def cutoffs(spec: IrregularSpec, frame: pd.DataFrame) -> list[pd.Timestamp]:
    """The last `n_windows` midnights whose following day ends within the data."""
    last = frame[TIME].max()
    final = (last - DAY).normalize()
    return [final - DAY * k for k in range(spec.n_windows - 1, -1, -1)]


def before_test_block(spec: IrregularSpec, frame: pd.DataFrame, n_windows: int) -> pd.DataFrame:
    """The validation split: `frame` up to the first of its last `n_windows` test cutoffs, so
    `cutoffs` of the result are the midnights before the test block and no row a test
    window asks for (or comes after) is seen."""
    first_test = cutoffs(spec, frame)[-n_windows]
    return frame[frame[TIME] <= first_test]


def asked_windows(frame: pd.DataFrame, cuts: list[pd.Timestamp]) -> pd.DataFrame:
    """Rows of `frame` asked for: observations in (cutoff, cutoff + 1 day], with a column
    "cutoff"; one block per (series, cutoff)."""
    blocks = []
    for cut in cuts:
        rows = frame[(frame[TIME] > cut) & (frame[TIME] <= cut + DAY)]
        blocks.append(rows.assign(cutoff=cut))
    return pd.concat(blocks, ignore_index=True)


def bin_to_grid(frame: pd.DataFrame, step: pd.Timedelta, end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Observations averaged into bins [t, t + step) labelled t, one regular grid per series
    (NaN for empty bins); bins up to `end` (exclusive) only when given."""
    parts = []
    for uid, series in frame.groupby(ID, sort=True):
        if end is not None:
            series = series[series[TIME] < end]
        # Bins in UTC: a local clock's daylight-saving hours have no unambiguous floor.
        tz = series[TIME].dt.tz
        label = series[TIME].dt.tz_convert("UTC").dt.floor(step) if tz else series[TIME].dt.floor(step)
        means = series.groupby(label)[TARGET].mean()
        if end is None:
            last = means.index[-1]
        else:
            last = ((end - step).tz_convert("UTC") if tz else end - step).floor(step)
        grid = pd.date_range(means.index[0], last, freq=step)
        values = means.reindex(grid).to_numpy()
        parts.append(pd.DataFrame({ID: uid, TIME: grid.tz_convert(tz) if tz else grid, TARGET: values}))
    return pd.concat(parts, ignore_index=True)


def grid_to_times(bin_times: pd.DatetimeIndex, values: np.ndarray, step: pd.Timedelta,
                  last_time: pd.Timestamp, last_value: float, asked: pd.DatetimeIndex) -> np.ndarray:
    """Forecasts of bins (labelled at their start) read at `asked` times: each bin's value at
    its middle, linearly interpolated, starting from the last observation before the cutoff;
    held flat past the last bin's middle."""
    anchors = pd.DatetimeIndex([last_time]).append(bin_times + step / 2)
    x = anchors.as_unit("ns").asi8
    y = np.concatenate([[last_value], np.asarray(values, float)])
    return np.interp(asked.as_unit("ns").asi8, x, y)


def scale_of(spec: IrregularSpec, native: pd.DataFrame, before: pd.Timestamp) -> dict:
    """Per series: the in-sample seasonal-naive MAE of the native series (on its grid, missing
    steps NaN) before `before`."""
    out = {}
    for uid, series in native.groupby(ID, sort=True):
        series = series[series[TIME] < before].set_index(TIME)[TARGET]
        grid = pd.date_range(series.index[0], series.index[-1], freq=spec.step)
        out[uid] = metrics.naive_scale(series.reindex(grid).to_numpy(float), spec.season)
    return out


def score(forecasts: pd.DataFrame, scales: dict, point: str = "y_pred") -> dict[str, float]:
    """MAE, MASE and, with columns y_q0.1 / y_q0.5 / y_q0.9, scaled quantile loss and 80%
    coverage of forecasts (rows unique_id, ds, cutoff, y, point[, quantiles]) at the asked times."""
    error = (forecasts[TARGET] - forecasts[point]).abs()
    scale = forecasts[ID].map(scales).to_numpy(float)
    out = {"mae": float(error.mean()), "mase": float((error / scale).mean()), "n_points": len(forecasts)}
    columns = [f"{TARGET}_q{level:g}" for level in LEVELS]
    if all(c in forecasts for c in columns):
        y, q = forecasts[TARGET].to_numpy(float), forecasts[columns].to_numpy(float)  # (n,), (n, Q)
        # Pinball loss is homogeneous: scaling each row before is scaling its loss after.
        out["crps"] = metrics.crps_from_quantiles(y / scale, q / scale[:, None], LEVELS)
        out["coverage"] = metrics.coverage(y, q[:, 0], q[:, -1])
    return out


# Edges (hours) of `score_by_wait`'s groups.
WAIT_EDGES = (0, 6, 12, 18, 24, 36, float("inf"))


def score_by_wait(forecasts: pd.DataFrame, frame: pd.DataFrame, edges=WAIT_EDGES) -> list[dict]:
    """MAE and, with y_q0.1 / y_q0.9, 80% coverage and mean band width of `forecasts` (rows
    unique_id, ds, cutoff, y, y_pred[, quantiles]) grouped by the wait: hours from the
    series' last observation in `frame` at or before the cutoff to the asked time. An
    outage before a cutoff shows as long waits."""
    last = {
        (uid, cut): frame.loc[(frame[ID] == uid) & (frame[TIME] <= cut), TIME].max()
        for uid, cut in forecasts[[ID, "cutoff"]].drop_duplicates().itertuples(index=False)
    }
    since = forecasts[[ID, "cutoff"]].apply(tuple, axis=1).map(last)
    hours = (forecasts[TIME] - since).dt.total_seconds().to_numpy() / 3600
    out = []
    for low, high in pairwise(edges):
        rows = forecasts[(hours > low) & (hours <= high)]
        if not len(rows):
            continue
        group = {"hours": f"({low:g}, {high:g}]", "n": len(rows),
                 "mae": float((rows[TARGET] - rows["y_pred"]).abs().mean())}
        if {f"{TARGET}_q0.1", f"{TARGET}_q0.9"} <= set(rows):
            low_q, high_q = rows[f"{TARGET}_q0.1"], rows[f"{TARGET}_q0.9"]
            group["coverage"] = float(metrics.coverage(rows[TARGET].to_numpy(float), low_q.to_numpy(float),
                                                       high_q.to_numpy(float)))
            group["width"] = float((high_q - low_q).mean())
        out.append(group)
    return out
