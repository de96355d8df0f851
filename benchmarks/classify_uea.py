"""JapaneseVowels accuracy: S4Classifier beside MiniRocket and ROCKET (aeon), trained in the same run.

JapaneseVowels (UEA archive, bundled with aeon): 9 male speakers saying the vowel pair /ae/,
12 LPC cepstrum channels, 7 to 29 frames per utterance; the class is the speaker. S4 takes
the variable-length series as they are (padding is masked); the ROCKET family needs equal
lengths, so its input is zero-padded to the longest series, aeon's usual treatment.

Usage: python benchmarks/classify_uea.py [--seeds 0 1 2] [--epochs 200] [--json out.json]
Needs aeon (`pip install aeon`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import torch

from s4ts.classification import S4Classifier


def load() -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray], np.ndarray]:
    """JapaneseVowels train/test as lists of (12, length_i) arrays and labels."""
    try:
        from aeon.datasets import load_japanese_vowels
    except ImportError:
        raise SystemExit("this benchmark needs aeon: pip install aeon") from None
    X_train, y_train = load_japanese_vowels(split="train")
    X_test, y_test = load_japanese_vowels(split="test")
    return list(X_train), np.asarray(y_train), list(X_test), np.asarray(y_test)


def fit_rocket(kind: str, seed: int, X_train, y_train, X_test, y_test) -> tuple[float, float]:
    """Accuracy and fit seconds of aeon's MiniRocket or ROCKET classifier on zero-padded input."""
    from aeon.classification.convolution_based import MiniRocketClassifier, RocketClassifier
    from aeon.transformations.collection.unequal_length import Padder

    length = max(x.shape[1] for x in X_train + X_test)
    padder = Padder(padded_length=length, fill_value=0)
    train, test = padder.fit_transform(X_train), padder.transform(X_test)  # (n, 12, L)
    cls = {"MiniRocket": MiniRocketClassifier, "ROCKET": RocketClassifier}[kind]
    start = time.perf_counter()
    model = cls(random_state=seed, n_jobs=1).fit(train, y_train)
    return float(model.score(test, y_test)), time.perf_counter() - start


def fit_s4(args: argparse.Namespace, seed: int, X_train, y_train, X_test, y_test) -> tuple[float, float]:
    """Accuracy and fit seconds of S4Classifier on the variable-length series."""
    model = S4Classifier(
        d_model=args.d_model, n_layers=args.n_layers, d_state=args.d_state,
        bidirectional=True, dropout=args.dropout, pooling="mean", learning_rate=args.learning_rate,
        batch_size=args.batch_size, max_epochs=args.epochs,
        early_stopping_patience=args.early_stopping_patience, val_size=args.val_size,
        random_state=seed, verbose=False,
    )
    start = time.perf_counter()
    model.fit(X_train, y_train)
    return float(model.score(X_test, y_test)), time.perf_counter() - start


def _val_size(text: str) -> float | int:
    """--val-size: an integer count ("20") or a fraction ("0.1")."""
    return int(text) if text.strip().isdigit() else float(text)


def main() -> None:
    """Train every model for every seed and print the side-by-side table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--d-model", type=int, default=64)
    parser.add_argument("--n-layers", type=int, default=2)
    parser.add_argument("--d-state", type=int, default=64)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--learning-rate", "--lr", dest="learning_rate", type=float, default=3e-3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=80)
    parser.add_argument("--early-stopping-patience", "--patience", dest="early_stopping_patience",
                        type=int, default=40)
    parser.add_argument("--val-size", "--validation-fraction", dest="val_size", type=_val_size,
                        default=0,
                        help="series held out for early stopping (a fraction like 0.1 or a "
                             "count); 270 series leave too few to spare, so the default 0 "
                             "trains on all of them for --epochs")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()

    data = load()
    print(f"JapaneseVowels: {len(data[0])} train / {len(data[2])} test series, "
          f"{data[0][0].shape[0]} channels, lengths {min(x.shape[1] for x in data[0] + data[2])}"
          f"-{max(x.shape[1] for x in data[0] + data[2])}, {len(np.unique(data[1]))} classes")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads)")
    results: dict[str, list[tuple[float, float]]] = {"S4Classifier": [], "MiniRocket": [], "ROCKET": []}
    for seed in args.seeds:
        results["S4Classifier"].append(fit_s4(args, seed, *data))
        for kind in ("MiniRocket", "ROCKET"):
            results[kind].append(fit_rocket(kind, seed, *data))
        print(f"seed {seed}: " + ", ".join(f"{k} {100 * v[-1][0]:.2f}%" for k, v in results.items()))

    print(f"\nS4Classifier: d_model={args.d_model}, n_layers={args.n_layers}, bidirectional, "
          f"mean pooling, dropout {args.dropout}, {args.epochs} epochs, val_size "
          f"{args.val_size} (early stopping patience {args.early_stopping_patience})\n")
    print("| model | accuracy % (mean ± std over seeds) | fit seconds (mean) |")
    print("| --- | --- | --- |")
    summary = {}
    for name, runs in results.items():
        acc = 100 * np.array([a for a, _ in runs])
        secs = np.mean([s for _, s in runs])
        summary[name] = {"accuracy": acc.round(2).tolist(), "mean": round(float(acc.mean()), 2),
                         "fit_seconds": round(float(secs), 1)}
        print(f"| {name} | {acc.mean():.2f} ± {acc.std():.2f} | {secs:.1f} |")
    best_baseline = max(summary["MiniRocket"]["mean"], summary["ROCKET"]["mean"])
    summary["s4_at_least_as_accurate"] = summary["S4Classifier"]["mean"] >= best_baseline
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
    print(json.dumps({key: round(summary[name]["mean"] / 100, 4) for key, name in
                      (("acc_s4", "S4Classifier"), ("acc_minirocket", "MiniRocket"),
                       ("acc_rocket", "ROCKET"))}))


if __name__ == "__main__":
    main()
