"""Retraining after new data arrive: S4Forecaster continued with `warm_start=True` beside a fit
from scratch and beside the stale model, on the forecasting panel's windows.

For each dataset of `s4ts.bench.panel.PANEL` (--split, test by default), the stale model
`S4Forecaster(horizon, futr_exog, random_state=seed)` (otherwise its defaults) is fit on each
series up to --new-horizons horizons before the first cutoff of the block; then those steps
arrive. Three models forecast the block's windows with `historical_forecasts`, each window
reading its context from the data (so all three see the new observations):
- stale: no retraining;
- warm: the stale model continued on the data up to the first cutoff, with warm_start=True,
  max_epochs=--warm-epochs and its learning rates times --warm-lr-scale (default 1; its
  other settings unchanged);
- cold: a new model with the stale one's settings fit on the same data, as a nightly refit
  from scratch would.
Reported per dataset: MASE, scaled CRPS and 80% coverage of each, the fit seconds of warm and
cold, and warm/cold ratios. Nothing is chosen here: --warm-epochs is stated. Last line JSON.

  S4TS_DATA=../shared/data/ETT .venv/bin/python benchmarks/warm_start.py --datasets vic_elec ETTh1 \\
      --out benchmarks/results/warm_start_v1
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from s4ts.bench import panel
from s4ts.bench.versions import versions
from s4ts.forecasting import S4Forecaster

MODELS = ("stale", "warm", "cold")


def scored(model: S4Forecaster, frame, spec: panel.PanelSpec) -> dict[str, float]:
    """Panel scores of `model`'s forecasts over the block's windows."""
    forecasts = model.historical_forecasts(frame, n_windows=spec.n_windows, step=spec.window_step)
    return panel.score_backtest(forecasts, frame, spec)


def timed_fit(model: S4Forecaster, data) -> float:
    start = time.perf_counter()
    model.fit(data)
    return time.perf_counter() - start


def run_dataset(spec: panel.PanelSpec, args: argparse.Namespace) -> dict:
    frame = panel.split_for(spec, panel.subsample(spec.loader(), args.max_series), args.split)
    new_steps = spec.horizon * args.new_horizons
    settings = {"horizon": spec.horizon, "futr_exog": list(spec.futr_exog), "random_state": args.seed}
    if args.quick:
        settings.update(d_model=8, n_layers=1, d_state=8, max_epochs=2, batches_per_epoch=2)
    model = S4Forecaster(**settings)
    seconds = {"stale": timed_fit(model, panel.history_before(frame, spec, new_steps))}
    scores = {"stale": scored(model, frame, spec)}
    model.set_params(warm_start=True, max_epochs=args.warm_epochs,
                     learning_rate=model.learning_rate * args.warm_lr_scale,
                     ssm_lr=model.ssm_lr * args.warm_lr_scale)
    seconds["warm"] = timed_fit(model, panel.history_before(frame, spec))
    scores["warm"] = scored(model, frame, spec)
    cold = S4Forecaster(**settings)
    seconds["cold"] = timed_fit(cold, panel.history_before(frame, spec))
    scores["cold"] = scored(cold, frame, spec)
    record = {"dataset": spec.name, "split": args.split, "new_steps": new_steps, "seconds": seconds,
              "epochs": {"stale_and_warm": model.n_epochs_, "cold": cold.n_epochs_}, "scores": scores}
    print(f"{spec.name}: MASE " + ", ".join(f"{m} {scores[m]['mase']:.3f}" for m in MODELS)
          + f"; fit s warm {seconds['warm']:.0f}, cold {seconds['cold']:.0f}", file=sys.stderr, flush=True)
    return record


def table(records: list[dict]) -> str:
    head = ["dataset", "new steps", *(f"MASE {m}" for m in MODELS), *(f"CRPS {m}" for m in MODELS),
            *(f"coverage {m}" for m in MODELS), "fit s warm / cold"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in records:
        s = r["scores"]
        cells = [r["dataset"], str(r["new_steps"]), *(f"{s[m]['mase']:.3f}" for m in MODELS),
                 *(f"{s[m]['scaled_crps']:.4f}" for m in MODELS), *(f"{s[m]['coverage_80']:.3f}" for m in MODELS),
                 f"{r['seconds']['warm']:.0f} / {r['seconds']['cold']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary(records: list[dict]) -> dict:
    def ratio(key: str, a: str, b: str) -> dict[str, float]:
        return {r["dataset"]: round(r["scores"][a][key] / r["scores"][b][key], 4) for r in records}

    return {
        "mase_warm_over_cold": ratio("mase", "warm", "cold"),
        "mase_stale_over_cold": ratio("mase", "stale", "cold"),
        "fit_seconds_warm_over_cold": {r["dataset"]: round(r["seconds"]["warm"] / r["seconds"]["cold"], 3)
                                       for r in records},
        "geomean_mase_warm_over_cold": float(np.exp(np.mean(
            [np.log(r["scores"]["warm"]["mase"] / r["scores"]["cold"]["mase"]) for r in records]))),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["vic_elec", "ETTh1"])
    parser.add_argument("--split", choices=panel.SPLITS, default="test")
    parser.add_argument("--new-horizons", type=int, default=14,
                        help="new data between the stale fit and the first cutoff, in horizons")
    parser.add_argument("--warm-epochs", type=int, default=4, help="max_epochs of the continuation")
    parser.add_argument("--warm-lr-scale", type=float, default=1.0,
                        help="the continuation's learning_rate and ssm_lr, as a multiple of the fit's")
    parser.add_argument("--max-series", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="smoke test: tiny networks and budgets")
    parser.add_argument("--out", type=Path, default=None, help="folder for warm_start.md and .json")
    args = parser.parse_args(argv)
    for name in ("new_horizons", "warm_epochs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if not args.warm_lr_scale > 0:
        parser.error(f"--warm-lr-scale must be positive, got {args.warm_lr_scale}")
    try:
        specs = [panel.get_spec(name) for name in args.datasets]
    except ValueError as err:
        parser.error(str(err))
    records = []
    for spec in specs:
        try:
            records.append(run_dataset(spec, args))
        except (FileNotFoundError, ImportError) as err:
            parser.error(f"{spec.name}: {err}")
    text = table(records)
    command = "benchmarks/warm_start.py " + " ".join(sys.argv[1:] if argv is None else argv)
    final = {"split": args.split, "seed": args.seed, "warm_epochs": args.warm_epochs,
             "warm_lr_scale": args.warm_lr_scale, **summary(records)}
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "warm_start.md").write_text(f"`{command}`\n\n{text}\n")
        record = {"command": command, "versions": versions(["torch", "numpy", "pandas", "s4ts"]),
                  **final, "datasets": records}
        (args.out / "warm_start.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(final))
    return 0


if __name__ == "__main__":
    sys.exit(main())
