"""Issue 18 probe: S4Classifier settings compared by the same stratified 3-fold CV inside the
panel problems' TRAINING splits as probe_cv.py (test splits never read). Each --config
NAME:key=value,... is an S4Classifier with those arguments (random_state=0); "defaults" is
always run. One JSON line per (problem, fold, config) goes to OUT, with the held-out
series' ensemble probabilities at the fitted temperature and at temperature 1.

    .venv/bin/python benchmarks/results/classify_panel_v6/probe_variants.py OUT.jsonl \
        --problems ArrowHead --config noaug:augment=False --config drop3:dropout=0.3
    .venv/bin/python benchmarks/results/classify_panel_v6/probe_variants.py OUT.jsonl --summary
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")

import numpy as np
from probe_cv import PANEL, member_log_probs
from sklearn.model_selection import StratifiedKFold

from s4ts.bench.overrides import parse_value
from s4ts.classification import S4Classifier


def config(text: str) -> tuple[str, dict]:
    """NAME:key=value,key=value -> (NAME, S4Classifier arguments)."""
    name, _, body = text.partition(":")
    settings = {}
    for item in filter(str.strip, body.split(",")):
        key, _, value = item.partition("=")
        if key.strip() not in S4Classifier().get_params():
            raise SystemExit(f"--config {name}: {key!r} is not an S4Classifier argument")
        settings[key.strip()] = parse_value(value)
    return name, settings


def summary(path: str) -> None:
    """Per problem and config, folds pooled: accuracy and mean log-loss (fitted T; T = 1)."""
    pooled: dict = {}
    for line in Path(path).read_text().splitlines():
        r = json.loads(line)
        truth = np.searchsorted(np.array(r["classes"]), np.array(r["y_held"]))
        rows = np.arange(len(truth))
        cell = pooled.setdefault((r["problem"], r["config"]), {"correct": [], "nll": [], "nll1": [], "folds": 0})
        for key, proba in (("nll", np.array(r["proba"])), ("nll1", np.array(r["proba_t1"]))):
            cell[key] += list(-np.log(np.clip(proba[rows, truth], 1e-12, None)))
        cell["correct"] += list(np.array(r["proba"]).argmax(1) == truth)
        cell["folds"] += 1
    print("| problem | config | folds | accuracy | log-loss | at T = 1 |\n|---|---|---|---|---|---|")
    for (problem, label), cell in pooled.items():
        print(f"| {problem} | {label} | {cell['folds']} | {100 * np.mean(cell['correct']):.2f} | "
              f"{np.mean(cell['nll']):.3f} | {np.mean(cell['nll1']):.3f} |")


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
