"""Validation of user frames: long/wide/Series input -> canonical long frame -> series on a time grid."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from pandas.tseries.frequencies import to_offset

__all__ = [
    "TIME_GRIDS",
    "Freq",
    "SeriesData",
    "freq_name",
    "future_times",
    "parse_freq",
    "series_columns",
    "series_on_grid",
    "series_rows",
    "split_series",
    "step_size",
    "time_gaps",
    "time_kind",
    "to_long",
]

# A series' sampling step: a pandas offset for datetime time, a positive integer for integer time.
Freq = pd.DateOffset | int
# How timestamps map to steps: a regular grid (missing steps become NaN), the observations'
# own timestamps (each step its own gap), or per series whichever fits its timestamps.
TIME_GRIDS = ("auto", "regular", "irregular")


@dataclass
class SeriesData:
    """One series on its regular time grid (NaN marks missing values) or at its own timestamps."""

    uid: Hashable
    times: pd.Index  # (T,) DatetimeIndex or integer Index, regular at `freq` unless freq is None
    y: np.ndarray  # (T,) float64
    covariates: np.ndarray  # (T, K) float64, columns in the order they were requested
    freq: Freq | None  # None: irregular, the steps are the observations' own timestamps


def _row(frame: pd.DataFrame, pos: int) -> str:
    """Describe row `pos` of a user's frame by its index label."""
    return f"row {frame.index[pos]!r}"


def _wide_to_long(
    data: pd.DataFrame, id_col: str, time_col: str, target_col: str
) -> pd.DataFrame:
    """Melt a wide frame (time index, one series per column) into id/time/target columns."""
    if isinstance(data.columns, pd.MultiIndex):
        raise TypeError(
            f"the wide frame's columns are a MultiIndex with {data.columns.nlevels} levels, e.g. "
            f"{data.columns[0]!r}; a wide frame needs one column per series, named by one id. "
            "Flatten it first, e.g. df.columns = ['/'.join(map(str, c)) for c in df.columns]"
        )
    repeated = data.columns[data.columns.duplicated()]
    if len(repeated):
        raise ValueError(
            f"the wide frame has two columns named {repeated[0]!r}; each series needs its own column"
        )
    for column in data.columns:
        if not _is_real_numeric(data[column]):
            raise TypeError(
                f"column {column!r} of the wide frame (series {column!r}) has dtype "
                f"{data[column].dtype}; every column of a wide frame must be a numeric series"
            )
    long = data.rename_axis(index=time_col, columns=id_col).stack(future_stack=True)
    return long.rename(target_col).reset_index()[[id_col, time_col, target_col]]


def _is_real_numeric(values: pd.Series) -> bool:
    """True for bool, integer and float columns (not complex, not object)."""
    return ptypes.is_bool_dtype(values) or (
        ptypes.is_numeric_dtype(values) and not ptypes.is_complex_dtype(values)
    )


def _index_is_time(index: pd.Index) -> bool:
    return isinstance(index, pd.DatetimeIndex) or (
        ptypes.is_integer_dtype(index) and not ptypes.is_bool_dtype(index)
    )


def to_long(
    data: pd.DataFrame | pd.Series,
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    covariates: Sequence[str] = (),
    name: str = "df",
    require_target: bool = True,
) -> pd.DataFrame:
    """Validate user data and return a new long frame [id, time, target, *covariates] sorted by id, time.

    `data` is a long frame (one row per series and time step), a wide frame with a
    DatetimeIndex or integer index (one series per column), or a Series. The result is a new
    frame; `data` is never modified. With `require_target=False` the target may be absent
    (frames of future covariates).
    """
    covariates = list(covariates)
    if isinstance(data, pd.Series):
        if not _index_is_time(data.index):
            raise TypeError(
                f"{name}: a Series needs a DatetimeIndex or an integer index as its time axis, "
                f"got {type(data.index).__name__}"
            )
        if covariates:
            raise ValueError(f"{name}: covariates {covariates} need a long DataFrame, not a Series")
        series_id = data.name if data.name is not None else "series"
        frame = pd.DataFrame(
            {id_col: series_id, time_col: data.index, target_col: data.to_numpy()},
            index=pd.RangeIndex(len(data)),
        )
    elif isinstance(data, pd.DataFrame):
        if id_col in data.columns or time_col in data.columns:
            frame = data
        elif _index_is_time(data.index):
            if covariates:
                raise ValueError(
                    f"{name}: covariates {covariates} need a long DataFrame with columns "
                    f"{id_col!r} and {time_col!r}, not a wide frame"
                )
            frame = _wide_to_long(data, id_col, time_col, target_col) if len(data) else data
        else:
            raise ValueError(
                f"{name} has neither a time column {time_col!r} (long format) nor a "
                f"DatetimeIndex/integer index (wide format); pass time_col= to name its time column"
            )
    else:
        raise TypeError(f"{name} must be a pandas DataFrame or Series, got {type(data).__name__}")
    if len(frame) == 0 or len(frame.columns) == 0:
        raise ValueError(f"{name} is empty; it needs at least one observation per series")

    needed = [id_col, time_col] + ([target_col] if require_target else []) + covariates
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{name} lacks column(s) {missing}; its columns are {list(frame.columns)}. "
            f"Name the id, time and target columns with id_col=, time_col=, target_col="
        )
    _check_time(frame, time_col, name)
    ids = frame[id_col]
    if ids.isna().any():
        raise ValueError(
            f"{name}: id column {id_col!r} is missing at {_row(frame, int(np.argmax(ids.isna())))}"
        )
    values = {column: _numeric_column(frame, column, id_col, name) for column in needed[2:]}

    out = pd.DataFrame(
        {id_col: ids.to_numpy(), time_col: frame[time_col].reset_index(drop=True), **values}
    )
    duplicated = out.duplicated([id_col, time_col])
    if duplicated.any():
        pos = int(np.argmax(duplicated.to_numpy()))
        raise ValueError(
            f"{name}: series {out[id_col].iat[pos]!r} has duplicate timestamp "
            f"{out[time_col].iat[pos]} ({_row(frame, pos)}); keep one row per series and time step"
        )
    if require_target:
        observed = out[target_col].notna().groupby(out[id_col], sort=False).any()
        if not observed.all():
            raise ValueError(
                f"{name}: series {observed.index[~observed.to_numpy()].tolist()} have no "
                f"observed values of {target_col!r} (all NaN); drop them"
            )
    # Sorted factor codes order ids of any type (pandas sorts mixed types by type, then value).
    codes = pd.factorize(out[id_col], sort=True)[0]
    times = out[time_col]
    keys = pd.DatetimeIndex(times).asi8 if time_kind(times) == "datetime" else times.to_numpy()
    order = np.lexsort((keys, codes))
    return out.iloc[order].reset_index(drop=True)


def _check_time(frame: pd.DataFrame, time_col: str, name: str) -> None:
    """Time must be datetimes or integers, without missing values."""
    times = frame[time_col]
    if not (
        ptypes.is_datetime64_any_dtype(times)
        or (ptypes.is_integer_dtype(times) and not ptypes.is_bool_dtype(times))
    ):
        # Timestamps with several UTC offsets or zones stay objects until converted to UTC.
        tz_aware = ptypes.is_object_dtype(times) and any(
            isinstance(t, datetime) and t.tzinfo is not None for t in times.head(1000)
        )
        utc = ", utc=True" if tz_aware else ""
        hint = " (its timestamps have more than one UTC offset or time zone)" if tz_aware else ""
        raise TypeError(
            f"{name}: time column {time_col!r} has dtype {times.dtype}{hint}; it must hold "
            f"datetimes or integers. Convert it first, e.g. "
            f"df[{time_col!r}] = pd.to_datetime(df[{time_col!r}]{utc})"
        )
    if times.isna().any():
        raise ValueError(
            f"{name}: time column {time_col!r} is missing (NaT) at "
            f"{_row(frame, int(np.argmax(times.isna().to_numpy())))}"
        )


def _numeric_column(frame: pd.DataFrame, column: str, id_col: str, name: str) -> np.ndarray:
    """Return a column as float64, rejecting non-numeric values and infinities by row."""
    values = frame[column]
    if not _is_real_numeric(values):
        coerced = pd.to_numeric(values, errors="coerce")
        bad = (coerced.isna() & values.notna()).to_numpy()
        where = f" (first at {_row(frame, int(np.argmax(bad)))}: {values.iat[int(np.argmax(bad))]!r})"
        raise TypeError(
            f"{name}: column {column!r} has dtype {values.dtype} and must be numeric"
            f"{where if bad.any() else ''}; convert it with pd.to_numeric"
        )
    out = values.to_numpy(dtype="float64", na_value=np.nan)
    infinite = np.isinf(out)
    if infinite.any():
        pos = int(np.argmax(infinite))
        raise ValueError(
            f"{name}: column {column!r} of series {frame[id_col].iat[pos]!r} is infinite at "
            f"{_row(frame, pos)}; replace infinities with NaN (missing) or finite values"
        )
    return out


def time_kind(times: pd.Index | pd.Series) -> str:
    """'datetime' or 'integer': the two kinds of time axis the data layer supports."""
    return "datetime" if ptypes.is_datetime64_any_dtype(times) else "integer"


def parse_freq(freq: str | int | pd.DateOffset | pd.Timedelta, kind: str) -> Freq:
    """Turn a user's `freq=` into the step of a `kind` ('datetime' or 'integer') time axis."""
    if kind == "integer":
        if isinstance(freq, (int, np.integer)) and not isinstance(freq, bool) and freq > 0:
            return int(freq)
        raise ValueError(f"freq={freq!r} does not fit integer time; pass a positive integer step")
    if isinstance(freq, (int, np.integer)):
        raise TypeError(
            f"freq={freq!r} is an integer step but the time column holds datetimes; "
            f"pass a pandas offset alias such as '30min', 'h' or 'D'"
        )
    try:
        return to_offset(freq)
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"freq={freq!r} is not a pandas frequency; pass an offset alias such as '30min', 'h', 'D'"
        ) from err


def _infer_freq(times: pd.Index, uid: Hashable) -> Freq:
    """Infer the step of one series from its timestamps (gaps allowed)."""
    if len(times) < 2:
        raise ValueError(
            f"series {uid!r} has a single timestamp, so its frequency cannot be inferred; "
            f"pass freq= (e.g. freq='h')"
        )
    if time_kind(times) == "integer":
        return int(np.diff(times.to_numpy()).min())
    inferred = pd.infer_freq(times) if len(times) >= 3 else None
    if inferred is not None:
        return to_offset(inferred)
    # Gaps (missing steps) defeat pd.infer_freq; the smallest gap is the step then.
    return to_offset(pd.Timedelta(np.diff(times.to_numpy()).min()))


def _fits_grid(times: pd.Index) -> bool:
    """True when the timestamps lie on one regular grid: a pandas frequency, or every gap a
    whole multiple of the smallest (missing steps)."""
    if len(times) < 3 or (time_kind(times) == "datetime" and pd.infer_freq(times) is not None):
        return True
    gaps = np.diff(times.asi8 if time_kind(times) == "datetime" else times.to_numpy(np.int64))
    return bool((gaps % gaps.min() == 0).all())


def _grid(start, end, freq: Freq) -> pd.Index:
    """All time steps from start to end at `freq`."""
    if isinstance(freq, int):
        # Count in Python integers: numpy sizes an int64 arange in floating point, which drops
        # the last step of large values (epoch nanoseconds).
        count = (int(end) - int(start)) // freq + 1
        return pd.Index(int(start) + freq * np.arange(count, dtype=np.int64), dtype="int64")
    return pd.date_range(start=start, end=end, freq=freq)


def series_rows(long: pd.DataFrame, id_col: str) -> list[tuple[Hashable, np.ndarray]]:
    """(id, positional rows) of each series of a long frame, series in order of first appearance
    and rows in frame order, as `groupby(sort=False)` gives them, without a frame per group."""
    codes, uniques = pd.factorize(long[id_col], sort=False)  # (n,), -1 for a missing id
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    return [(uid, order[bounds[k] : bounds[k + 1]]) for k, uid in enumerate(list(uniques))]


def split_series(
    long: pd.DataFrame,
    *,
    id_col: str,
    time_col: str,
    target_col: str | None,
    covariates: Sequence[str] = (),
    freq: Freq | None = None,
    start=None,
    time_grid: str = "regular",
) -> list[SeriesData]:
    """Split a frame from `to_long` into series on regular grids or at their own timestamps.

    `time_grid="regular"`: the step of each series is `freq` when given, else inferred from
    its own timestamps, and missing steps become NaN; the grid starts at `start` when given
    (then no timestamp may precede it), else at the first timestamp of each series.
    `"irregular"`: each series keeps its timestamps (freq None). `"auto"`: regular when `freq`
    is given or the series' gaps are all whole multiples of its smallest gap, else irregular.
    """
    if time_grid not in TIME_GRIDS:
        raise ValueError(f"time_grid={time_grid!r} must be one of {TIME_GRIDS}")
    times, y, cov = series_columns(long, time_col=time_col, target_col=target_col, covariates=covariates)
    return [
        series_on_grid(uid, times[rows], y[rows], cov[rows], freq=freq, start=start, time_grid=time_grid)
        for uid, rows in series_rows(long, id_col)
    ]


def series_columns(
    long: pd.DataFrame, *, time_col: str, target_col: str | None, covariates: Sequence[str] = ()
) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """A long frame's times (n,), target (n,) (NaN without a target column) and covariates
    (n, K) as float64, read once: each series is then a slice (`series_rows`), not a frame per
    group (that cost ~1.5 ms per series: `update` of 1,000 series spent 1.9 s in it)."""
    times = pd.Index(long[time_col])
    y = long[target_col].to_numpy(dtype="float64") if target_col is not None else np.full(len(long), np.nan)
    cov = long[list(covariates)].to_numpy(dtype="float64").reshape(len(long), len(covariates))
    return times, y, cov


def series_on_grid(
    uid: Hashable,
    times: pd.Index,  # (T,)
    y: np.ndarray,  # (T,)
    cov: np.ndarray,  # (T, K)
    *,
    freq: Freq | None,
    start,
    time_grid: str,
) -> SeriesData:
    """One series' rows on its regular grid or at its own timestamps (see `split_series`)."""
    irregular = time_grid == "irregular" or (time_grid == "auto" and freq is None and not _fits_grid(times))
    if irregular:
        return SeriesData(uid=uid, times=times, y=y, covariates=cov, freq=None)
    step = freq if freq is not None else _infer_freq(times, uid)
    origin = times[0] if start is None else start
    grid = _grid(origin, times[-1], step)
    position = grid.get_indexer(times)  # (T,), -1 off the grid
    if (position < 0).any():
        raise ValueError(
            f"series {uid!r}: timestamp {times[np.argmax(position < 0)]} is not on the regular grid "
            f"of step {freq_name(step)} that starts at {origin}; pass freq= with the "
            f"series' true frequency, resample the series, or use time_grid='irregular'"
        )
    y_grid = np.full(len(grid), np.nan)
    y_grid[position] = y
    cov_grid = np.full((len(grid), cov.shape[1]), np.nan)
    cov_grid[position] = cov
    return SeriesData(uid=uid, times=grid, y=y_grid, covariates=cov_grid, freq=step)


def freq_name(freq: Freq) -> str:
    """The pandas alias of an offset ('30min'), or the integer step as text."""
    return str(freq) if isinstance(freq, int) else freq.freqstr


def step_size(freq: Freq) -> float:
    """Physical length of one step: seconds for datetime offsets (nominal for months), units for integers."""
    if isinstance(freq, int):
        return float(freq)
    if isinstance(freq, pd.offsets.Tick):
        return freq.nanos / 1e9
    # Calendar offsets (months, business days) vary in length; use their average step.
    sample = pd.date_range("2001-01-01", periods=49, freq=freq)
    return float(np.diff(sample.asi8).mean()) / 1e9


def time_gaps(times: pd.Index) -> np.ndarray:
    """Gaps between consecutive timestamps (T-1,), in the units of `step_size` (seconds or units)."""
    if time_kind(times) == "datetime":
        return np.diff(pd.DatetimeIndex(times).asi8) / 1e9  # int64 nanoseconds: exact differences
    return np.diff(times.to_numpy(np.int64)).astype("float64")


def future_times(last, freq: Freq, horizon: int) -> pd.Index:
    """The `horizon` time steps after `last` at `freq`."""
    if isinstance(freq, int):
        return pd.Index(last + freq * np.arange(1, horizon + 1), dtype="int64")
    return pd.date_range(start=last, periods=horizon + 1, freq=freq)[1:]
