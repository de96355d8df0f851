"""Pictures of the recorded benchmark results, for the documentation site.

Reads the JSON files that the benchmark scripts wrote into benchmarks/results/ (nothing is
re-run or typed in by hand) and draws one PNG per benchmark into --out (docs/figures by
default, where docs/benchmarks.md shows them; `make figures` runs this script):

- bench_peers.png: MASE relative to seasonal naive per dataset, S4Forecaster's defaults
  beside statsforecast and NeuralForecast (benchmarks/peers.py);
- bench_classify.png: test accuracy per problem, S4Classifier beside the ROCKET family
  (benchmarks/classify_panel.py);
- bench_scaling.png: predict time against history length and series count, fit time of
  one epoch against series count (benchmarks/scaling.py);
- bench_informer.png: test MSE per horizon on the Informer protocol, S4Forecaster tuned
  with Optuna beside the S4 paper, Informer and the least-squares linear map
  (benchmarks/informer_etth.py --tune).

    python benchmarks/figures.py                  # all four into docs/figures
    python benchmarks/figures.py --out /tmp/fig   # elsewhere
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import ticker

RESULTS = Path(__file__).resolve().parent / "results"
SOURCES = {
    "bench_peers.png": RESULTS / "peers_v11" / "peers.json",
    "bench_classify.png": RESULTS / "classify_panel_v3" / "classify_panel.json",
    "bench_scaling.png": RESULTS / "scaling_v3" / "scaling.json",
    "bench_informer.png": RESULTS / "informer_v8_tune" / "informer_ETTh1_S.json",
}
OURS = "#d62728"  # s4ts in red in every picture; peers take the other tab10 colours
PEERS = [colour for index, colour in enumerate(plt.get_cmap("tab10").colors) if index != 3]


def colours(models: list[str], ours: str) -> dict[str, object]:
    """Red for `ours`, one of the other tab10 colours for each peer, in order."""
    peers = iter(PEERS)
    return {model: OURS if model == ours else next(peers) for model in models}


def peers_figure(record: dict) -> plt.Figure:
    """MASE / seasonal-naive MASE per dataset and model (log scale; below 1 beats naive)."""
    datasets = record["datasets"]
    models = [m for m in record["summary"] if m != "SeasonalNaive"]
    colour = colours(models, "S4Forecaster")
    figure, axes = plt.subplots(figsize=(10, 4.5))
    positions = np.arange(len(datasets))
    for index, model in enumerate(models):
        ratios = [d["models"].get(model, {}).get("rel_mase", np.nan) for d in datasets]
        ours = model == "S4Forecaster"
        axes.scatter(positions + (index - len(models) / 2) * 0.07, ratios, label=model, zorder=3 if ours else 2,
                     s=60 if ours else 22, color=colour[model], marker="D" if ours else "o")
    axes.axhline(1.0, color="black", linewidth=0.8, label="seasonal naive")
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(ticker.ScalarFormatter())
    axes.yaxis.set_minor_formatter(ticker.NullFormatter())
    axes.set_yticks([0.5, 0.7, 1.0, 1.5, 2.0, 4.0, 6.0])
    axes.set_xticks(positions, [f"{d['dataset']}\nh={d['horizon']}" for d in datasets], fontsize=8)
    axes.set_ylabel("MASE / seasonal-naive MASE")
    summary = record["summary"]["S4Forecaster"]
    axes.set_title(f"Test windows of 8 datasets, defaults (S4Forecaster: mean rank {summary['mean_rank']:.2f}, "
                   f"geometric mean {summary['geomean_rel_mase']:.2f})", fontsize=10)
    axes.legend(fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    return figure


def classify_figure(record: dict) -> plt.Figure:
    """Test accuracy per problem and model."""
    problems = list(record["results"])
    models = list(record["summary"]["mean_accuracy"])
    colour = colours(models, "S4Classifier")
    figure, axes = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(models)
    positions = np.arange(len(problems))
    for index, model in enumerate(models):
        accuracy = [record["results"][p].get(model, {}).get("accuracy", np.nan) for p in problems]
        mean = record["summary"]["mean_accuracy"][model]
        axes.bar(positions + (index - (len(models) - 1) / 2) * width, accuracy, width,
                 label=f"{model} (mean {mean:.3f})", color=colour[model])
    axes.set_xticks(positions, problems, fontsize=8)
    lowest = min(r.get("accuracy", 1.0) for p in problems for r in record["results"][p].values())
    axes.set_ylim(np.floor(lowest * 10 - 0.5) / 10, 1.0)
    axes.set_ylabel("test accuracy")
    axes.set_title("aeon's bundled problems, standard splits, defaults", fontsize=10)
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    return figure


def scaling_figure(record: dict) -> plt.Figure:
    """Log-log: predict time against history length; fit and predict time against series count."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    history = record["history"]
    left.loglog([r["steps"] for r in history], [r["predict_s"] for r in history], "o-", color=OURS)
    left.set_xlabel("history length (steps, one series)")
    left.set_ylabel("predict time (s)")
    left.set_title(f"slope {record['history_slope']:.2f}", fontsize=10)
    series = record["series"]
    counts = [r["series"] for r in series]
    right.loglog(counts, [r["predict_s"] for r in series], "o-", color=OURS, label="predict")
    right.loglog(counts, [r["fit_s"] for r in series], "s--", color="grey", label="fit, one epoch")
    right.set_xlabel("series (500 steps each)")
    right.set_ylabel("time (s)")
    right.set_title(f"predict slope {record['series_slope']:.2f}, fit slope {record['series_fit_slope']:.2f}",
                    fontsize=10)
    right.legend(fontsize=8)
    for axes in (left, right):
        axes.grid(alpha=0.3, which="both")
    figure.suptitle(f"S4Forecaster on 2 CPU cores; streaming update {record['update_ms']:.2f} ms per observation",
                    fontsize=10)
    figure.tight_layout()
    return figure


def informer_figure(rows: list[dict]) -> plt.Figure:
    """Test MSE per horizon: ours, the published S4 and Informer numbers, the linear map."""
    figure, axes = plt.subplots(figsize=(7, 4))
    horizons = [r["horizon"] for r in rows]
    for key, label, style in (("ours_mse", "S4Forecaster (Optuna on validation)", {"color": OURS, "marker": "D"}),
                              ("s4_paper_mse", "S4 paper", {"marker": "o"}),
                              ("informer_mse", "Informer paper", {"marker": "s"}),
                              ("linear_mse", "least-squares linear map", {"marker": "^", "linestyle": "--"})):
        axes.plot(horizons, [r.get(key, np.nan) for r in rows], label=label, **style)
    axes.set_xscale("log")
    axes.xaxis.set_minor_formatter(ticker.NullFormatter())
    axes.set_xticks(horizons, [str(h) for h in horizons])
    axes.set_xlabel("horizon (hours)")
    axes.set_ylabel("test MSE (normalised)")
    axes.set_title(f"Informer protocol, {rows[0]['dataset']} univariate (S)", fontsize=10)
    axes.legend(fontsize=8)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    return figure


DRAW = {"bench_peers.png": peers_figure, "bench_classify.png": classify_figure,
        "bench_scaling.png": scaling_figure, "bench_informer.png": informer_figure}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/figures"), help="folder for the PNGs")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, source in SOURCES.items():
        if not source.is_file():
            parser.error(f"{source} is missing: run the benchmark that writes it first")
        figure = DRAW[name](json.loads(source.read_text()))
        figure.savefig(args.out / name, dpi=110)
        plt.close(figure)
        print(f"{args.out / name}  <- {source.relative_to(RESULTS.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
