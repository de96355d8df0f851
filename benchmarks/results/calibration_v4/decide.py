"""Calibration v4's decision rule (README) over the six runs: 3 seeds x 2 validation blocks.

  .venv/bin/python benchmarks/results/calibration_v4/decide.py
"""

import json
from pathlib import Path

HERE = Path(__file__).parent
RUNS = {"validation seed 0": HERE.parent / "calibration_v3/seed0",
        "validation seed 1": HERE.parent / "calibration_v3/seed1",
        "validation seed 2": HERE / "validation_seed2",
        **{f"early seed {s}": HERE / f"early_seed{s}" for s in (0, 1, 2)}}
SETTINGS = ("trained", "validation", "recent")  # validation: calibrate_quantiles=True


def main() -> None:
    runs = {name: json.loads((path / "calibration.json").read_text()) for name, path in RUNS.items()}
    print("| run | " + " | ".join(f"{s}: in range / error / CRPS" for s in SETTINGS) + " |")
    print("|---|" + "---|" * len(SETTINGS))
    for name, run in runs.items():
        print(f"| {name} | " + " | ".join(
            f"{run['coverage_in_range'][s]} / {run['mean_abs_coverage_error'][s]:.3f} / "
            f"{run['geomean_scaled_crps'][s]:.4f}" for s in SETTINGS) + " |")
    cells = {s: [r[s]["coverage_80"] for run in runs.values() for r in run["datasets"]] for s in SETTINGS}
    totals = {s: {"in_range": sum(0.72 <= c <= 0.88 for c in cells[s]),
                  "mean_error": sum(abs(c - 0.8) for c in cells[s]) / len(cells[s]),
                  "crps_ratio": sum(run["geomean_scaled_crps"][s] / run["geomean_scaled_crps"]["trained"]
                                    for run in runs.values()) / len(runs)}
              for s in SETTINGS}
    print(f"\n{len(cells['trained'])} cells")
    for s, t in totals.items():
        print(f"{s}: in range {t['in_range']}, mean |coverage - 0.8| {t['mean_error']:.4f}, "
              f"CRPS / trained {t['crps_ratio']:.4f}")
    base = totals["trained"]
    passing = [s for s in SETTINGS[1:] if totals[s]["in_range"] > base["in_range"]
               and totals[s]["mean_error"] < base["mean_error"] and totals[s]["crps_ratio"] < 1.02]
    chosen = min(passing, key=lambda s: totals[s]["mean_error"]) if passing else "trained"
    print(json.dumps({"passing": passing, "adopted": chosen, "totals": totals}))


if __name__ == "__main__":
    main()
