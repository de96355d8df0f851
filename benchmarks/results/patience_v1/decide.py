"""Patience v1's decision rule (README), applied to the two seeds' defaults.py records.

  .venv/bin/python benchmarks/results/patience_v1/decide.py
"""

import json
import math
from pathlib import Path

HERE = Path(__file__).parent
CANDIDATES = {"p3": 3, "p4": 4}  # smallest first
IN_RANGE = (0.72, 0.88)


def per_dataset(block: str, seeds: tuple[int, ...]) -> dict[str, dict[str, list[dict]]]:
    """dataset -> config -> the runs of every seed."""
    out: dict = {}
    for seed in seeds:  # a seed's datasets may be split over folders <block>_seed<seed>_<part>
        for path in sorted(HERE.glob(f"{block}_seed{seed}*/defaults_{block}.json")):
            for record in json.loads(path.read_text())["datasets"]:
                for name, result in record["configs"].items():
                    out.setdefault(record["dataset"], {}).setdefault(name, []).extend(result["seeds"])
    return out


def mean(runs: list[dict], key: str) -> float:
    return sum(r[key] for r in runs) / len(runs)


def compare(data: dict, candidate: str) -> dict:
    ratios = {d: mean(c[candidate], "mase") / mean(c["default"], "mase") for d, c in data.items()}
    in_range = {name: sum(IN_RANGE[0] <= mean(c[name], "coverage_80") <= IN_RANGE[1] for c in data.values())
                for name in ("default", candidate)}
    seconds = {name: sum(r["seconds"] for c in data.values() for r in c[name]) for name in ("default", candidate)}
    epochs = {name: sum(r["n_epochs"] for c in data.values() for r in c[name]) for name in ("default", candidate)}
    return {"ratios": ratios, "geomean": math.exp(sum(map(math.log, ratios.values())) / len(ratios)),
            "in_range": in_range, "seconds": seconds, "epochs": epochs}


def main() -> None:
    data = per_dataset("validation", (0, 1))
    print("| dataset | " + " | ".join(f"{n}: MASE / patience 5, epochs (5 -> {n})" for n in CANDIDATES) + " |")
    print("|---|" + "---|" * len(CANDIDATES))
    results = {name: compare(data, name) for name in CANDIDATES}
    for d, configs in data.items():
        cells = [f"{results[n]['ratios'][d]:.4f}, {sum(r['n_epochs'] for r in configs['default'])} -> "
                 f"{sum(r['n_epochs'] for r in configs[n])}" for n in CANDIDATES]
        print(f"| {d} | " + " | ".join(cells) + " |")
    chosen = None
    for name, r in results.items():
        checks = {
            "geomean <= 1.005": r["geomean"] <= 1.005,
            "no ratio > 1.03": max(r["ratios"].values()) <= 1.03,
            "coverage in range on as many": r["in_range"][name] >= r["in_range"]["default"],
            "seconds <= 0.9 x": r["seconds"][name] <= 0.9 * r["seconds"]["default"],
        }
        print(f"\n{name}: geomean {r['geomean']:.4f}, max ratio {max(r['ratios'].values()):.4f}, "
              f"in range {r['in_range'][name]} vs {r['in_range']['default']}, seconds "
              f"{r['seconds'][name]:.0f} vs {r['seconds']['default']:.0f} "
              f"({r['seconds'][name] / r['seconds']['default']:.3f}), epochs {r['epochs'][name]} vs "
              f"{r['epochs']['default']}: {checks}")
        if chosen is None and all(checks.values()):
            chosen = name
    print(f"\nvalidation block: {'adopt ' + chosen if chosen else 'keep patience 5'}")
    if chosen and any(HERE.glob("early_validation_seed0*")):
        r = compare(per_dataset("early_validation", (0,)), chosen)
        verdict = "adopt" if r["geomean"] <= 1.01 else "keep patience 5"
        print(f"early_validation seed 0, {chosen}: geomean {r['geomean']:.4f} "
              f"(ratios {', '.join(f'{d} {v:.4f}' for d, v in r['ratios'].items())}): {verdict}")


if __name__ == "__main__":
    main()
