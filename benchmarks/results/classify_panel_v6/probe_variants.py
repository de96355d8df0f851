"""Issue 18 probe: S4Classifier settings compared by the same stratified 3-fold CV inside the
panel problems' TRAINING splits as probe_cv.py (test splits never read). Each --config
NAME:key=value,... is an S4Classifier with those arguments (random_state=0); "defaults" (no
arguments) runs first unless --no-defaults. One JSON line per (problem, fold, config) goes to OUT, with the held-out
series' ensemble probabilities at the fitted temperature and at temperature 1.

    .venv/bin/python benchmarks/results/classify_panel_v6/probe_variants.py OUT.jsonl \
        --problems ArrowHead --config noaug:augment=False --config drop3:dropout=0.3
    .venv/bin/python benchmarks/results/classify_panel_v6/probe_variants.py OUT.jsonl --summary
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks/: the panel's helpers

import numpy as np
from classify_panel import log_loss, s4_settings
from probe_cv import PANEL, member_log_probs
from sklearn.model_selection import StratifiedKFold

from s4ts.classification import S4Classifier


def config(text: str) -> tuple[str, dict]:
    """NAME:key=value,key=value -> (NAME, S4Classifier arguments)."""
    name, _, body = text.partition(":")
    try:
        return name, s4_settings(body, f"--config {name}")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def summary(path: str) -> None:
    """Per problem and config, folds pooled: accuracy and mean log-loss (fitted T; T = 1)."""
    pooled: dict = {}  # (problem, config) -> the folds' records
    for line in Path(path).read_text().splitlines():
        r = json.loads(line)
        pooled.setdefault((r["problem"], r["config"]), []).append(r)
    print("| problem | config | folds | accuracy | log-loss | at T = 1 |\n|---|---|---|---|---|---|")
    for (problem, label), records in pooled.items():
        classes = np.array(records[0]["classes"])
        y = np.concatenate([r["y_held"] for r in records])
        proba, proba_t1 = (np.concatenate([r[key] for r in records]) for key in ("proba", "proba_t1"))
        accuracy = np.mean(classes[proba.argmax(1)] == y)
        print(f"| {problem} | {label} | {len(records)} | {100 * accuracy:.2f} | "
              f"{log_loss(proba, y, classes):.3f} | {log_loss(proba_t1, y, classes):.3f} |")


def main() -> None:
    from aeon.datasets import load_classification

    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--problems", nargs="+", default=list(PANEL))
    parser.add_argument("--config", action="append", default=[], type=config)
    parser.add_argument("--no-defaults", action="store_true", help="skip the defaults' runs")
    parser.add_argument("--summary", action="store_true", help="summarise OUT instead of running")
    args = parser.parse_args()
    if args.summary:
        return summary(args.out)
    configs = ([] if args.no_defaults else [("defaults", {})]) + args.config
    for name in args.problems:
        X, y = load_classification(name, split="train")
        X, y = list(X), np.asarray(y)
        folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(np.zeros(len(y)), y))
        for label, settings in configs:
            for fold, (train, held) in enumerate(folds):
                start = time.perf_counter()
                est = S4Classifier(random_state=0, **settings).fit([X[i] for i in train], y[train])
                fit_s = time.perf_counter() - start
                X_held, y_held = [X[i] for i in held], y[held]
                members = np.exp(member_log_probs(est, X_held))  # (M, n, classes), temperature 1
                record = {"problem": name, "config": label, "settings": repr(settings), "fold": fold,
                          "classes": [str(c) for c in est.classes_], "y_held": [str(v) for v in y_held],
                          "temperature": est.temperature_, "fit_s": round(fit_s, 1),
                          "proba": est.predict_proba(X_held).tolist(), "proba_t1": members.mean(0).tolist()}
                with open(args.out, "a") as fh:
                    fh.write(json.dumps(record) + "\n")
                accuracy = float(np.mean(est.predict(X_held) == y_held))
                print(f"{name} {label} fold {fold}: {fit_s:.0f} s, accuracy {accuracy:.3f}", flush=True)


if __name__ == "__main__":
    main()
