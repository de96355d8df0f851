"""Seed spread of our Informer-benchmark model against the least-squares linear baseline.

`s4ts bench informer` reports one number per cell: a model chosen on validation and averaged
over a few seeds. Where that number and the linear baseline's differ by about 1%, the
difference may be the seed's. This script trains one configuration with `--seeds` seeds per
horizon and prints, next to the baseline fit in the same run (context length as given,
normalisation chosen on validation): every seed's validation and test MSE, how many seeds
score below the baseline on test, and the mean forecast of all seeds. The last line is JSON,
one record per cell.

It takes the options of `s4ts bench informer` (model, training, data; --out is not used)
except --search, --ensemble and --no-baseline: the configuration is the one given. For
example, five seeds of the v6 ETTh1 S configuration (benchmarks/results/README.md):
  S4TS_DATA=../shared/data/ETT .venv/bin/python benchmarks/informer_seeds.py \\
      --dataset ETTh1 --horizons 48 168 336 --seeds 5 --linear true --norm last \\
      --d-model 32 --n-layers 2 --d-state 64 --dropout 0.1 --distribution point \\
      --batch-size 64 --max-epochs 3 --early-stopping-patience 3 --learning-rate 1e-3 \\
      --batches-per-epoch 0
"""

from __future__ import annotations

import argparse
import json
import sys

import torch

from s4ts.bench import informer
from s4ts.bench.informer.baseline import evaluate
from s4ts.bench.informer.cells import fit_linear_baseline
from s4ts.bench.informer.forecaster import point_forecasts, scores, train_s4
from s4ts.bench.informer.protocol import (
    ProtocolData,
    load_protocol,
    load_published,
    published_value,
)
from s4ts.bench.informer.report import write_json
from s4ts.datasets import get_dataset


def seed_spread(data: ProtocolData, features: str, seq_len: int, horizon: int, params: dict,
                seeds: int) -> dict:
    """One cell: the baseline, `seeds` trained S4Forecasters and their mean forecast, scored on
    validation and test."""
    linear = fit_linear_baseline(data, [seq_len], horizon)
    test_windows = data.windows(seq_len, horizon)[2]
    record = {"dataset": data.name, "features": features, "horizon": horizon, "seq_len": seq_len,
              "linear_norm": linear.overrides["norm"], "linear_val_mse": linear.val_mse,
              "linear_mse": evaluate(linear.model, test_windows)[0], "seeds": []}
    first = params.get("random_state", 0)
    val_preds, test_preds = [], []
    for seed in range(first, first + seeds):
        trial = train_s4(data, seq_len, horizon, {**params, "random_state": seed}, {})
        preds, test_truth = point_forecasts(trial.model, data, "test")
        val_preds.append(trial.val_preds)
        test_preds.append(preds)
        record["seeds"].append({"seed": seed, "val_mse": trial.val_mse,
                                "mse": scores([preds], test_truth)[0]})
        print(f"{data.name} {features} H={horizon} seed {seed}: val {trial.val_mse:.5f}, "
              f"test {record['seeds'][-1]['mse']:.5f}", file=sys.stderr, flush=True)
    record["ensemble_val_mse"] = scores(val_preds, trial.val_truth)[0]
    record["ensemble_mse"] = scores(test_preds, test_truth)[0]
    record["seeds_below_linear"] = sum(s["mse"] < record["linear_mse"] for s in record["seeds"])
    record["ensemble_over_linear"] = record["ensemble_mse"] / record["linear_mse"]
    record["s4_paper_mse"] = published_value(load_published(), data.name, features, horizon, "S4")[0]
    return record


def markdown_table(records: list[dict]) -> str:
    """Per cell: the baseline, the seeds' test MSE range and the mean forecast against it."""
    head = ["data", "H", "linear val / test (norm)", "seeds' val min-max", "seeds' test min-max",
            "seeds below linear", "mean of seeds val / test", "mean / linear", "S4 paper"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in records:
        val = [s["val_mse"] for s in r["seeds"]]
        test = [s["mse"] for s in r["seeds"]]
        paper = "-" if r["s4_paper_mse"] is None else f"{r['s4_paper_mse']:.3f}"
        lines.append("| " + " | ".join([
            f"{r['dataset']} {r['features']}", str(r["horizon"]),
            f"{r['linear_val_mse']:.5f} / {r['linear_mse']:.5f} ({r['linear_norm']})",
            f"{min(val):.5f}-{max(val):.5f}", f"{min(test):.5f}-{max(test):.5f}",
            f"{r['seeds_below_linear']} of {len(test)}",
            f"{r['ensemble_val_mse']:.5f} / {r['ensemble_mse']:.5f}",
            f"{r['ensemble_over_linear']:.3f}", paper,
        ]) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    informer.add_arguments(parser)
    parser.add_argument("--seeds", type=int, default=5, help="seeds trained per horizon")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds must be at least 1, got {args.seeds}.")
    if args.search or args.ensemble != 1 or args.no_baseline:
        parser.error("--search, --ensemble and --no-baseline do not apply: this script trains "
                     "the one configuration given, with --seeds seeds, beside the baseline.")
    if args.threads:
        torch.set_num_threads(args.threads)
    params = informer.cli.forecaster_params(args)
    records = []
    try:
        for dataset in args.dataset:
            name = get_dataset(dataset).name
            for features in args.features:
                data = load_protocol(name, features, args.data_dir)
                for seq_len, horizon in informer.cli.horizons_and_contexts(args, name):
                    records.append(seed_spread(data, features, seq_len, horizon, params, args.seeds))
    except (ValueError, FileNotFoundError) as err:
        parser.error(str(err))  # bad options or a missing data file: the message says which
    print(markdown_table(records))
    if args.json:
        write_json(args.json, records)
    print(json.dumps(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
