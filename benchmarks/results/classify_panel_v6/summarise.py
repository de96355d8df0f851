"""Summarise probe_cv.py's records: per problem (folds pooled) and over the panel, the CV
accuracy and log-loss of 3 or 5 members with final or tail-averaged weights, beside
MiniRocket's accuracy on the same folds; then the decision of README.md's rule.

    .venv/bin/python benchmarks/results/classify_panel_v6/summarise.py benchmarks/results/classify_panel_v6/probe_cv.jsonl
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

VARIANTS = [(3, "final"), (5, "final"), (3, "tail"), (5, "tail")]


def ensemble(log_probs: np.ndarray, members: int, temperature: float) -> np.ndarray:
    """(n, classes) mean of the first `members` members' softmax(log_probs / temperature)."""
    z = log_probs[:members] / temperature
    z = np.exp(z - z.max(axis=2, keepdims=True))
    return (z / z.sum(axis=2, keepdims=True)).mean(axis=0)


def main() -> None:
    records = [json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines()]
    pooled = defaultdict(lambda: defaultdict(list))  # problem -> key -> per-series values
    for r in records:
        classes = np.array(r["classes"])
        truth = np.searchsorted(classes, np.array(r["y_held"]))
        for members, weights in VARIANTS:
            lp = np.array(r[weights])
            for t_name, t in (("T", r["temperature"]), ("T1", 1.0)):
                proba = ensemble(lp, members, t)
                key = (members, weights, t_name)
                pooled[r["problem"]][key + ("correct",)] += list(proba.argmax(1) == truth)
                pooled[r["problem"]][key + ("nll",)] += list(-np.log(np.clip(proba[np.arange(len(truth)), truth], 1e-12, None)))
        pooled[r["problem"]]["mini"] += [r["minirocket_accuracy"]] * len(truth)
        pooled[r["problem"]]["fit_s"] += [r["fit_s"]]
    header = "| problem | " + " | ".join(f"{m} {w}" for m, w in VARIANTS) + " | MiniRocket | fit s (5 members, per fold) |"
    print(header)
    print("|---" * (len(VARIANTS) + 3) + "|")
    panel = defaultdict(list)
    for problem, values in pooled.items():
        cells = []
        for m, w in VARIANTS:
            acc = 100 * np.mean(values[(m, w, "T", "correct")])
            nll = np.mean(values[(m, w, "T", "nll")])
            nll1 = np.mean(values[(m, w, "T1", "nll")])
            panel[(m, w, "acc")].append(acc)
            panel[(m, w, "nll")].append(nll)
            panel[(m, w, "nll1")].append(nll1)
            cells.append(f"{acc:.2f} ({nll:.3f}; T1 {nll1:.3f})")
        mini = 100 * np.mean(values["mini"])
        panel["mini"].append(mini)
        print(f"| {problem} | " + " | ".join(cells) + f" | {mini:.2f} | {', '.join(f'{s:.0f}' for s in values['fit_s'])} |")
    cells = [f"**{np.mean(panel[(m, w, 'acc')]):.2f}** ({np.mean(panel[(m, w, 'nll')]):.3f}; "
             f"T1 {np.mean(panel[(m, w, 'nll1')]):.3f})" for m, w in VARIANTS]
    print(f"| panel mean ({len(pooled)} problems) | " + " | ".join(cells) + f" | {np.mean(panel['mini']):.2f} | |")
    print("\n(accuracy %, folds pooled; in brackets the mean log-loss at each fold's fitted temperature and at temperature 1)")

    def passes(new, old) -> bool:
        return (np.mean(panel[new + ("acc",)]) >= np.mean(panel[old + ("acc",)]) + 0.3
                and np.mean(panel[new + ("nll",)]) <= np.mean(panel[old + ("nll",)]))

    size = 5 if passes((5, "final"), (3, "final")) else 3
    tail = passes((size, "tail"), (size, "final"))
    print(f"\ndecision: n_estimators={size}; tail averaging {'adopted' if tail else 'not adopted'}")


if __name__ == "__main__":
    main()
