"""`s4ts bench informer`: options, and the run that writes the tables and returns the report."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from s4ts.bench.informer.cells import run_cell
from s4ts.bench.informer.protocol import FEATURES, default_horizons, default_seq_len, load_protocol
from s4ts.bench.informer.report import machine_summary, markdown_table, write_json
from s4ts.bench.informer.search import FORECASTER_OPTIONS, SEARCHABLE, candidates, parse_search
from s4ts.datasets import DATASETS, get_dataset
from s4ts.forecasting import S4Forecaster
from s4ts.forecasting.params import check_params

__all__ = ["add_arguments", "forecaster_params", "horizons_and_contexts", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `s4ts bench informer`."""
    parser.add_argument("--dataset", nargs="+", default=["ETTh1"], choices=list(DATASETS),
                        help="benchmark dataset(s)")
    parser.add_argument("--features", nargs="+", default=["S"], choices=FEATURES,
                        help="S: forecast the target OT alone; M: all columns, each a series of "
                             "one global model (channel-independent, or joint with "
                             "--cross-series true)")
    parser.add_argument("--horizons", nargs="+", type=int,
                        help="forecast horizons (default: those of the published tables)")
    parser.add_argument("--seq-len", nargs="+", type=int,
                        help="context length, one for all horizons or one per horizon "
                             "(default 336; ILI 36)")
    parser.add_argument("--data-dir",
                        help="folder with the CSV files (default: $S4TS_DATA, then the cache)")
    parser.add_argument("--out", default="out/bench", help="folder for the CSV/Markdown tables")
    parser.add_argument("--json", help="also write one JSON record per cell to this path")
    parser.add_argument("--no-baseline", action="store_true", help="skip the linear baseline")
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    parser.add_argument(
        "--tune", type=int, default=0, metavar="N",
        help="per horizon, an Optuna study of N trials (TPE, median pruning on the per-epoch "
             "validation loss; the tune extra) keeps the setting with the lowest validation MSE; "
             "it samples the --search values, else context length (96-720), d_model, n_layers, "
             "d_state, mode, dropout, learning rate, weight decay, norm and linear path",
    )
    parser.add_argument(
        "--val-stride", type=int, default=1, metavar="K",
        help="score the models (trials and ensemble) on every K-th validation window, which "
             "makes each trial's score K times cheaper (default 1: every window); the test "
             "split is always scored on every window",
    )
    parser.add_argument(
        "--search", nargs="+", metavar="KEY=V1,V2",
        help="the values to choose from on validation (e.g. seq_len=96,336 linear=true,false): "
             "every combination (Optuna's grid sampler), or N sampled ones with --tune N; seq_len "
             f"also applies to the baseline. Keys: {', '.join(SEARCHABLE)}",
    )
    parser.add_argument("--ensemble", type=int, default=1,
                        help="average the forecasts of this many seeds of the chosen model")
    group = parser.add_argument_group(
        "S4Forecaster", "constructor arguments of the model (unset: the estimator's default; "
        "true/false for switches, 0 batches per epoch for all windows)")
    defaults = S4Forecaster().get_params()
    for name, parse in FORECASTER_OPTIONS.items():
        group.add_argument("--" + name.replace("_", "-"), dest=name, type=parse, metavar="V",
                           help=f"S4Forecaster default: {defaults[name]}")
    group.add_argument("--random-state", type=int, default=0,
                       help="seed of the first model; ensemble members take the next ones")


def forecaster_params(args: argparse.Namespace) -> dict:
    """The S4Forecaster arguments the options set (the others keep the estimator's defaults)."""
    params = {name: getattr(args, name) for name in FORECASTER_OPTIONS
              if getattr(args, name) is not None}
    return {**params, "random_state": args.random_state}


def horizons_and_contexts(args: argparse.Namespace, name: str) -> list[tuple[int, int]]:
    """(context length, horizon) pairs of a dataset: `--horizons` (default: the published
    ones) with one `--seq-len` for all or one per horizon (default 336; ILI 36)."""
    horizons = args.horizons or default_horizons(name)
    seq_lens = args.seq_len or [default_seq_len(name)]
    if len(seq_lens) == 1:
        seq_lens = seq_lens * len(horizons)
    if len(seq_lens) != len(horizons):
        raise ValueError(
            f"--seq-len got {len(seq_lens)} values for {len(horizons)} horizons; give one "
            f"context length, or one per horizon."
        )
    return list(zip(seq_lens, horizons))


def _choice(search: dict[str, list], tune: int) -> str:
    """How each cell's model was chosen, for the report."""
    if tune:
        return f"{tune} Optuna trials (TPE, median pruning) over {search or 'the bench space'}"
    return f"every combination of {search}" if search else "nothing (one configuration)"


def run(args: argparse.Namespace) -> str:
    """Run the benchmark the parsed arguments describe; write the tables and return the report."""
    if args.threads:
        torch.set_num_threads(args.threads)
    params = forecaster_params(args)
    search = parse_search(args.search)
    if args.ensemble < 1:
        raise ValueError(f"--ensemble must be at least 1, got {args.ensemble}.")
    if args.tune < 0:
        raise ValueError(f"--tune must be a number of trials (0: no study), got {args.tune}.")
    if args.val_stride < 1:
        raise ValueError(f"--val-stride must be a positive number of windows, got {args.val_stride}.")
    # Every configuration the run will train is checked now, not after hours of earlier cells.
    for overrides in candidates(search):
        settings = {k: v for k, v in {**params, **overrides}.items() if k != "seq_len"}
        check_params(S4Forecaster(**settings))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    records = []
    started = time.perf_counter()
    for dataset in args.dataset:
        name = get_dataset(dataset).name
        cell_sizes = horizons_and_contexts(args, name)
        for features in args.features:
            data = load_protocol(name, features, args.data_dir)
            cells = [run_cell(data, features, seq_len, horizon, params, not args.no_baseline,
                              search, args.ensemble, args.tune, args.val_stride)
                     for seq_len, horizon in cell_sizes]
            stem = out / f"informer_{name}_{features}"
            pd.DataFrame(cells).to_csv(stem.with_suffix(".csv"), index=False)
            stem.with_suffix(".md").write_text(markdown_table(cells) + "\n")
            records += cells
    total = time.perf_counter() - started
    command = shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])
    report = "\n\n".join([
        f"Command: `{command}`", f"Machine: {machine_summary()}",
        f"S4Forecaster arguments (others at their defaults): {params}",
        "Linear baseline: " + ("none" if args.no_baseline else
                               "ridge least squares, normalisation chosen on validation"),
        (f"Chosen on validation (every {args.val_stride} window(s) apart): {_choice(search, args.tune)}; "
         f"ensemble of {args.ensemble}"),
        markdown_table(records), f"Total wall time: {total:.0f} s",
    ])
    run_name = "-".join(get_dataset(d).name for d in args.dataset) + "_" + "-".join(args.features)
    (out / f"informer_{run_name}_summary.md").write_text(report + "\n")
    if args.json:
        write_json(args.json, records)
    return report
