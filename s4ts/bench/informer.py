"""The Informer long-horizon forecasting protocol: splits, scaling, metrics and the result tables."""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import logging
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, fields, replace
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.preprocessing import StandardScaler
from torch import nn

from s4ts.bench.baselines import LinearForecaster
from s4ts.bench.models import (
    NORMS,
    Ensemble,
    LinearPath,
    S4Informer,
    TrainConfig,
    Windows,
    evaluate,
    fit_s4,
)
from s4ts.data.windows import calendar_features
from s4ts.datasets import DATASETS, get_dataset, load_informer
from s4ts.datasets.informer import InformerDataset

logger = logging.getLogger(__name__)

FEATURES = ("S", "M")
MODES = ("diag", "dplr")  # S4D (Vandermonde) or S4 (DPLR, Cauchy + Woodbury)
_MONTH_HOURS = 30 * 24  # the Informer code counts a month as 30 days
_STEPS_PER_HOUR = {"ett-hour": 1, "ett-minute": 4}


def default_horizons(name: str) -> list[int]:
    """The horizons the published tables use for a dataset."""
    spec = get_dataset(name)
    if spec.split == "ett-hour":
        return [24, 48, 168, 336, 720]
    if spec.split == "ett-minute":
        return [24, 48, 96, 288, 672]
    return [24, 36, 48, 60] if spec.name == "ILI" else [96, 192, 336, 720]


def default_seq_len(name: str) -> int:
    """A context length that fits the dataset's test split (ILI is only ~1000 weeks long)."""
    return 36 if get_dataset(name).name == "ILI" else 336


def split_borders(spec: InformerDataset, n_rows: int, seq_len: int) -> list[tuple[int, int]]:
    """Row ranges [start, end) of train, validation and test; later splits reach seq_len back."""
    if spec.split in _STEPS_PER_HOUR:
        month = _MONTH_HOURS * _STEPS_PER_HOUR[spec.split]
        ends = [12 * month, 16 * month, 20 * month]
        if n_rows < ends[-1]:
            raise ValueError(
                f"{spec.filename} has {n_rows} rows; the ETT protocol needs {ends[-1]} "
                f"(20 months). Use the complete file from {spec.url}."
            )
    else:
        n_train, n_test = int(n_rows * 0.7), int(n_rows * 0.2)
        ends = [n_train, n_rows - n_test, n_rows]
    if seq_len >= ends[0]:
        raise ValueError(f"seq_len={seq_len} must be shorter than the train split ({ends[0]}).")
    # Validation and test windows take their context from the split before (Informer's code).
    return [(0, ends[0]), (ends[0] - seq_len, ends[1]), (ends[1] - seq_len, ends[2])]


def load_splits(
    name: str, features: str, seq_len: int, data_dir: str | os.PathLike | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """Train, validation and test arrays (T, C) standardised with train-split statistics,
    their calendar features (T, 6) (time of day, week and year as sin/cos), and the columns."""
    if features not in FEATURES:
        raise ValueError(f"features must be 'S' (target only) or 'M' (all), got {features!r}.")
    spec = get_dataset(name)
    frame = load_informer(name, data_dir=data_dir)
    columns = [spec.target] if features == "S" else [c for c in frame.columns if c != "date"]
    values = frame[columns].to_numpy(dtype=np.float64)  # (T, C)
    borders = split_borders(spec, len(values), seq_len)
    scaler = StandardScaler().fit(values[borders[0][0] : borders[0][1]])
    scaled = scaler.transform(values).astype(np.float32)  # (T, C)
    # The Informer pipeline gives every model the timestamps' calendar (its "timeF" marks).
    calendar = calendar_features(pd.DatetimeIndex(frame["date"])).astype(np.float32)  # (T, 6)
    return ([scaled[start:end] for start, end in borders],
            [calendar[start:end] for start, end in borders], columns)


# load(seq_len, horizon) -> train, validation and test windows.
SplitLoader = Callable[[int, int], list[Windows]]


# Columns of calendar_features used by each `calendar` setting: (day, week, year) x (sin, cos).
CALENDAR_MARKS = {"none": 0, "week": 4, "year": 6}


def split_loader(
    name: str, features: str, data_dir: str | os.PathLike | None = None,
) -> SplitLoader:
    """`load(seq_len, horizon)` -> train/validation/test `Windows`; the CSV is read once per
    context length."""

    @functools.cache
    def arrays(seq_len: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        values, calendar, _ = load_splits(name, features, seq_len, data_dir=data_dir)
        return values, calendar

    def load(seq_len: int, horizon: int) -> list[Windows]:
        values, calendar = arrays(seq_len)
        return [Windows(v, seq_len, horizon, marks=m) for v, m in zip(values, calendar)]

    return load


def load_published() -> pd.DataFrame:
    """The published MSE/MAE values (S4 paper, Informer paper) shipped with s4ts."""
    with resources.files("s4ts.bench").joinpath("published.csv").open() as f:
        return pd.read_csv(f)


def published_value(table: pd.DataFrame, dataset: str, features: str, horizon: int,
                    model: str) -> tuple[float | None, float | None]:
    """Published (MSE, MAE) of one model, or (None, None) where the repo has no number."""
    row = table[
        (table.dataset == dataset) & (table.features == features)
        & (table.horizon == horizon) & (table.model == model)
    ]
    if row.empty:
        return None, None
    return float(row.mse.iloc[0]), float(row.mae.iloc[0])


@dataclass
class S4Config:
    """Architecture of the S4 model in the benchmark."""

    d_model: int = 32
    n_layers: int = 2
    d_state: int = 64
    mode: str = "diag"
    dropout: float = 0.1
    norm: str = "last"
    bidirectional: bool = False
    channel_independent: bool = True
    ssm_lr: float = 1e-3
    # Calendar features of every step's timestamp as extra inputs: none, time of day and day
    # of week ("week"), or those and the day of year ("year").
    calendar: str = "none"
    # A linear context -> horizon path beside S4 (S4 then models what a linear forecast misses).
    linear: bool = False


def _converter(default: object):
    """Parse a command-line value into the type of a config field's default."""
    if isinstance(default, bool):
        return lambda text: {"true": True, "false": False}[text.lower()]
    return type(default)


def _one_of(text: str, allowed: Collection[str]) -> str:
    """`text` if it is one of `allowed`, else ValueError."""
    if text not in allowed:
        raise ValueError(f"expected one of {list(allowed)}")
    return text


# Settings `--search` may vary: the context length and every model and training field but seed.
SEARCHABLE = {
    "seq_len": int,
    **{f.name: _converter(f.default) for f in fields(S4Config)},
    **{f.name: _converter(f.default) for f in fields(TrainConfig) if f.name != "seed"},
    "calendar": lambda text: _one_of(text, CALENDAR_MARKS),
    "norm": lambda text: _one_of(text, NORMS),
    "mode": lambda text: _one_of(text, MODES),
    # Window caps: 0 means no cap (None), as on the command line.
    "max_train_windows": lambda text: int(text) or None,
    "max_val_windows": lambda text: int(text) or None,
}


def parse_search(items: list[str] | None) -> dict[str, list]:
    """`["seq_len=96,336", "dropout=0.1,0.3"]` -> `{"seq_len": [96, 336], "dropout": [0.1, 0.3]}`."""
    grid: dict[str, list] = {}
    for item in items or []:
        key, sep, values = item.partition("=")
        if not sep or not values or key not in SEARCHABLE:
            raise ValueError(
                f"--search takes KEY=V1,V2,... with KEY one of {sorted(SEARCHABLE)}; got {item!r}."
            )
        try:
            grid[key] = [SEARCHABLE[key](v) for v in values.split(",")]
        except (KeyError, ValueError) as err:
            raise ValueError(f"--search {item!r}: cannot read a value of {key} ({err}).") from err
    return grid


def candidates(grid: dict[str, list]) -> list[dict]:
    """Every combination of the grid's values (one empty dict when there is nothing to search)."""
    return [dict(zip(grid, values)) for values in itertools.product(*grid.values())]


@dataclass
class Trial:
    """One trained configuration and its score on every validation window."""

    overrides: dict
    seq_len: int
    model: nn.Module
    val_mse: float
    info: dict


def train_s4(load: SplitLoader, seq_len: int, horizon: int,
             model_config: S4Config, train_config: TrainConfig, overrides: dict) -> Trial:
    """Train our model with `overrides` applied to the configs; score it on validation."""
    seq_len = overrides.get("seq_len", seq_len)
    model_config = replace(model_config, **{k: v for k, v in overrides.items()
                                            if k in S4Config.__dataclass_fields__})
    train_config = replace(train_config, **{k: v for k, v in overrides.items()
                                            if k in TrainConfig.__dataclass_fields__})
    train, val, _ = load(seq_len, horizon)
    torch.manual_seed(train_config.seed)
    settings = asdict(model_config)
    n_marks = CALENDAR_MARKS[settings.pop("calendar")]
    linear_context = seq_len if settings.pop("linear") else 0
    model = S4Informer(train.data.shape[1], horizon, n_marks=n_marks, linear_context=linear_context,
                       **settings)
    info = fit_s4(model, train, val, train_config)
    val_mse, _ = evaluate(model, val)
    return Trial(overrides, seq_len, model, val_mse, info)


def _fit_linear(load: SplitLoader, seq_len: int, horizon: int, norm: str) -> Trial:
    """Fit the linear baseline at one context length and normalisation; score it on validation."""
    train, val, _ = load(seq_len, horizon)
    model = LinearForecaster(seq_len, horizon, norm=norm).fit(train)
    val_mse, _ = evaluate(model, val)
    return Trial({"seq_len": seq_len, "norm": norm}, seq_len, model, val_mse, {})


def fit_linear_baseline(load: SplitLoader, seq_lens: list[int], horizon: int) -> Trial:
    """The linear baseline with the context length and normalisation that score best on
    validation."""
    return min((_fit_linear(load, n, horizon, norm) for n in seq_lens for norm in NORMS),
               key=lambda t: t.val_mse)


def run_cell(
    load: SplitLoader, dataset: str, features: str, seq_len: int,
    horizon: int, model_config: S4Config, train_config: TrainConfig,
    baseline: bool = True, search: dict[str, list] | None = None, ensemble: int = 1,
) -> dict:
    """Train and test our model (and, with `baseline`, the linear baseline).

    `load(seq_len, horizon)` gives the train/validation/test windows. Every configuration of `search`
    is trained once and scored on all validation windows; the best one is retrained with
    `ensemble - 1` more seeds and the mean forecast is tested. Test data never take part in a
    choice. The baseline is chosen on validation too: its normalisation (none, last, mean)
    and the same context lengths (the `seq_len` values of `search`), so a longer context
    does not favour our model alone.
    """
    search = search or {}
    record: dict = {"dataset": dataset, "features": features, "horizon": horizon}
    # CPU seconds next to wall seconds: on a shared machine the wall time overstates the cost.
    wall, cpu = time.perf_counter(), time.process_time()
    trials = [train_s4(load, seq_len, horizon, model_config, train_config, overrides)
              for overrides in candidates(search)]
    best = min(trials, key=lambda t: t.val_mse)
    members = [best.model] + [
        train_s4(load, seq_len, horizon, model_config,
                 replace(train_config, seed=train_config.seed + k), best.overrides).model
        for k in range(1, ensemble)
    ]
    model = Ensemble(members) if ensemble > 1 else best.model
    _, val, test = load(best.seq_len, horizon)
    record["seq_len"], record["test_windows"] = best.seq_len, test.count
    record["ours_mse"], record["ours_mae"] = evaluate(model, test)
    record["ours_val_mse"] = evaluate(model, val)[0]
    if best.model.linear is not None:
        # The same models without S4: how much of the forecast the linear path carries.
        record["ours_linear_path_mse"], record["ours_linear_path_mae"] = evaluate(
            Ensemble([LinearPath(member) for member in members]), test)
    record["ours_seconds"] = time.perf_counter() - wall
    record["ours_cpu_seconds"] = time.process_time() - cpu
    record["ours_epochs"], record["ours_best_epoch"] = best.info["epochs_run"], best.info["best_epoch"]
    record["selected"] = best.overrides
    record["ensemble"] = ensemble
    if len(trials) > 1:
        record["search"] = [{**t.overrides, "val_mse": t.val_mse} for t in trials]
    if baseline:
        wall = time.perf_counter()
        linear = fit_linear_baseline(load, search.get("seq_len", [seq_len]), horizon)
        test = load(linear.seq_len, horizon)[2]
        record["linear_mse"], record["linear_mae"] = evaluate(linear.model, test)
        record["linear_seq_len"], record["linear_norm"] = linear.seq_len, linear.overrides["norm"]
        record["linear_seconds"] = time.perf_counter() - wall
    published = load_published()
    for model_name, key in (("S4", "s4_paper"), ("Informer", "informer")):
        mse, mae = published_value(published, dataset, features, horizon, model_name)
        record[f"{key}_mse"], record[f"{key}_mae"] = mse, mae
    logger.info("%s %s H=%d: %s", dataset, features, horizon, record)
    return record


def _fmt(value: float | None) -> str:
    """Three decimals, or a dash where there is no value."""
    return "-" if value is None or pd.isna(value) else f"{value:.3f}"


def markdown_table(records: list[dict]) -> str:
    """A Markdown table: per horizon, MSE and MAE of ours, S4 paper, Informer, linear baseline."""
    models = [("ours", "ours"), ("S4 paper", "s4_paper"), ("Informer", "informer"),
              ("linear", "linear")]
    scores = [f"{m} {metric}" for metric in ("MSE", "MAE") for m, _ in models]
    head = ["dataset", "feat", "H", "context", *scores, "ours wall s", "ours CPU s",
            "linear wall s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in records:
        cells = [r["dataset"], r["features"], str(r["horizon"]), str(r["seq_len"])]
        for metric in ("mse", "mae"):
            values = {key: r.get(f"{key}_{metric}") for _, key in models}
            best = min((v for v in values.values() if v is not None), default=None)
            cells += [f"**{_fmt(v)}**" if v is not None and v == best else _fmt(v)
                      for v in values.values()]
        cells += [f"{r[key]:.0f}" if key in r else "-"
                  for key in ("ours_seconds", "ours_cpu_seconds", "linear_seconds")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine_summary() -> str:
    """One line naming the machine and software a result was measured on."""
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
            f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
            f"Python {platform.python_version()}, {platform.system()}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `s4ts bench informer`."""
    s4, train = S4Config(), TrainConfig()
    parser.add_argument("--dataset", nargs="+", default=["ETTh1"], choices=list(DATASETS),
                        help="benchmark dataset(s)")
    parser.add_argument("--features", nargs="+", default=["S"], choices=FEATURES,
                        help="S: forecast the target OT alone; M: all columns")
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
        "--search", nargs="+", metavar="KEY=V1,V2",
        help="per horizon, train every combination (e.g. seq_len=96,336,720 dropout=0.1,0.3) "
             "and keep the one with the lowest validation MSE; seq_len also applies to the "
             f"baseline. Keys: {', '.join(SEARCHABLE)}",
    )
    parser.add_argument("--ensemble", type=int, default=1,
                        help="average the forecasts of this many seeds of the chosen model")
    group = parser.add_argument_group("S4 model")
    group.add_argument("--d-model", type=int, default=s4.d_model)
    group.add_argument("--n-layers", type=int, default=s4.n_layers)
    group.add_argument("--d-state", type=int, default=s4.d_state)
    group.add_argument("--mode", default=s4.mode, choices=MODES)
    group.add_argument("--dropout", type=float, default=s4.dropout)
    group.add_argument("--norm", default=s4.norm, choices=NORMS,
                       help="per-window normalisation of the context")
    group.add_argument("--bidirectional", action="store_true")
    group.add_argument("--calendar", default=s4.calendar, choices=list(CALENDAR_MARKS),
                       help="calendar inputs for every context and horizon step (sin/cos): "
                            "none, time of day and day of week, or those and day of year "
                            "(with under two years of training data every day of the year "
                            "is seen once; Prophet turns yearly seasonality off there)")
    group.add_argument("--linear", action="store_true",
                       help="add a linear context -> horizon path beside S4")
    group.add_argument("--joint", action="store_true",
                       help="M: one model over all channels instead of channel-independent")
    group.add_argument("--ssm-lr", type=float, default=s4.ssm_lr)
    group = parser.add_argument_group("training (both models)")
    group.add_argument("--epochs", type=int, default=train.epochs)
    group.add_argument("--batch-size", type=int, default=train.batch_size,
                       help="windows per step; channel-independent M runs channels x as many "
                            "sequences, so lower it there to keep enough steps per epoch")
    group.add_argument("--lr", type=float, default=train.lr)
    group.add_argument("--weight-decay", type=float, default=train.weight_decay)
    group.add_argument("--patience", type=int, default=train.patience)
    group.add_argument("--max-train-windows", type=int, default=train.max_train_windows,
                       help="training windows drawn per epoch (0: all)")
    group.add_argument("--max-val-windows", type=int, default=train.max_val_windows,
                       help="evenly spaced validation windows scored per epoch (0: all)")
    group.add_argument("--seed", type=int, default=train.seed)


def configs_from_args(args: argparse.Namespace) -> tuple[S4Config, TrainConfig]:
    """The model and training configurations that the options of `add_arguments` describe."""
    model_config = S4Config(
        d_model=args.d_model, n_layers=args.n_layers, d_state=args.d_state, mode=args.mode,
        dropout=args.dropout, norm=args.norm, bidirectional=args.bidirectional,
        channel_independent=not args.joint, ssm_lr=args.ssm_lr, calendar=args.calendar,
        linear=args.linear,
    )
    train_config = TrainConfig(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        weight_decay=args.weight_decay, patience=args.patience,
        max_train_windows=args.max_train_windows or None,
        max_val_windows=args.max_val_windows or None, seed=args.seed,
    )
    return model_config, train_config


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


def run(args: argparse.Namespace) -> str:
    """Run the benchmark the parsed arguments describe; write the tables and return the report."""
    if args.threads:
        torch.set_num_threads(args.threads)
    model_config, train_config = configs_from_args(args)
    search = parse_search(args.search)
    if args.ensemble < 1:
        raise ValueError(f"--ensemble must be at least 1, got {args.ensemble}.")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    records = []
    started = time.perf_counter()
    for dataset in args.dataset:
        name = get_dataset(dataset).name
        cell_sizes = horizons_and_contexts(args, name)
        for features in args.features:
            cells = []
            load = split_loader(name, features, args.data_dir)
            for seq_len, horizon in cell_sizes:
                cells.append(run_cell(load, name, features, seq_len, horizon, model_config,
                                      train_config, not args.no_baseline, search, args.ensemble))
            stem = out / f"informer_{name}_{features}"
            pd.DataFrame(cells).to_csv(stem.with_suffix(".csv"), index=False)
            stem.with_suffix(".md").write_text(markdown_table(cells) + "\n")
            records += cells
    total = time.perf_counter() - started
    command = shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])
    report = "\n\n".join([
        f"Command: `{command}`", f"Machine: {machine_summary()}",
        f"S4 model: {asdict(model_config)}", f"Training: {asdict(train_config)}",
        "Linear baseline: " + ("none" if args.no_baseline else
                               "ridge least squares, normalisation chosen on validation"),
        f"Searched on validation: {search or 'nothing'}; ensemble of {args.ensemble}",
        markdown_table(records), f"Total wall time: {total:.0f} s",
    ])
    run_name = "-".join(get_dataset(d).name for d in args.dataset) + "_" + "-".join(args.features)
    (out / f"informer_{run_name}_summary.md").write_text(report + "\n")
    if args.json:
        write_json(args.json, records)
    return report


def write_json(path: str | os.PathLike, records: list[dict]) -> None:
    """Write result records as a JSON list, creating the folder if needed."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(records, indent=2) + "\n")
