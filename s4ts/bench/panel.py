"""The forecasting panel that chooses S4Forecaster's defaults: datasets, splits, seasonal naive, scores.

Each dataset is a `PanelSpec`: its loader, horizon, season (for MASE and seasonal naive),
future-known covariates and the rolling windows it is scored on. Windows follow
`S4Forecaster.cross_validation`: on each series' own regular grid (missing steps count as
steps, NaN), the last of `n_windows` forecast origins (cutoffs) is `horizon` steps before the
series' end and the others are `step` apart. The test block is the last `n_windows` windows
of every series; validation is the same number of windows just before it. Defaults are chosen
on validation only; test is kept for the peer comparison.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from s4ts import metrics
from s4ts.datasets import (
    load_aus_retail,
    load_bank_calls,
    load_ett_ot,
    load_pedestrian,
    load_tourism,
    load_us_gasoline,
    load_vic_elec,
)

__all__ = [
    "PANEL",
    "SPLITS",
    "PanelSpec",
    "get_spec",
    "history_before",
    "quantile_columns",
    "score_backtest",
    "seasonal_naive_backtest",
    "split_for",
    "subsample",
]

logger = logging.getLogger(__name__)

SPLITS = ("early_validation", "validation", "test")  # blocks from the earliest
ID, TIME, TARGET, PRED = "unique_id", "ds", "y", "y_pred"
_QUANTILE = re.compile(rf"^{TARGET}_q(\d*\.?\d+)$")


@dataclass(frozen=True)
class PanelSpec:
    """One dataset of the panel and the rolling windows it is scored on."""

    name: str
    loader: Callable[[], pd.DataFrame]  # () -> long frame unique_id, ds, y, covariates
    horizon: int
    season: int  # seasonal period in steps: MASE's scale and the seasonal-naive forecast
    freq: str | int  # step of every series' grid: a pandas alias, or an integer step
    futr_exog: tuple[str, ...] = ()
    n_windows: int = 1
    step: int | None = None  # steps between cutoffs; None: horizon

    @property
    def window_step(self) -> int:
        """Steps between consecutive cutoffs."""
        return self.horizon if self.step is None else self.step

    @property
    def block(self) -> int:
        """Steps from the first cutoff of a block of windows to the series' end."""
        return self.horizon + self.window_step * (self.n_windows - 1)

    @property
    def min_history(self) -> int:
        """Steps a series needs before its first validation cutoff to be in the panel: what
        S4Forecaster's fit needs with its default val_size (2 * horizon + 1), and more than
        one season for the MASE scale."""
        return max(2 * self.horizon + 1, self.season + 1)


PANEL: dict[str, PanelSpec] = {
    s.name: s
    for s in [
        # Daily forecasts from midnight over two weeks; temperature and holidays known ahead.
        PanelSpec("vic_elec", load_vic_elec, 48, 48, "30min", ("temperature", "holiday"), 14),
        PanelSpec("ETTh1", partial(load_ett_ot, "ETTh1"), 24, 24, "h", n_windows=14),
        PanelSpec("ETTh2", partial(load_ett_ot, "ETTh2"), 24, 24, "h", n_windows=14),
        # A year ahead from four quarterly origins.
        PanelSpec("us_gasoline", load_us_gasoline, 52, 52, "W-MON", n_windows=4, step=13),
        PanelSpec("aus_retail", load_aus_retail, 12, 12, "MS", n_windows=3, step=6),
        PanelSpec("tourism", load_tourism, 8, 4, "QS-JAN", n_windows=3, step=4),
        PanelSpec("pedestrian", load_pedestrian, 24, 24, "h", n_windows=14),
        # Indexed by observed step: a trading day is 169 five-minute steps (07:00-21:00),
        # so the windows are the last ten trading days (two weeks).
        PanelSpec("bank_calls", partial(load_bank_calls, steps=True), 169, 169, 1, n_windows=10),
    ]
}


def get_spec(name: str) -> PanelSpec:
    """The panel entry of a dataset, by name (case-insensitive)."""
    by_lower = {key.lower(): spec for key, spec in PANEL.items()}
    if name.lower() not in by_lower:
        raise ValueError(f"unknown panel dataset {name!r}; choose from {list(PANEL)}")
    return by_lower[name.lower()]


def _grid(start, end, freq: str | int) -> pd.Index:
    """All steps from start to end at freq."""
    if isinstance(freq, int):
        return pd.Index(np.arange(start, end + 1, freq), dtype="int64")
    return pd.date_range(start=start, end=end, freq=freq)


def _on_grid(df: pd.DataFrame, spec: PanelSpec, where: str) -> pd.DataFrame:
    """A new frame of every series on its regular grid from its first to its last timestamp,
    missing steps as rows with NaN values; sorted by id, time."""
    missing = [c for c in (ID, TIME, TARGET) if c not in df.columns]
    if missing:
        raise ValueError(f"{where}: the {spec.name} frame lacks column(s) {missing}; "
                         f"its columns are {list(df.columns)}")
    parts, grids = [], {}
    for uid, group in df.groupby(ID, sort=True):
        group = group.sort_values(TIME, kind="stable")
        times = pd.Index(group[TIME])
        if times.has_duplicates:
            raise ValueError(f"{where}: series {uid!r} of {spec.name} has duplicate timestamp "
                             f"{times[times.duplicated()][0]}; keep one row per time step")
        # Panels share spans (tourism: one for all 304), and calendar grids are slow to build.
        span = (times[0], times[-1])
        grid = grids[span] if span in grids else grids.setdefault(span, _grid(*span, spec.freq))
        if len(grid) == len(times) and grid.equals(times):
            parts.append(group)
            continue
        off = ~times.isin(grid)
        if off.any():
            raise ValueError(
                f"{where}: series {uid!r} of {spec.name}: timestamp {times[off][0]} is not on the "
                f"grid of step {spec.freq!r} that starts at {times[0]}; resample the series"
            )
        part = group.set_index(TIME).reindex(grid)
        part[ID] = uid
        parts.append(part.rename_axis(TIME).reset_index())
    return pd.concat(parts, ignore_index=True)[list(df.columns)]


def split_for(spec: PanelSpec, df: pd.DataFrame, split: str) -> pd.DataFrame:
    """The frame whose last `spec.n_windows` windows are the `split` block: all of it for
    "test", for "validation" each series without its test block, for "early_validation"
    each series without its validation and test blocks (a second block to choose on).

    The result is a new frame on each series' regular grid (missing steps as rows with NaN
    values), so that every series ends exactly where its windows end. Series too short for
    the validation and test blocks after `spec.min_history` steps, or with nothing observed
    before them, are left out of every split (logged), so that those two splits hold the
    same series; "early_validation" also leaves out series too short for its own block.
    """
    if split not in SPLITS:
        raise ValueError(f"split={split!r} must be one of {SPLITS}")
    grid = _on_grid(df, spec, "split_for")
    back = spec.block
    blocks_after = len(SPLITS) - 1 - SPLITS.index(split)  # 0 test, 1 validation, 2 early
    position = grid.groupby(ID, sort=False).cumcount().to_numpy()
    length = grid.groupby(ID, sort=False)[TIME].transform("size").to_numpy()
    first_cutoff = length - (1 + max(blocks_after, 1)) * back  # of validation, or earlier
    history = position < first_cutoff
    observed = pd.Series(history & grid[TARGET].notna().to_numpy()).groupby(grid[ID]).any()
    long_enough = pd.Series(first_cutoff >= spec.min_history).groupby(grid[ID]).first()
    keep = observed & long_enough
    blocks = "validation and test" if blocks_after < 2 else "early validation, validation and test"
    if not keep.any():
        raise ValueError(
            f"split_for: no series of {spec.name} is long enough for {spec.n_windows} windows "
            f"of {spec.horizon} steps every {spec.window_step} in each of the {blocks} blocks "
            f"after {spec.min_history} steps of history (needs "
            f"{(1 + max(blocks_after, 1)) * back + spec.min_history} steps)"
        )
    if not keep.all():
        logger.info("%s: %d series too short for the %s blocks left out: %s", spec.name,
                    int((~keep).sum()), blocks, list(keep.index[~keep.to_numpy()]))
    rows = grid[ID].map(keep).to_numpy(dtype=bool) & (position < length - blocks_after * back)
    return grid[rows].reset_index(drop=True)


def history_before(frame: pd.DataFrame, spec: PanelSpec, extra_steps: int = 0) -> pd.DataFrame:
    """Each series of a `split_for` frame without its last `spec.block + extra_steps` steps:
    the history before the first cutoff of its block (`extra_steps` further back)."""
    position = frame.groupby(ID, sort=False).cumcount()
    length = frame.groupby(ID, sort=False)[TIME].transform("size")
    return frame[position < length - spec.block - extra_steps]


def subsample(df: pd.DataFrame, max_series: int | None) -> pd.DataFrame:
    """At most `max_series` series, evenly spaced over the sorted ids (deterministic)."""
    ids = np.sort(df[ID].unique())
    if max_series is None or max_series >= len(ids):
        return df
    if max_series < 1:
        raise ValueError(f"max_series={max_series!r} must be a positive integer")
    chosen = ids[np.unique(np.linspace(0, len(ids) - 1, max_series).round().astype(int))]
    return df[df[ID].isin(chosen)].reset_index(drop=True)


def _last_season(history: np.ndarray, season: int) -> np.ndarray:
    """The last `season` steps of history (T,), each missing one replaced by the most recent
    observed value of its phase in earlier seasons (NaN if none)."""
    pad = (-len(history)) % season
    by_season = np.concatenate([np.full(pad, np.nan), history]).reshape(-1, season)  # (S season)
    observed = ~np.isnan(by_season)
    latest = len(by_season) - 1 - np.argmax(observed[::-1], axis=0)  # (season,) last observed row
    return np.where(observed.any(axis=0), by_season[latest, np.arange(season)], np.nan)


def seasonal_naive_backtest(
    df: pd.DataFrame, spec: PanelSpec, n_windows: int | None = None, step: int | None = None
) -> pd.DataFrame:
    """Seasonal-naive forecasts from the cutoffs of `cross_validation(df, n_windows, step)`, in
    its layout: unique_id, ds, cutoff, y, y_pred (defaults: the spec's windows).

    Each window repeats the last season before its cutoff; a missing value there is taken
    from the same phase one or more seasons earlier.
    """
    n_windows = spec.n_windows if n_windows is None else n_windows
    step = spec.window_step if step is None else step
    horizon, season = spec.horizon, spec.season
    back = horizon + step * (n_windows - 1)
    ids, ds, cutoffs, truth, pred = [], [], [], [], []
    for uid, group in _on_grid(df, spec, "seasonal_naive_backtest").groupby(ID, sort=True):
        y, times = group[TARGET].to_numpy(dtype="float64"), pd.Index(group[TIME])
        first = len(y) - 1 - back
        if first + 1 < season:
            raise ValueError(
                f"seasonal_naive_backtest: series {uid!r} of {spec.name} has {len(y)} steps, too "
                f"few for {n_windows} windows of {horizon} every {step} after one season ({season})"
            )
        for cut in range(first, first + step * n_windows, step):
            ahead = slice(cut + 1, cut + 1 + horizon)
            ids.append(np.full(horizon, uid, dtype=object))
            ds.append(times[ahead])
            cutoffs.append(times[[cut] * horizon])
            truth.append(y[ahead])
            pred.append(metrics.seasonal_naive(_last_season(y[: cut + 1], season), horizon, season))
    return pd.DataFrame({
        ID: np.concatenate(ids), TIME: ds[0].append(ds[1:]), "cutoff": cutoffs[0].append(cutoffs[1:]),
        TARGET: np.concatenate(truth), PRED: np.concatenate(pred),
    })


def quantile_columns(forecasts: pd.DataFrame) -> dict[float, str]:
    """Quantile level -> column (`y_q0.1`, ...) of a forecast frame."""
    found = {c: _QUANTILE.match(str(c)) for c in forecasts.columns}
    return dict(sorted((float(m.group(1)), c) for c, m in found.items() if m))


def score_backtest(forecasts: pd.DataFrame, df: pd.DataFrame, spec: PanelSpec) -> dict[str, float]:
    """MASE, sMAPE, MAE, and with quantile columns the scaled quantile loss, scaled CRPS
    (from the quantiles) and the coverage of the 10%-90% band, of rolling-window forecasts.

    `df` is the frame the forecasts were made from. Each window is scaled by the in-sample
    seasonal-naive MAE (season `spec.season`) of its series' history up to its cutoff; a
    series' scaled score is the mean over its windows, and MASE the mean over series. Series
    whose scale is zero or undefined get NaN and are left out (counted in n_zero_scale);
    windows without observed truth are skipped. sMAPE, MAE and coverage pool all forecasts.
    """
    needed = [c for c in (ID, TIME, "cutoff", TARGET, PRED) if c not in forecasts.columns]
    if needed:
        raise ValueError(f"score_backtest: forecasts lack column(s) {needed}; "
                         f"give the frame of cross_validation or seasonal_naive_backtest")
    histories = {uid: (pd.Index(g[TIME]), g[TARGET].to_numpy(dtype="float64"))
                 for uid, g in _on_grid(df, spec, "score_backtest").groupby(ID, sort=False)}
    levels = quantile_columns(forecasts)
    per_series: dict[object, list[tuple[float, float, float]]] = {}
    unscaled = set()
    for (uid, cutoff), window in forecasts.groupby([ID, "cutoff"], sort=False):
        if uid not in histories:
            raise ValueError(f"score_backtest: series {uid!r} of the forecasts is not in df")
        times, y = histories[uid]
        try:
            cut = times.get_loc(cutoff)
        except KeyError:
            raise ValueError(f"score_backtest: cutoff {cutoff} of series {uid!r} is not in df") from None
        truth = window[TARGET].to_numpy(dtype="float64")
        if np.isnan(truth).all():
            continue
        scale = metrics.naive_scale(y[: cut + 1], spec.season)
        if not scale > 0:
            unscaled.add(uid)
            continue
        ql = crps = float("nan")
        if levels:
            q_pred = window[list(levels.values())].to_numpy(dtype="float64")  # (horizon Q)
            ql = metrics.quantile_loss(truth, q_pred, list(levels))
            crps = metrics.crps_from_quantiles(truth, q_pred, list(levels))
        mase = metrics.mae(truth, window[PRED]) / scale
        per_series.setdefault(uid, []).append((mase, ql / scale, crps / scale))
    scaled = np.array([np.mean(v, axis=0) for uid, v in per_series.items() if uid not in unscaled])
    scaled = scaled.reshape(-1, 3)  # (series, [mase, scaled quantile loss, scaled crps])
    y, pred = forecasts[TARGET].to_numpy(dtype="float64"), forecasts[PRED].to_numpy(dtype="float64")
    scores = {
        "mase": float(scaled[:, 0].mean()) if len(scaled) else float("nan"),
        "smape": metrics.smape(y, pred),
        "mae": metrics.mae(y, pred),
        "n_series": len(scaled),
        "n_zero_scale": len(unscaled),
        "n_windows": int(sum(len(v) for uid, v in per_series.items() if uid not in unscaled)),
    }
    if levels:
        scores["scaled_ql"] = float(scaled[:, 1].mean()) if len(scaled) else float("nan")
        scores["scaled_crps"] = float(scaled[:, 2].mean()) if len(scaled) else float("nan")
    if 0.1 in levels and 0.9 in levels:
        scores["coverage_80"] = metrics.coverage(y, forecasts[levels[0.1]], forecasts[levels[0.9]])
    return scores
