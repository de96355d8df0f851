"""S4Forecaster's long frames <-> GluonTS datasets, so either library's users can call the other.

GluonTS entry (one series)            long frame rows (one per step)
  item_id                        <->    id_col
  start (pd.Period) + position   <->    time_col (a regular grid; missing steps NaN)
  target (T,)                    <->    target_col
  feat_dynamic_real (K, T [+ F]) <->    futr_exog columns (the F steps after the target: X_future)
  past_feat_dynamic_real (P, T)  <->    hist_exog columns
"""

from __future__ import annotations

import calendar
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from gluonts.dataset.common import Dataset, ListDataset

from s4ts.data.frames import (
    SeriesData,
    freq_name,
    future_times,
    parse_freq,
    split_series,
    time_kind,
    to_long,
)
from s4ts.integrations.gluonts.features import entry_target

__all__ = ["from_gluonts", "period_freq", "to_gluonts"]

_STATIC_FIELDS = ("feat_static_cat", "feat_static_real")


def period_freq(offset: pd.DateOffset) -> str:
    """The pandas Period alias of a time step: 'M' for month starts (MS) or ends (ME),
    'Q-SEP' for quarters starting in October, '30min' for 30 minutes."""
    for cls, months in ((pd.offsets.MonthBegin, None), (pd.offsets.QuarterBegin, "Q"), (pd.offsets.YearBegin, "Y")):
        if isinstance(offset, cls) and offset.n == 1:
            if months is None:
                return "M"
            first = offset.startingMonth if months == "Q" else offset.month
            # A period starting in month m ends in the month before it.
            return f"{months}-{calendar.month_abbr[(first - 2) % 12 + 1].upper()}"
    try:
        return pd.Period("2001-01-01", freq=offset).freqstr
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"the step {offset.freqstr!r} has no pandas Period equivalent, which GluonTS datasets need"
        ) from err


def _series_freq(series: Sequence[SeriesData], name: str) -> pd.DateOffset:
    """The one step all series share (GluonTS datasets have one frequency)."""
    freqs = {s.uid: s.freq for s in series}
    first_uid, first = next(iter(freqs.items()))
    for uid, freq in freqs.items():
        if freq != first:
            raise ValueError(
                f"{name}: series {uid!r} has step {freq_name(freq)} but series {first_uid!r} has "
                f"{freq_name(first)}; a GluonTS dataset has one frequency: pass freq= or resample"
            )
    return first


def _future_features(
    X_future: pd.DataFrame, series: Sequence[SeriesData], futr_exog: list[str], freq, columns: dict,
) -> dict:
    """Per series id, its X_future rows of `futr_exog` (F, K), which must continue its grid."""
    long = to_long(X_future, covariates=futr_exog, name="X_future", require_target=False, **columns)
    groups = dict(tuple(long.groupby(columns["id_col"], sort=False)))
    out = {}
    for s in series:
        if s.uid not in groups:
            raise ValueError(f"X_future: no rows for series {s.uid!r}, which needs future values of {futr_exog}")
        rows = groups[s.uid]
        expected = future_times(s.times[-1], freq, len(rows))
        times = pd.DatetimeIndex(rows[columns["time_col"]])
        if not times.equals(expected):
            wrong = int(np.argmax(times != expected))
            raise ValueError(
                f"X_future: series {s.uid!r} row {wrong} is at {times[wrong]}, expected {expected[wrong]}: "
                f"the future rows must continue the series' grid (step {freq_name(freq)}) without gaps"
            )
        out[s.uid] = rows[futr_exog].to_numpy(dtype="float64")
    return out


def to_gluonts(
    df: pd.DataFrame | pd.Series,
    X_future: pd.DataFrame | None = None,
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    futr_exog: Sequence[str] = (),
    hist_exog: Sequence[str] = (),
    freq: str | None = None,
) -> ListDataset:
    """A GluonTS ListDataset of the series in `df` (S4Forecaster's long, wide or Series layout).

    Each series becomes an entry on its regular grid (missing steps NaN, which GluonTS models
    read as unobserved); `futr_exog` columns become `feat_dynamic_real`, `hist_exog` columns
    `past_feat_dynamic_real`. `X_future` (rows after each series' end, with `futr_exog`)
    extends `feat_dynamic_real` beyond the target, as GluonTS predictors need at prediction.
    Datetime time only; all series share one step (`freq`, else inferred). Time-zone aware
    timestamps are converted to UTC (GluonTS periods have no time zone)."""
    futr_exog, hist_exog = list(futr_exog), list(hist_exog)
    columns = {"id_col": id_col, "time_col": time_col, "target_col": target_col}
    long = to_long(df, covariates=[*futr_exog, *hist_exog], name="df", **columns)
    if time_kind(long[time_col]) != "datetime":
        raise ValueError(
            f"df: time column {time_col!r} holds integers; GluonTS datasets start at a pandas "
            f"Period, so give datetimes"
        )
    if getattr(long[time_col].dt, "tz", None) is not None:
        # GluonTS periods have no time zone: UTC keeps every step (local wall time repeats
        # and skips an hour at daylight-saving changes).
        long[time_col] = long[time_col].dt.tz_convert("UTC").dt.tz_localize(None)
        if X_future is not None:
            X_future = X_future.copy()
            X_future[time_col] = pd.to_datetime(X_future[time_col], utc=True).dt.tz_localize(None)
    step = parse_freq(freq, "datetime") if freq is not None else None
    series = split_series(long, freq=step, covariates=[*futr_exog, *hist_exog], time_grid="regular", **columns)
    step = _series_freq(series, "df")
    alias = period_freq(step)
    if X_future is not None and not futr_exog:
        raise ValueError("X_future is given but futr_exog is empty: name the future-known columns")
    futures = _future_features(X_future, series, futr_exog, step, columns) if X_future is not None else {}
    entries = []
    for s in series:
        entry = {"item_id": s.uid, "start": pd.Period(s.times[0], freq=alias), "target": s.y}
        if futr_exog:
            futr = s.covariates[:, : len(futr_exog)]
            if s.uid in futures:
                futr = np.concatenate([futr, futures[s.uid]])
            entry["feat_dynamic_real"] = futr.T  # (K, T [+ F])
        if hist_exog:
            entry["past_feat_dynamic_real"] = s.covariates[:, len(futr_exog) :].T  # (P, T)
        entries.append(entry)
    return ListDataset(entries, freq=alias)


def _names(given: Sequence[str] | None, field: str, count: int) -> list[str]:
    if given is None:
        return [f"{field}_{j}" for j in range(count)]
    if len(given) != count:
        raise ValueError(f"{len(given)} names given for the {count} rows of {field}")
    return list(given)


def _field(entry: dict, field: str, position: int, uid) -> np.ndarray | None:
    """A dynamic feature field as a (K, T') float array, or None when absent."""
    value = entry.get(field)
    if value is None:
        return None
    value = np.asarray(value, dtype="float64")
    if value.ndim == 1:
        value = value[None, :]
    if value.ndim != 2:
        raise ValueError(f"entry {position} (item_id {uid!r}): {field} has shape {value.shape}, expected (K, T)")
    return value


def from_gluonts(
    dataset: Dataset,
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    futr_names: Sequence[str] | None = None,
    hist_names: Sequence[str] | None = None,
    how: str = "start",
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(df, X_future): the long frames S4Forecaster reads, from a GluonTS dataset of univariate
    entries. Timestamps are each period's start (`how="end"`: its last day, for data stamped
    at month or week ends); entries without `item_id` are numbered. `feat_dynamic_real` rows
    become columns `futr_names` (default feat_dynamic_real_0, ...), `past_feat_dynamic_real`
    rows `hist_names`; their steps beyond the target form X_future (None when there are none).
    Static features have no S4Forecaster counterpart and are dropped with a warning."""
    if how not in ("start", "end"):
        raise ValueError(f"how={how!r} must be 'start' or 'end'")
    frames, futures, dropped = [], [], set()
    for position, entry in enumerate(dataset):
        uid = entry.get("item_id", position)
        start = entry.get("start")
        if not isinstance(start, pd.Period):
            raise TypeError(
                f"entry {position} (item_id {uid!r}): start {start!r} has no frequency; build the "
                f"dataset with ListDataset(..., freq=...) or PandasDataset(..., freq=...)"
            )
        target = entry_target(entry, f"entry {position} (item_id {uid!r})").astype("float64")
        if target.ndim != 1:
            raise ValueError(
                f"entry {position} (item_id {uid!r}): target has shape {target.shape}; S4Forecaster "
                f"reads univariate entries (split a multivariate target into one entry per row)"
            )
        dropped.update(f for f in _STATIC_FIELDS if entry.get(f) is not None)
        n = len(target)
        futr = _field(entry, "feat_dynamic_real", position, uid)
        hist = _field(entry, "past_feat_dynamic_real", position, uid)
        width = n if futr is None else max(n, futr.shape[1])
        periods = pd.period_range(start, periods=width, freq=start.freq)
        times = periods.to_timestamp(how=how)
        if how == "end":
            times = times.normalize()
        frame = pd.DataFrame({id_col: [uid] * n, time_col: times[:n], target_col: target})
        if futr is not None:
            if futr.shape[1] < n:
                raise ValueError(
                    f"entry {position} (item_id {uid!r}): feat_dynamic_real has {futr.shape[1]} steps, "
                    f"fewer than the target's {n}"
                )
            names = _names(futr_names, "feat_dynamic_real", futr.shape[0])
            frame[names] = futr[:, :n].T
            if width > n:
                future = pd.DataFrame({id_col: [uid] * (width - n), time_col: times[n:]})
                future[names] = futr[:, n:].T
                futures.append(future)
        if hist is not None:
            frame[_names(hist_names, "past_feat_dynamic_real", hist.shape[0])] = hist[:, :n].T
        frames.append(frame)
    if not frames:
        raise ValueError("the dataset has no entries")
    if dropped:
        warnings.warn(f"dropped {sorted(dropped)}: S4Forecaster has no static features", UserWarning, stacklevel=2)
    df = pd.concat(frames, ignore_index=True)
    return df, (pd.concat(futures, ignore_index=True) if futures else None)
