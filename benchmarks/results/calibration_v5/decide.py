"""Calibration v5's decision rule (README): "recent" on held-out values against v4's "recent_all".

  .venv/bin/python benchmarks/results/calibration_v5/decide.py
"""

import json
import math
from pathlib import Path

HERE = Path(__file__).parent
BLOCKS = ("validation", "early_validation")
SETTINGS = ("trained", "recent_all", "recent")


def load(name: str) -> dict:
    return json.loads((HERE / name / "calibration.json").read_text())


def main() -> None:
    others = {block: load(f"{block}_others_seed0") for block in BLOCKS}
    same = all(r["recent"] == r["recent_all"] for run in others.values() for r in run["datasets"])
    print(f"the five datasets with 8 held-out windows: recent == recent_all on both blocks: {same}")
    runs = {f"{block} seed {s}": load(f"{block}_seed{s}") for block in BLOCKS for s in range(5)}
    print("\n| run | " + " | ".join(f"{s}: in range / error / CRPS" for s in SETTINGS) + " |")
    print("|---|" + "---|" * len(SETTINGS))
    for name, run in runs.items():
        print(f"| {name} | " + " | ".join(
            f"{run['coverage_in_range'][s]} / {run['mean_abs_coverage_error'][s]:.3f} / "
            f"{run['geomean_scaled_crps'][s]:.4f}" for s in SETTINGS) + " |")
    print("\n| dataset | " + " | ".join(f"coverage {s} (mean over 10 runs; min-max)" for s in SETTINGS) + " |")
    print("|---|" + "---|" * len(SETTINGS))
    for dataset in ("us_gasoline", "aus_retail", "tourism"):
        cells = {s: [r[s]["coverage_80"] for run in runs.values() for r in run["datasets"]
                     if r["dataset"] == dataset] for s in SETTINGS}
        print(f"| {dataset} | " + " | ".join(
            f"{sum(c) / len(c):.3f} ({min(c):.3f}-{max(c):.3f})" for c in cells.values()) + " |")
    cells = {s: [r[s]["coverage_80"] for run in runs.values() for r in run["datasets"]] for s in SETTINGS}
    totals = {s: {"in_range": sum(0.72 <= c <= 0.88 for c in cells[s]),
                  "mean_error": sum(abs(c - 0.8) for c in cells[s]) / len(cells[s]),
                  "crps_ratio": sum(run["geomean_scaled_crps"][s] / run["geomean_scaled_crps"]["recent_all"]
                                    for run in runs.values()) / len(runs)}
              for s in SETTINGS}
    print(f"\n{len(cells['recent'])} cells")
    for s, t in totals.items():
        print(f"{s}: in range {t['in_range']}, mean |coverage - 0.8| {t['mean_error']:.4f}, "
              f"CRPS / recent_all {t['crps_ratio']:.4f}")
    new, old = totals["recent"], totals["recent_all"]
    adopted = (same and new["mean_error"] < old["mean_error"] and new["in_range"] >= old["in_range"]
               and new["crps_ratio"] < 1.01)
    print(json.dumps({"identical_elsewhere": same, "adopted": adopted,
                      "totals": {s: {k: (round(v, 4) if isinstance(v, float) and math.isfinite(v) else v)
                                     for k, v in t.items()} for s, t in totals.items()}}))


if __name__ == "__main__":
    main()
