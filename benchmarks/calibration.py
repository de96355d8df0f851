"""Quantile calibration of S4Forecaster on the forecasting panel: 80% coverage and scaled CRPS
of one fitted model's quantiles as trained, calibrated once on its validation windows, and
recalibrated at every forecast from the latest windows before it.

For every dataset of `s4ts.bench.panel.PANEL`, one `S4Forecaster(horizon, futr_exog,
random_state=seed, calibrate_quantiles=True)` (otherwise its defaults) is fit on each series up to
its first --split cutoff, as `cross_validation` does, and forecasts the split's windows
four times with `historical_forecasts`: "validation" with the widths fit set on its validation
windows (`calibrate_quantiles=True`), "trained" with the widths reset to 1
(`calibrate_quantiles=False`), "recent" with widths from the 8 windows before each cutoff
(`calibrate_quantiles="recent"`), on the values the network did not train on, and
"recent_all" the same on all their values (v4's "recent", `recalibration.SKIP_TRAINED`
off). The median is the same in all, so MASE is too.
--set overrides constructor arguments (e.g. calendar_features=false). Defaults are chosen on
--split validation and early_validation (the block before it), never on test; the last line
is JSON.

  S4TS_DATA=../shared/data/ETT .venv/bin/python benchmarks/calibration.py --out benchmarks/results/calibration_v3
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from s4ts.bench import panel
from s4ts.bench.overrides import parse_config
from s4ts.forecasting import S4Forecaster, recalibration


def run_dataset(spec: panel.PanelSpec, split: str, seed: int, max_series: int | None,
                overrides: dict, strides: list[float]) -> dict:
    frame = panel.split_for(spec, panel.subsample(spec.loader(), max_series), split)
    start = time.perf_counter()
    model = S4Forecaster(horizon=spec.horizon, futr_exog=list(spec.futr_exog), random_state=seed,
                         **{"calibrate_quantiles": True, **overrides})
    model.fit(panel.history_before(frame, spec))
    seconds = time.perf_counter() - start
    scores = {}
    widths, ones = list(model.head_.widths), [1.0] * len(model.head_.widths)
    variants = [("validation", True, widths, None, True), ("trained", False, ones, None, True)]
    variants += [("recent" if k == 0 else f"recent_stride{stride:g}", "recent", ones, stride, True)
                 for k, stride in enumerate(strides)]
    variants.append(("recent_all", "recent", ones, None, False))
    library = recalibration.WINDOW_STRIDE, recalibration.SKIP_TRAINED
    for name, setting, use, stride, skip_trained in variants:
        model.head_.widths = use
        model.set_params(calibrate_quantiles=setting)  # read at forecast time ("recent") only
        recalibration.WINDOW_STRIDE = library[0] if stride is None else stride
        recalibration.SKIP_TRAINED = skip_trained
        try:
            forecasts = model.historical_forecasts(frame, n_windows=spec.n_windows, step=spec.window_step)
        finally:
            recalibration.WINDOW_STRIDE, recalibration.SKIP_TRAINED = library
        scores[name] = panel.score_backtest(forecasts, frame, spec)
    print(f"{spec.name}: widths {np.round(widths, 3).tolist()}, coverage trained "
          f"{scores['trained']['coverage_80']:.3f}, validation {scores['validation']['coverage_80']:.3f}, "
          f"recent {scores['recent']['coverage_80']:.3f}, recent_all {scores['recent_all']['coverage_80']:.3f}",
          file=sys.stderr, flush=True)
    return {"dataset": spec.name, "split": split, "n_series": int(frame[panel.ID].nunique()),
            "widths": widths, "val_size": model.val_size_, "fit_seconds": seconds, **scores}


VARIANTS = ("trained", "validation", "recent", "recent_all")


def table(records: list[dict]) -> str:
    head = ["dataset", "validation widths (10/50/90%)",
            *(f"coverage 80% {v}" for v in VARIANTS), *(f"scaled CRPS {v}" for v in VARIANTS), "MASE", "fit s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in records:
        widths = " / ".join(f"{w:.2f}" for w in r["widths"])
        cover = " | ".join(f"{r[v]['coverage_80']:.3f}" for v in VARIANTS)
        crps = " | ".join(f"{r[v]['scaled_crps']:.4f}" for v in VARIANTS)
        lines.append(f"| {r['dataset']} | {widths} | {cover} | {crps} | {r['trained']['mase']:.3f} | "
                     f"{r['fit_seconds']:.0f} |")
    return "\n".join(lines)


def summary(records: list[dict]) -> dict:
    def inside(key):
        return sum(0.72 <= r[key]["coverage_80"] <= 0.88 for r in records)

    def geomean(key):
        return math.exp(np.mean([math.log(r[key]["scaled_crps"]) for r in records]))

    names = [k for k in records[0] if k in VARIANTS or k.startswith("recent_stride")]
    return {"coverage_in_range": {v: inside(v) for v in names},
            "mean_abs_coverage_error": {v: float(np.mean([abs(r[v]["coverage_80"] - 0.8) for r in records]))
                                        for v in names},
            "geomean_scaled_crps": {v: geomean(v) for v in names},
            "n_datasets": len(records)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(panel.PANEL))
    parser.add_argument("--split", choices=panel.SPLITS, default="validation")
    parser.add_argument("--max-series", type=int, default=None,
                        help="at most N series per dataset, evenly spaced over the sorted ids")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", default="", metavar="key=value,...",
                        help="S4Forecaster constructor overrides (e.g. calendar_features=false)")
    parser.add_argument("--recent-strides", type=float, nargs="+", default=[recalibration.WINDOW_STRIDE],
                        metavar="F", help="probe: 'recent' with origins F forecast lengths apart "
                        "(the first is reported as 'recent'; default the library's)")
    parser.add_argument("--out", type=Path, default=None, help="folder for calibration.md and .json")
    args = parser.parse_args(argv)
    if not all(0 < f <= 1 for f in args.recent_strides):
        parser.error(f"--recent-strides must be in (0, 1], got {args.recent_strides}")
    if args.max_series is not None and args.max_series < 1:
        parser.error(f"--max-series must be at least 1, got {args.max_series}")
    try:
        specs = [panel.get_spec(name) for name in args.datasets]
        _, overrides = parse_config("set:" + args.set, set(S4Forecaster().get_params()))
    except ValueError as err:
        parser.error(str(err))
    records = []
    for spec in specs:
        try:
            records.append(run_dataset(spec, args.split, args.seed, args.max_series, overrides,
                                       args.recent_strides))
        except (FileNotFoundError, ImportError) as err:
            parser.error(f"{spec.name}: {err}")
    text = table(records)
    final = {"split": args.split, "seed": args.seed, "set": overrides, "recent_strides": args.recent_strides,
             **summary(records)}
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "calibration.md").write_text(text + "\n")
        (args.out / "calibration.json").write_text(json.dumps({**final, "datasets": records}, indent=2) + "\n")
    print(json.dumps(final))
    return 0


if __name__ == "__main__":
    sys.exit(main())
