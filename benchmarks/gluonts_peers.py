"""S4Estimator beside GluonTS's own DeepAR, SimpleFeedForward and PatchTST, scored by GluonTS's Evaluator.

Every model is a GluonTS PyTorch estimator trained with the same budget (--max-epochs epochs
of --batches batches of 32 windows, GluonTS's defaults otherwise) on each series' history
before the first test cutoff (transformed once: `train(..., cache_data=True)`), then
forecasts the rolling test windows of `s4ts.bench.panel` (vic_elec: the last 14 days from
midnight, 48 half-hours each; aus_retail: 3 origins 6 months apart, 12 months each;
tourism: 3 origins a year apart, 8 quarters each). The datasets reach GluonTS through
`s4ts.integrations.gluonts.to_gluonts` (vic_elec's temperature and holiday flag as
`feat_dynamic_real` for the models that take it: S4Estimator, DeepAR, PatchTST).

Scores are GluonTS's `Evaluator` at the quantiles 0.1, ..., 0.9: MASE (seasonality from the
frequency), mean weighted quantile loss (a CRPS estimate), coverage of the 80% band
(Coverage[0.9] - Coverage[0.1]), plus training and prediction seconds. Each model runs once
per --seeds value; tables give the mean and the spread (min-max). The last line is JSON; with
--out the tables and the full record go to DIR/gluonts_peers.md and .json.

  .venv/bin/python benchmarks/gluonts_peers.py --out benchmarks/results/gluonts_peers_v1
  .venv/bin/python benchmarks/gluonts_peers.py --quick     # smoke test: tiny budgets, 3 series
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from s4ts.bench import panel
from s4ts.bench.versions import versions

MODELS = ("S4Estimator", "DeepAR", "SimpleFeedForward", "PatchTST")
DATASETS = ("vic_elec", "aus_retail")
QUANTILES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
METRICS = ("mean_wQuantileLoss", "MASE", "coverage80", "train_s", "predict_s")


def gluonts_data(spec: panel.PanelSpec, max_series: int | None):
    """(training ListDataset, test ListDataset of every window, frequency) of a panel dataset;
    a test entry runs to its window's end (the Evaluator's truth), its features too."""
    from gluonts.dataset.common import ListDataset

    from s4ts.integrations.gluonts import to_gluonts

    frame = panel.subsample(panel.split_for(spec, spec.loader(), "test"), max_series)
    position = frame.groupby(panel.ID, sort=False).cumcount().to_numpy()
    length = frame.groupby(panel.ID, sort=False)[panel.TIME].transform("size").to_numpy()
    columns = [panel.ID, panel.TIME, panel.TARGET, *spec.futr_exog]
    frame = frame[columns]
    futr = list(spec.futr_exog)
    train = to_gluonts(frame[position < length - spec.block], futr_exog=futr)
    entries = []
    for k in range(spec.n_windows):
        end = length - spec.block + k * spec.window_step + spec.horizon  # the window's end per row
        for entry in to_gluonts(frame[position < end], futr_exog=futr):
            entries.append({**entry, "item_id": f"{entry['item_id']} #{k}"})
    freq = next(iter(train))["start"].freqstr
    return train, ListDataset(entries, freq=freq), freq


def make_estimator(name: str, spec: panel.PanelSpec, freq: str, args, root: str):
    """The GluonTS estimator `name` with the shared training budget and GluonTS's defaults."""
    from gluonts.torch.model.deepar import DeepAREstimator
    from gluonts.torch.model.patch_tst import PatchTSTEstimator
    from gluonts.torch.model.simple_feedforward import SimpleFeedForwardEstimator

    from s4ts.integrations.gluonts import S4Estimator

    epochs = args.max_epochs if name == "S4Estimator" else args.peer_max_epochs or args.max_epochs
    trainer = {"max_epochs": epochs, "enable_progress_bar": False, "enable_model_summary": False,
               "logger": False, "default_root_dir": root, "accelerator": "cpu"}
    common = {"prediction_length": spec.horizon, "batch_size": 32, "num_batches_per_epoch": args.batches,
              "trainer_kwargs": trainer}
    n_dynamic = len(spec.futr_exog)
    if name == "S4Estimator":
        small = {"d_model": 16, "n_layers": 1, "d_state": 16} if args.quick else {}
        return S4Estimator(num_feat_dynamic_real=n_dynamic, **small, **common)
    if name == "DeepAR":
        return DeepAREstimator(freq=freq, num_feat_dynamic_real=n_dynamic, **common)
    if name == "SimpleFeedForward":  # takes no dynamic features
        return SimpleFeedForwardEstimator(**common)
    return PatchTSTEstimator(patch_len=min(16, spec.horizon), num_feat_dynamic_real=n_dynamic, **common)


def run_model(name: str, spec: panel.PanelSpec, data, args, seed: int) -> dict:
    """Train, predict and score one model at one seed."""
    import lightning
    from gluonts.evaluation import Evaluator, make_evaluation_predictions

    train, test, freq = data
    lightning.seed_everything(seed, verbose=False)
    with tempfile.TemporaryDirectory() as root:
        estimator = make_estimator(name, spec, freq, args, root)
        started = time.perf_counter()
        predictor = estimator.train(train, cache_data=True)  # transformed once, not every pass
        trained = time.perf_counter()
        forecasts, series = make_evaluation_predictions(test, predictor)
        forecasts, series = list(forecasts), list(series)
        predicted = time.perf_counter()
    metrics, _ = Evaluator(quantiles=QUANTILES, num_workers=0)(series, forecasts)
    return {"mean_wQuantileLoss": float(metrics["mean_wQuantileLoss"]), "MASE": float(metrics["MASE"]),
            "coverage80": float(metrics["Coverage[0.9]"] - metrics["Coverage[0.1]"]),
            "train_s": trained - started, "predict_s": predicted - trained}


def summarize(runs: list[dict]) -> dict:
    """Mean, min and max of each metric over seeds."""
    return {m: {"mean": float(np.mean([r[m] for r in runs])), "min": float(np.min([r[m] for r in runs])),
                "max": float(np.max([r[m] for r in runs]))} for m in METRICS}


def table(name: str, results: dict, n_series: int, n_windows: int) -> str:
    lines = [f"### {name} ({n_series} series, {n_windows} test windows each)", "",
             "| model | mean wQL | MASE | 80% coverage | train s | predict s |", "|---|---|---|---|---|---|"]
    for model, s in sorted(results.items(), key=lambda kv: kv[1]["mean_wQuantileLoss"]["mean"]):
        cells = []
        for m, digits in zip(METRICS, (4, 3, 3, 1, 1)):
            cell = f"{s[m]['mean']:.{digits}f}"
            if m in ("mean_wQuantileLoss", "MASE") and s[m]["max"] > s[m]["min"]:
                cell += f" ({s[m]['min']:.{digits}f}-{s[m]['max']:.{digits}f})"
            cells.append(cell)
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), help="panel datasets")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--max-epochs", type=int, default=20, help="epochs every model trains")
    parser.add_argument("--peer-max-epochs", type=int, default=None,
                        help="epochs of the GluonTS models when they should train longer than S4Estimator "
                             "(e.g. 100, DeepAR's default); default --max-epochs")
    parser.add_argument("--batches", type=int, default=50, help="batches of 32 windows per epoch")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-series", type=int, default=None, help="at most N series per dataset")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 3 series, 1 epoch of 2 batches, one seed, a small S4")
    parser.add_argument("--out", type=Path, default=None, help="folder for gluonts_peers.md and .json")
    args = parser.parse_args(argv)
    if args.quick:
        args.max_series, args.max_epochs, args.batches, args.seeds = args.max_series or 3, 1, 2, args.seeds[:1]
    for flag in ("max_epochs", "peer_max_epochs", "batches", "max_series"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            parser.error(f"--{flag.replace('_', '-')} must be a positive integer, got {value}")
    try:
        specs = [panel.get_spec(name) for name in args.datasets]
    except ValueError as err:
        parser.error(str(err))
    import lightning  # noqa: F401  (sets its loggers' levels on import; ours come after)

    for name in ("lightning", "lightning.pytorch", "lightning.fabric", "pytorch_lightning", "gluonts"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)

    started, record, tables = time.perf_counter(), {}, []
    for spec in specs:
        try:
            data = gluonts_data(spec, args.max_series)
        except (FileNotFoundError, ImportError, ValueError) as err:
            parser.error(f"{spec.name}: {err}")
        results = {}
        for model in args.models:
            runs = [run_model(model, spec, data, args, seed) for seed in args.seeds]
            results[model] = {**summarize(runs), "runs": runs}
            print(f"{spec.name} {model}: wQL {results[model]['mean_wQuantileLoss']['mean']:.4f}, "
                  f"{results[model]['train_s']['mean']:.1f} s", flush=True)
        n_series = len(data[0])
        record[spec.name] = {"n_series": n_series, "n_windows": spec.n_windows, "horizon": spec.horizon,
                             "models": results}
        tables.append(table(spec.name, results, n_series, spec.n_windows))
        print("\n" + tables[-1] + "\n", flush=True)
    lowest = {name: min(r["models"], key=lambda m: r["models"][m]["mean_wQuantileLoss"]["mean"])
              for name, r in record.items()}
    final = {"quick": args.quick, "seconds": round(time.perf_counter() - started, 1),
             "seeds": args.seeds, "max_epochs": args.max_epochs,
             "peer_max_epochs": args.peer_max_epochs or args.max_epochs, "batches": args.batches,
             "mean_wql": {n: {m: round(s["mean_wQuantileLoss"]["mean"], 5) for m, s in r["models"].items()}
                          for n, r in record.items()},
             "lowest_wql": lowest,
             "s4_lowest_wql_everywhere": all(m == "S4Estimator" for m in lowest.values())}
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        command = "benchmarks/gluonts_peers.py " + " ".join(argv if argv is not None else sys.argv[1:])
        (args.out / "gluonts_peers.md").write_text(f"`{command}`\n\n" + "\n\n".join(tables) + "\n")
        full = {**final, "command": command, "datasets": record,
                "versions": versions(("s4ts", "torch", "lightning", "gluonts", "pandas", "numpy"))}
        (args.out / "gluonts_peers.json").write_text(json.dumps(full, indent=2) + "\n")
    print(json.dumps(final))
    return 0


if __name__ == "__main__":
    sys.exit(main())
