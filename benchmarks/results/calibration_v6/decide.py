"""Apply calibration v6's rule (README.md) to validation.jsonl and early_validation.jsonl."""

from __future__ import annotations

import json
import math
from pathlib import Path

HERE = Path(__file__).parent
VARIANTS = ["per_level", "conformal", "central", "central_conformal", "blend", "blend_conformal"]
CONFORMAL = {"conformal", "central_conformal", "blend_conformal"}


def in_range(cov: float) -> bool:
    return 0.72 <= cov <= 0.88


def geo(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def main() -> None:
    rows = [json.loads(line) for name in ("validation", "early_validation")
            for line in (HERE / f"{name}.jsonl").read_text().splitlines()]
    datasets = sorted({r["dataset"] for r in rows})
    print(f"{len(rows)} cells; per dataset: in range / mean |coverage - 0.8| / coverage mean (min-max) / CRPS ratio")
    summary = {}
    for v in VARIANTS:
        per = {}
        for d in datasets:
            cells = [r for r in rows if r["dataset"] == d]
            cov = [r[v]["coverage_80"] for r in cells]
            per[d] = {"in_range": sum(map(in_range, cov)), "n": len(cells),
                      "error": sum(abs(c - 0.8) for c in cov) / len(cov), "mean": sum(cov) / len(cov),
                      "min": min(cov), "max": max(cov),
                      "crps": geo([r[v]["scaled_crps"] / r["per_level"]["scaled_crps"] for r in cells])}
        summary[v] = {"per": per, "error": sum(abs(r[v]["coverage_80"] - 0.8) for r in rows) / len(rows),
                      "crps": geo([r[v]["scaled_crps"] / r["per_level"]["scaled_crps"] for r in rows]),
                      "in_range": sum(in_range(r[v]["coverage_80"]) for r in rows)}
        print(f"\n{v}: {summary[v]['in_range']}/{len(rows)} in range, mean error {summary[v]['error']:.4f}, "
              f"CRPS ratio {summary[v]['crps']:.4f}")
        for d, p in per.items():
            print(f"  {d:12s} {p['in_range']}/{p['n']}  {p['error']:.3f}  {p['mean']:.3f} "
                  f"({p['min']:.3f}-{p['max']:.3f})  {p['crps']:.4f}")
    base = summary["per_level"]
    qualify = [v for v in VARIANTS[1:]
               if all(summary[v]["per"][d]["in_range"] >= base["per"][d]["in_range"] for d in datasets)
               and summary[v]["error"] < base["error"] and summary[v]["crps"] <= 1.0
               and all(summary[v]["per"][d]["crps"] <= 1.01 for d in datasets)]
    print(f"\nqualify: {qualify or 'none'}")
    if not qualify:
        print("decision: per_level stays")
        return
    best = min(qualify, key=lambda v: summary[v]["error"])
    close = [v for v in qualify if summary[v]["error"] - summary[best]["error"] <= 0.005]
    cheapest = min(close, key=lambda v: summary[v]["crps"])
    tied = [v for v in close if summary[v]["crps"] - summary[cheapest]["crps"] <= 0.002]
    simple = [v for v in tied if v not in CONFORMAL]
    print(f"lowest error {best}; within 0.005: {close}; lowest CRPS of those {cheapest}; "
          f"within 0.2%: {tied}\ndecision: {(simple or tied)[0]}")


if __name__ == "__main__":
    main()
