"""Issue 18 probe: cross-validation inside each panel problem's TRAINING split (the test
splits are never read) of two candidate changes to S4Classifier's defaults:

- ensemble size: 3 members (the default) against 5 (members 0-2 of a 5-member fit are the
  3-member fit's members: the member seeds are drawn in sequence from random_state);
- tail averaging: each member's weights averaged over the last quarter of its epochs
  (a running mean from the epoch where 75% of the planned epochs are done) against its
  final weights.

For every problem, stratified 3-fold CV (shuffled, seed 0) of the training split; on each
fold S4Classifier(n_estimators=5, random_state=0) is fitted on two folds and each member's
log-probabilities (final and tail-averaged weights, temperature 1) are written for the
held-out fold, with the fitted temperature; MiniRocket (aeon defaults, seed 0) on the same
folds for reference. One JSON line per (problem, fold) goes to OUT; summarise.py reads it.

    .venv/bin/python benchmarks/results/classify_panel_v6/probe_cv.py OUT.jsonl [PROBLEM ...]
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks/: the panel's helpers
import lightning as L
import numpy as np
import torch
from classify_panel import PANEL, padded  # (it sets numba's threading layer before aeon loads)
from sklearn.model_selection import StratifiedKFold

from s4ts._training import extra_callbacks
from s4ts.classification import S4Classifier
from s4ts.nn.ensemble import S4ClassifierEnsemble

TAIL = 0.75  # average the weights from this fraction of the planned epochs on
# PROBE_SMOKE=1: 4 epochs a member, to check the script runs (not a measurement)
SMOKE = {"max_epochs": 4} if os.environ.get("PROBE_SMOKE") else {}


class TailAverage(L.Callback):
    """Running mean of the weights at the end of every epoch from TAIL x max_epochs on;
    one mean per training run (= per member), in order."""

    def __init__(self) -> None:
        self.means: list[dict[str, torch.Tensor]] = []

    def on_fit_start(self, trainer, module) -> None:
        self._sum, self._count = None, 0

    def on_train_epoch_end(self, trainer, module) -> None:
        if trainer.current_epoch + 1 <= TAIL * trainer.max_epochs:
            return
        state = {k: v.detach().cpu().double() for k, v in module.net.state_dict().items()}
        if self._sum is None:
            self._sum = state
        else:
            for k, v in state.items():
                self._sum[k] += v
        self._count += 1

    def on_fit_end(self, trainer, module) -> None:
        final = module.net.state_dict()
        self.means.append({k: (self._sum[k] / self._count).to(v.dtype) if v.is_floating_point() else v
                           for k, v in final.items()})


def member_log_probs(est: S4Classifier, X: list) -> np.ndarray:
    """(members, n, classes) log-softmax of each member's logits (temperature 1)."""
    whole = est.network_
    out = []
    try:
        for member in whole.members:
            est.network_ = S4ClassifierEnsemble([member], 1.0)
            out.append(np.log(np.clip(est.predict_proba(X), 1e-300, None)))
    finally:
        est.network_ = whole
    return np.stack(out)


def accuracy(classes: np.ndarray, log_probs: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of the mean of members' probabilities exp(log_probs) (members, n, classes)."""
    return float(np.mean(classes[np.exp(log_probs).mean(0).argmax(1)] == y))


def main() -> None:
    from aeon.classification.convolution_based import MiniRocketClassifier
    from aeon.datasets import load_classification

    out_path = sys.argv[1]
    problems = sys.argv[2:] or PANEL
    for name in problems:
        X, y = load_classification(name, split="train")
        X, y = list(X), np.asarray(y)
        folds = StratifiedKFold(3, shuffle=True, random_state=0).split(np.zeros(len(y)), y)
        for fold, (train, held) in enumerate(folds):
            X_train, y_train = [X[i] for i in train], y[train]
            X_held, y_held = [X[i] for i in held], y[held]
            tail = TailAverage()
            start = time.perf_counter()
            with extra_callbacks(tail):
                est = S4Classifier(n_estimators=5, random_state=0, **SMOKE).fit(X_train, y_train)
            fit_s = time.perf_counter() - start
            final = member_log_probs(est, X_held)
            finals = [m.state_dict() for m in est.network_.members]
            for member, state in zip(est.network_.members, tail.means):
                member.load_state_dict(state)
            averaged = member_log_probs(est, X_held)
            for member, state in zip(est.network_.members, finals):
                member.load_state_dict(state)
            length = max(x.shape[1] for x in X)
            mini = MiniRocketClassifier(random_state=0, n_jobs=2)
            # variable length: zero-padded to the longest training series, as the panel does
            mini.fit(padded(X_train, length), y_train)
            mini_pred = mini.predict(padded(X_held, length))
            record = {
                "problem": name, "fold": fold, "n_train": len(train), "n_held": len(held),
                "classes": [str(c) for c in est.classes_], "y_held": [str(v) for v in y_held],
                "temperature": est.temperature_, "fit_s": round(fit_s, 1),
                "n_epochs": est.n_epochs_,
                "final": final.tolist(), "tail": averaged.tolist(),
                "minirocket_accuracy": float(np.mean(mini_pred == y_held)),
            }
            with open(out_path, "a") as fh:
                fh.write(json.dumps(record) + "\n")
            scores = [accuracy(est.classes_, lp, y_held) for lp in (final[:3], final, averaged[:3], averaged)]
            print(f"{name} fold {fold}: {fit_s:.0f} s; 3 final {scores[0]:.3f}, 5 final {scores[1]:.3f}, "
                  f"3 tail {scores[2]:.3f}, 5 tail {scores[3]:.3f}, "
                  f"MiniRocket {record['minirocket_accuracy']:.3f}", flush=True)


if __name__ == "__main__":
    main()
