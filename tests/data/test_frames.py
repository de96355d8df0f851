"""Validation and canonicalisation of user frames (s4ts.data.frames)."""

import numpy as np
import pandas as pd
import pytest

from s4ts.data.frames import (
    future_times,
    parse_freq,
    series_rows,
    split_series,
    step_size,
    time_gaps,
    to_long,
)

COLUMNS = {"id_col": "unique_id", "time_col": "ds", "target_col": "y"}


def long_frame(n=6, ids=("a", "b")):
    times = pd.date_range("2021-01-01", periods=n, freq="h")
    return pd.concat(
        [pd.DataFrame({"unique_id": uid, "ds": times, "y": np.arange(n, dtype=float) + k, "x": 1.0})
         for k, uid in enumerate(ids)],
        ignore_index=True,
    )


def test_long_frame_is_sorted_and_copied():
    df = long_frame().sample(frac=1.0, random_state=1)
    before = df.copy(deep=True)
    out = to_long(df, covariates=["x"])
    pd.testing.assert_frame_equal(df, before)  # the user's frame is untouched
    assert list(out.columns) == ["unique_id", "ds", "y", "x"]
    for _, group in out.groupby("unique_id"):
        assert group["ds"].is_monotonic_increasing
    assert out["unique_id"].unique().tolist() == ["a", "b"]
    mixed = to_long(pd.concat([long_frame(ids=("z",)), long_frame(ids=(1,))]))
    assert mixed["unique_id"].unique().tolist() == [1, "z"]  # mixed-type ids sort too


def test_wide_frame_and_series():
    index = pd.date_range("2021-01-01", periods=4, freq="D")
    wide = pd.DataFrame({"s1": [1.0, 2, 3, 4], "s2": [5.0, np.nan, 7, 8]}, index=index)
    out = to_long(wide)
    assert out.groupby("unique_id").size().to_dict() == {"s1": 4, "s2": 4}
    assert np.isnan(out.loc[out.unique_id == "s2", "y"].iloc[1])
    series = to_long(pd.Series([1.0, 2.0, 3.0], index=index[:3], name="demand"))
    assert series["unique_id"].unique().tolist() == ["demand"]
    integer = to_long(pd.Series([1.0, 2.0, 3.0]))
    assert integer["ds"].tolist() == [0, 1, 2]


def test_custom_column_names():
    df = long_frame().rename(columns={"unique_id": "sid", "ds": "when", "y": "load"})
    out = to_long(df, id_col="sid", time_col="when", target_col="load")
    assert list(out.columns) == ["sid", "when", "load"]


def test_split_series_fills_gaps_and_infers_freq():
    df = long_frame(n=8).drop(index=[2, 3])  # series a misses two hours
    series = split_series(to_long(df), **COLUMNS)
    a = series[0]
    assert a.freq == pd.tseries.frequencies.to_offset("h")
    assert len(a.times) == 8 and np.isnan(a.y[2:4]).all()


def test_split_series_rejects_off_grid_timestamp():
    df = long_frame(n=5)
    df.loc[1, "ds"] = df.loc[1, "ds"] + pd.Timedelta("10min")
    with pytest.raises(ValueError, match="series 'a'.*not on the regular grid"):
        split_series(to_long(df), freq=pd.tseries.frequencies.to_offset("h"), **COLUMNS)


def test_time_grid_keeps_irregular_timestamps():
    df = long_frame(n=6)
    df.loc[1, "ds"] = df.loc[1, "ds"] + pd.Timedelta("10min")  # jitter in series a
    df = df.drop(index=[9])  # a missing hour in series b: still a regular grid
    a, b = split_series(to_long(df, covariates=["x"]), time_grid="auto", covariates=["x"], **COLUMNS)
    assert a.freq is None and len(a.times) == 6 and a.times[1] == pd.Timestamp("2021-01-01 01:10")
    assert a.covariates.shape == (6, 1) and a.y.tolist() == list(range(6))
    assert b.freq == pd.tseries.frequencies.to_offset("h") and np.isnan(b.y[3])
    np.testing.assert_allclose(time_gaps(a.times), [4200, 3000, 3600, 3600, 3600])
    # freq= fixes the grid under "auto"; "irregular" keeps every series' own timestamps.
    with pytest.raises(ValueError, match="or use time_grid='irregular'"):
        split_series(to_long(df), time_grid="auto", freq=parse_freq("h", "datetime"), **COLUMNS)
    _, b = split_series(to_long(df), time_grid="irregular", **COLUMNS)
    assert b.freq is None and len(b.times) == 5
    with pytest.raises(ValueError, match="time_grid='grid' must be one of"):
        split_series(to_long(df), time_grid="grid", **COLUMNS)


def test_integer_time_steps():
    df = pd.DataFrame({"unique_id": 1, "ds": [10, 12, 16], "y": [1.0, 2.0, 3.0]})
    (s,) = split_series(to_long(df), **COLUMNS)
    assert s.freq == 2 and s.times.tolist() == [10, 12, 14, 16] and np.isnan(s.y[2])
    assert future_times(16, 2, 3).tolist() == [18, 20, 22]
    assert time_gaps(pd.Index([10, 12, 17])).tolist() == [2.0, 5.0]
    (s,) = split_series(to_long(df.assign(ds=[10, 12, 17])), time_grid="auto", **COLUMNS)
    assert s.freq is None and s.times.tolist() == [10, 12, 17]


def test_step_size_is_physical_time():
    assert step_size(parse_freq("30min", "datetime")) == 1800.0
    assert step_size(parse_freq("h", "datetime")) == 3600.0
    assert step_size(3) == 3.0
    assert 28 * 86400 <= step_size(parse_freq("MS", "datetime")) <= 31 * 86400


def test_parse_freq_errors():
    with pytest.raises(ValueError, match="not a pandas frequency"):
        parse_freq("every tuesday", "datetime")
    with pytest.raises(ValueError, match="positive integer step"):
        parse_freq("h", "integer")
    with pytest.raises(TypeError, match="integer step"):
        parse_freq(2, "datetime")


# ---------------------------------------------------------------- one test per bad input


def test_error_not_a_frame():
    with pytest.raises(TypeError, match="DataFrame or Series"):
        to_long([1, 2, 3])


def test_error_empty_frame():
    with pytest.raises(ValueError, match="empty"):
        to_long(long_frame().iloc[:0])


def test_error_missing_columns():
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['y'\]"):
        to_long(long_frame().drop(columns="y"))
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['temp'\]"):
        to_long(long_frame(), covariates=["temp"])


def test_error_non_numeric_target():
    df = long_frame()
    df["y"] = df["y"].astype(object)
    df.loc[3, "y"] = "n/a"
    with pytest.raises(TypeError, match="column 'y'.*must be numeric.*row 3"):
        to_long(df)


def test_error_bad_time_dtype():
    df = long_frame()
    df["ds"] = df["ds"].astype(str)
    with pytest.raises(TypeError, match="time column 'ds'.*datetimes or integers"):
        to_long(df)


def test_error_duplicate_timestamps():
    df = pd.concat([long_frame(), long_frame().iloc[[7]]], ignore_index=True)
    with pytest.raises(ValueError, match="series 'b' has duplicate timestamp"):
        to_long(df)


def test_error_all_nan_series():
    df = long_frame()
    df.loc[df.unique_id == "b", "y"] = np.nan
    with pytest.raises(ValueError, match=r"series \['b'\].*all NaN"):
        to_long(df)


def test_error_infinite_values():
    df = long_frame()
    df.loc[8, "y"] = np.inf
    with pytest.raises(ValueError, match="column 'y' of series 'b' is infinite at row 8"):
        to_long(df)


def test_error_missing_time_and_id():
    df = long_frame()
    df.loc[2, "ds"] = pd.NaT
    with pytest.raises(ValueError, match="missing \\(NaT\\) at row 2"):
        to_long(df)
    df = long_frame().astype({"unique_id": object})
    df.loc[4, "unique_id"] = None
    with pytest.raises(ValueError, match="id column 'unique_id' is missing at row 4"):
        to_long(df)


def test_error_single_timestamp_needs_freq():
    df = long_frame(n=1)
    with pytest.raises(ValueError, match="single timestamp.*pass freq="):
        split_series(to_long(df), **COLUMNS)


@pytest.mark.parametrize(
    "ids",
    [
        [3, 1, 3, 2, 1, 1],
        ["b", "a", "b", "c", "a", "a"],
        pd.Categorical(["b", "a", "b", "c", "a", "a"], categories=["c", "b", "a", "unused"]),
        pd.to_datetime(["2020", "2019", "2020", "2021", "2019", "2019"]),
    ],
)
def test_series_rows_are_the_groups_of_groupby_in_order_of_first_appearance(ids):
    frame = pd.DataFrame({"unique_id": ids, "v": range(6)})
    got = series_rows(frame, "unique_id")
    expected = [(uid, group.index.to_numpy()) for uid, group in frame.groupby("unique_id", sort=False, observed=True)]
    assert [uid for uid, _ in got] == [uid for uid, _ in expected]
    assert [type(uid) for uid, _ in got] == [type(uid) for uid, _ in expected]
    for (_, rows), (_, want) in zip(got, expected):
        assert rows.tolist() == want.tolist()


def test_series_interleaved_in_the_frame_keep_their_rows_in_time_order():
    frame = long_frame(4).sample(frac=1.0, random_state=0).sort_values("ds", kind="stable", ignore_index=True)
    series = {s.uid: s for s in split_series(frame, **COLUMNS)}
    a, b = series["a"], series["b"]
    assert a.y.tolist() == [0.0, 1.0, 2.0, 3.0] and b.y.tolist() == [1.0, 2.0, 3.0, 4.0]
