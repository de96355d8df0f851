"""Weight averaging v1's rule (README): the best 3 epochs' mean weights against the best epoch's.

  .venv/bin/python benchmarks/results/average_v1/decide.py
"""

import json
import math
from pathlib import Path

HERE = Path(__file__).parent
BASELINE = HERE.parent / "patience_v1"  # its "p3" configuration: patience 3, the best epoch's weights


def runs(folder: Path, block: str, seed: int, config: str) -> dict[str, dict]:
    """dataset -> the record of one seed's run of `config` (folders <block>_seed<seed>*)."""
    out = {}
    for path in sorted(folder.glob(f"{block}_seed{seed}*/defaults_{block}.json")):
        for record in json.loads(path.read_text())["datasets"]:
            if config in record["configs"]:
                out[record["dataset"]] = record["configs"][config]["seeds"][0]
    return out


def geo(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def main() -> None:
    cells = []  # (dataset, run, averaged, best epoch)
    for block, seed in (("validation", 0), ("validation", 1), ("early_validation", 0)):
        base, averaged = runs(BASELINE, block, seed, "p3"), runs(HERE, block, seed, "default")
        for dataset, record in averaged.items():
            cells.append((dataset, f"{block} seed {seed}", record, base[dataset]))
    # (No coverage column: the baseline's quantiles were calibrated before calibration v6.)
    print("| dataset | run | MASE best epoch -> averaged (ratio) | epochs (best) |")
    print("|---|---|---|---|")
    for dataset, run, avg, base in cells:
        print(f"| {dataset} | {run} | {base['mase']:.4f} -> {avg['mase']:.4f} ({avg['mase'] / base['mase']:.4f}) | "
              f"{avg['n_epochs']} ({avg['best_epoch']}) |")
    overall = geo([a["mase"] / b["mase"] for _, _, a, b in cells])
    datasets = sorted({d for d, *_ in cells})
    per = {d: geo([a["mase"] / b["mase"] for name, _, a, b in cells if name == d]) for d in datasets}
    print(f"\n{len(cells)} runs; geometric mean MASE ratio {overall:.4f}")
    print("per dataset: " + ", ".join(f"{d} {r:.4f}" for d, r in per.items()))
    same_epochs = all(a["n_epochs"] == b["n_epochs"] for *_, a, b in cells)
    print(f"same epochs trained as the baseline in every run: {same_epochs}")
    adopt = overall <= 0.99 and max(per.values()) <= 1.03
    print(f"decision: {'AVERAGE_BEST_EPOCHS = 3' if adopt else 'keep the best epoch (remove the averaging)'}")


if __name__ == "__main__":
    main()
