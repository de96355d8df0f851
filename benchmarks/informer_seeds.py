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
example, the ETTh1 cells of benchmarks/results/README.md (v5), about 40 s per seed and
horizon on 2 idle CPU cores:
  S4TS_DATA=../shared/data/ETT .venv/bin/python benchmarks/informer_seeds.py \\
      --dataset ETTh1 --horizons 48 168 336 --linear --epochs 3 --max-train-windows 0 --seeds 5
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

import torch

from s4ts.bench import informer
from s4ts.bench.models import Ensemble, evaluate
from s4ts.datasets import get_dataset


def seed_spread(load: informer.SplitLoader, dataset: str, features: str, seq_len: int,
                horizon: int, model_config: informer.S4Config,
                train_config: informer.TrainConfig, seeds: int) -> dict:
    """One cell: the baseline, `seeds` trained models and their mean forecast, scored on
    validation and test."""
    _, val, test = load(seq_len, horizon)
    linear = informer.fit_linear_baseline(load, [seq_len], horizon)
    record = {"dataset": dataset, "features": features, "horizon": horizon, "seq_len": seq_len,
              "linear_norm": linear.overrides["norm"], "linear_val_mse": linear.val_mse,
              "linear_mse": evaluate(linear.model, test)[0], "seeds": []}
    models = []
    for seed in range(train_config.seed, train_config.seed + seeds):
        trial = informer.train_s4(load, seq_len, horizon, model_config,
                                  replace(train_config, seed=seed), {})
        models.append(trial.model)
        record["seeds"].append({"seed": seed, "val_mse": trial.val_mse,
                                "mse": evaluate(trial.model, test)[0]})
        print(f"{dataset} {features} H={horizon} seed {seed}: val {trial.val_mse:.5f}, "
              f"test {record['seeds'][-1]['mse']:.5f}", file=sys.stderr, flush=True)
    mean_forecast = Ensemble(models)
    record["ensemble_val_mse"] = evaluate(mean_forecast, val)[0]
    record["ensemble_mse"] = evaluate(mean_forecast, test)[0]
    record["seeds_below_linear"] = sum(s["mse"] < record["linear_mse"] for s in record["seeds"])
    record["ensemble_over_linear"] = record["ensemble_mse"] / record["linear_mse"]
    record["s4_paper_mse"] = informer.published_value(
        informer.load_published(), dataset, features, horizon, "S4")[0]
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
    model_config, train_config = informer.configs_from_args(args)
    records = []
    try:
        for dataset in args.dataset:
            name = get_dataset(dataset).name
            for features in args.features:
                load = informer.split_loader(name, features, args.data_dir)
                for seq_len, horizon in informer.horizons_and_contexts(args, name):
                    records.append(seed_spread(load, name, features, seq_len, horizon,
                                               model_config, train_config, args.seeds))
    except (ValueError, FileNotFoundError) as err:
        parser.error(str(err))  # bad options or a missing data file: the message says which
    print(markdown_table(records))
    if args.json:
        informer.write_json(args.json, records)
    print(json.dumps(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
