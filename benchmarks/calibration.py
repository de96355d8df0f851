"""Quantile calibration of S4Forecaster on the forecasting panel: 80% coverage and scaled CRPS
of the same fitted model with the calibrated quantile widths and with the trained ones.

For every dataset of `s4ts.bench.panel.PANEL`, one `S4Forecaster(horizon, futr_exog,
random_state=seed, calibrate_quantiles=True)` (otherwise its defaults) is fit on each series up to
its first --split cutoff, as `cross_validation` does, and forecasts the split's windows
twice with `historical_forecasts`: with the widths fit set on its validation windows, then
with the widths reset to 1 (what the default `calibrate_quantiles=False` gives: the median
is the same, so MASE is too). --set overrides constructor arguments (e.g. calendar_features=false, to
compare calendars on the same windows). Defaults are chosen on --split validation; the
last line is JSON.

  S4TS_DATA=../shared/data/ETT .venv/bin/python benchmarks/calibration.py --max-series 40 \\
      --out benchmarks/results/calibration_v1
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
from s4ts.forecasting import S4Forecaster


def run_dataset(spec: panel.PanelSpec, split: str, seed: int, max_series: int | None,
                overrides: dict) -> dict:
    frame = panel.split_for(spec, panel.subsample(spec.loader(), max_series), split)
    start = time.perf_counter()
    model = S4Forecaster(horizon=spec.horizon, futr_exog=list(spec.futr_exog), random_state=seed,
                         **{"calibrate_quantiles": True, **overrides})
    model.fit(panel.history_before(frame, spec))
    seconds = time.perf_counter() - start
    scores = {}
    widths = list(model.head_.widths)
    for name, use in (("calibrated", widths), ("trained", [1.0] * len(widths))):
        model.head_.widths = use
        forecasts = model.historical_forecasts(frame, n_windows=spec.n_windows, step=spec.window_step)
        scores[name] = panel.score_backtest(forecasts, frame, spec)
    print(f"{spec.name}: widths {np.round(widths, 3).tolist()}, coverage "
          f"{scores['trained']['coverage_80']:.3f} -> {scores['calibrated']['coverage_80']:.3f}",
          file=sys.stderr, flush=True)
    return {"dataset": spec.name, "split": split, "n_series": int(frame[panel.ID].nunique()),
            "widths": widths, "fit_seconds": seconds, **scores}


def table(records: list[dict]) -> str:
    head = ["dataset", "widths (10/50/90%)", "coverage 80% trained", "calibrated",
            "scaled CRPS trained", "calibrated", "MASE", "fit s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in records:
        t, c = r["trained"], r["calibrated"]
        widths = " / ".join(f"{w:.2f}" for w in r["widths"])
        lines.append(f"| {r['dataset']} | {widths} | {t['coverage_80']:.3f} | {c['coverage_80']:.3f} | "
                     f"{t['scaled_crps']:.4f} | {c['scaled_crps']:.4f} | {c['mase']:.3f} | "
                     f"{r['fit_seconds']:.0f} |")
    return "\n".join(lines)


def summary(records: list[dict]) -> dict:
    def inside(key):
        return sum(0.72 <= r[key]["coverage_80"] <= 0.88 for r in records)

    def geomean(key):
        return math.exp(np.mean([math.log(r[key]["scaled_crps"]) for r in records]))

    return {"coverage_in_range": {"trained": inside("trained"), "calibrated": inside("calibrated")},
            "mean_abs_coverage_error": {k: float(np.mean([abs(r[k]["coverage_80"] - 0.8) for r in records]))
                                        for k in ("trained", "calibrated")},
            "geomean_scaled_crps": {k: geomean(k) for k in ("trained", "calibrated")},
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
    parser.add_argument("--out", type=Path, default=None, help="folder for calibration.md and .json")
    args = parser.parse_args(argv)
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
            records.append(run_dataset(spec, args.split, args.seed, args.max_series, overrides))
        except (FileNotFoundError, ImportError) as err:
            parser.error(f"{spec.name}: {err}")
    text = table(records)
    final = {"split": args.split, "seed": args.seed, "set": overrides, **summary(records)}
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "calibration.md").write_text(text + "\n")
        (args.out / "calibration.json").write_text(json.dumps({**final, "datasets": records}, indent=2) + "\n")
    print(json.dumps(final))
    return 0


if __name__ == "__main__":
    sys.exit(main())
