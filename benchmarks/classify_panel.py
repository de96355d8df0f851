"""S4Classifier with its defaults beside aeon's MiniRocket, MultiRocket-Hydra and ROCKET on a panel of problems.

Problems (aeon's bundled copies, standard train/test splits): ArrowHead, BasicMotions,
GunPoint, ItalyPowerDemand, JapaneseVowels and PickupGestureWiimoteZ (variable lengths),
plus with --long a synthetic long-range task (`s4ts.datasets.long_order`: which of two
64-step chirps comes first in 16,384 steps of AR(1) noise; --long-train / --long-test series,
--long-length steps). With --long-pretrain STEPS, S4Classifier first learns the task on
--long-pretrain-series extra generated draws of STEPS steps (their own seed), then continues
on the long training series (`warm_start=True`, with --long-continue-set); its train time is
both fits. The rockets train on the long series only: aeon's rockets predict only series of
the length they were fitted on (results/classify_panel_v5).

Contenders, trained in the same run on the same threads:
- `S4Classifier(random_state=seed)`: its defaults, nothing else set; it takes series of
  different lengths as they are (padding is masked);
- aeon's MiniRocketClassifier, MultiRocketHydraClassifier and RocketClassifier with their
  defaults (n_jobs = the torch threads); they need equal lengths, so variable-length
  problems are zero-padded to the longest series (aeon's `Padder`), as aeon's docs do.

Reported per problem and model: test accuracy, train and predict seconds; for S4Classifier
also the test log-loss of `predict_proba` (temperature-scaled) beside the log-loss of a
temperature-1 softmax of the same members' logits. Then mean accuracy and mean rank over
the panel (ties share ranks). Nothing is chosen on the test splits: every model runs with
fixed settings. The last line is JSON; with --out DIR the table and the record (versions,
command) are written to DIR/classify_panel.md and .json.

  pip install 'torch==2.13.0' && pip install -e '.[bench]'
  .venv/bin/python benchmarks/classify_panel.py --out benchmarks/results/classify_panel_v3
  .venv/bin/python benchmarks/classify_panel.py --long --problems --out DIR  # the long task only
  .venv/bin/python benchmarks/classify_panel.py --long --problems --s4-set n_estimators=1,max_time=1200
  .venv/bin/python benchmarks/classify_panel.py --long --problems --long-length 10000 --long-train 400 \
      --long-pretrain 512 --s4-set n_estimators=1,pooling=meanmax,dt_min=1e-4,max_epochs=10 \
      --long-continue-set max_epochs=6,learning_rate=1e-3       # learn short, continue long
  .venv/bin/python benchmarks/classify_panel.py --quick   # smoke test: two problems, tiny budgets

--s4-set sets S4Classifier arguments for a stated budget (the record and table say so); the
panel's figures are of the defaults, with nothing set.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

# aeon's rockets run on numba, whose default threading layer is an OpenMP pool from the
# system's libgomp, a second OpenMP runtime beside torch's. After a MiniRocket fit and
# predict, the next S4Classifier fit in the process ran 2-5x slower (BasicMotions 59 s
# first, over 150 s after MiniRocket; 58 s with this setting; results/classify_panel_v2).
# Read by numba when it first runs in parallel: set before aeon is imported.
os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")

import numpy as np
import torch

from s4ts.bench.overrides import parse_value
from s4ts.bench.versions import versions
from s4ts.classification import S4Classifier
from s4ts.datasets.long_order import MOTIF_STEPS, make_long_order

PANEL = ("ArrowHead", "BasicMotions", "GunPoint", "ItalyPowerDemand", "JapaneseVowels",
         "PickupGestureWiimoteZ")
LONG = "LongOrder"  # with its length in the tables: LongOrder16384
ROCKETS = ("MiniRocket", "MultiRocketHydra", "ROCKET")


def load(name: str, args: argparse.Namespace) -> tuple[list, np.ndarray, list, np.ndarray]:
    """Train and test series (lists of (channels, length_i) arrays) and labels of a problem."""
    if name.startswith(LONG):
        X, y = make_long_order(args.long_train, length=args.long_length, seed=args.seed)
        X_test, y_test = make_long_order(args.long_test, length=args.long_length, seed=args.seed + 1)
        return list(X), y, list(X_test), y_test
    try:
        from aeon.datasets import load_classification
    except ImportError:
        raise SystemExit("this benchmark needs aeon: pip install -e '.[bench]'") from None
    X, y = load_classification(name, split="train")
    X_test, y_test = load_classification(name, split="test")
    return list(X), np.asarray(y), list(X_test), np.asarray(y_test)


def padded(X: list[np.ndarray], length: int) -> np.ndarray:
    """Zero-padded (n, channels, length) array of the series, for the ROCKET family."""
    out = np.zeros((len(X), X[0].shape[0], length))
    for i, x in enumerate(X):
        out[i, :, : x.shape[1]] = x
    return out


def rocket(kind: str, seed: int, threads: int, quick: bool):
    """An aeon classifier of the ROCKET family with its defaults."""
    from aeon.classification.convolution_based import (
        MiniRocketClassifier,
        MultiRocketHydraClassifier,
        RocketClassifier,
    )
    cls = {"MiniRocket": MiniRocketClassifier, "MultiRocketHydra": MultiRocketHydraClassifier,
           "ROCKET": RocketClassifier}[kind]
    small = {"n_kernels": 500} if quick and kind == "ROCKET" else {}
    return cls(random_state=seed, n_jobs=threads, **small)


def timed(call):
    """The call's result and its wall seconds."""
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def log_loss(proba: np.ndarray, y: np.ndarray, classes: np.ndarray) -> float:
    """Mean negative log-probability of the true classes."""
    index = np.searchsorted(classes, y)
    return float(-np.mean(np.log(np.clip(proba[np.arange(len(y)), index], 1e-12, None))))


def s4_settings(text: str, option: str = "--s4-set") -> dict:
    """`key=value,key=value` -> S4Classifier arguments; ValueError naming a wrong item."""
    allowed = set(S4Classifier().get_params()) - {"random_state"}
    settings = {}
    for item in filter(str.strip, text.split(",")):
        key, eq, value = (part.strip() for part in item.partition("="))
        if not eq:
            raise ValueError(f"{option}: {item!r} is not key=value")
        if key not in allowed:
            raise ValueError(f"{option}: {key!r} is not an S4Classifier argument (random_state is --seed); "
                             f"choose from {sorted(allowed)}")
        settings[key] = parse_value(value)
    return settings


def run_s4(args: argparse.Namespace, data: tuple, pretrain: tuple | None = None) -> dict:
    """S4Classifier with its defaults (or --s4-set): accuracy, times, log-loss with and without
    temperature. With `pretrain` (series, labels) it fits those first and continues on the
    training series with warm_start=True and --long-continue-set."""
    X, y, X_test, y_test = data
    params = {"random_state": args.seed, **args.s4_set}
    if args.quick:
        params.update(d_model=16, n_layers=1, d_state=16, max_epochs=3, n_estimators=2)
    model = S4Classifier(**params)
    pretrain_s = 0.0
    if pretrain is not None:
        pretrain_s = timed(lambda: model.fit(*pretrain))[1]
        model.set_params(warm_start=True, **args.long_continue_set)
    train_s = pretrain_s + timed(lambda: model.fit(X, y))[1]
    proba, predict_s = timed(lambda: model.predict_proba(X_test))
    accuracy = float(np.mean(model.classes_[proba.argmax(axis=1)] == y_test))
    calibrated = log_loss(proba, y_test, model.classes_)
    model.network_.temperature.fill_(1.0)  # the same members' logits, softmax at temperature 1
    plain = log_loss(model.predict_proba(X_test), y_test, model.classes_)
    return {"accuracy": accuracy, "train_s": train_s, "predict_s": predict_s,
            "log_loss": calibrated, "log_loss_t1": plain, "temperature": model.temperature_,
            "epochs": model.n_epochs_, "pretrain_s": pretrain_s}


def run_rocket(kind: str, args: argparse.Namespace, data: tuple) -> dict:
    """An aeon ROCKET-family classifier on zero-padded series: accuracy and times."""
    X, y, X_test, y_test = data
    length = max(x.shape[1] for x in X + X_test)
    train, test = padded(X, length), padded(X_test, length)
    model = rocket(kind, args.seed, args.threads, args.quick)
    train_s = timed(lambda: model.fit(train, y))[1]
    predicted, predict_s = timed(lambda: model.predict(test))
    return {"accuracy": float(np.mean(predicted == y_test)), "train_s": train_s, "predict_s": predict_s}


def numba_threading_layer() -> str | None:
    """The threading layer numba's parallel code ran on in this process (None before any ran)."""
    try:
        import numba

        return numba.threading_layer()
    except (ImportError, ValueError):  # no numba, or nothing parallel ran yet
        return None


def ranks(accuracies: dict[str, float]) -> dict[str, float]:
    """Rank 1 for the most accurate model; ties share the mean of their ranks."""
    names = list(accuracies)
    values = np.array([-accuracies[n] for n in names])
    order = values.argsort(kind="stable")
    rank = np.empty(len(names))
    rank[order] = np.arange(1, len(names) + 1)
    for v in np.unique(values):
        rank[values == v] = rank[values == v].mean()
    return dict(zip(names, rank.tolist()))


def table(results: dict[str, dict[str, dict]], models: list[str]) -> list[str]:
    """Markdown lines: accuracy (train s / predict s) per problem and model, then the summary."""
    lines = ["| problem | " + " | ".join(models) + " |", "|---" * (len(models) + 1) + "|"]
    for problem, row in results.items():
        cells = [f"{100 * row[m]['accuracy']:.2f} ({row[m]['train_s']:.1f} / {row[m]['predict_s']:.2f} s)"
                 for m in models]
        lines.append(f"| {problem} | " + " | ".join(cells) + " |")
    summary = summarise(results, models)
    lines.append("| mean accuracy | " + " | ".join(f"{100 * summary['mean_accuracy'][m]:.2f}"
                                                  for m in models) + " |")
    lines.append("| mean rank | " + " | ".join(f"{summary['mean_rank'][m]:.2f}" for m in models) + " |")
    return lines


def summarise(results: dict[str, dict[str, dict]], models: list[str]) -> dict:
    """Mean accuracy and mean rank of each model over the problems."""
    per_problem = [ranks({m: row[m]["accuracy"] for m in models}) for row in results.values()]
    return {
        "mean_accuracy": {m: float(np.mean([row[m]["accuracy"] for row in results.values()]))
                          for m in models},
        "mean_rank": {m: float(np.mean([r[m] for r in per_problem])) for m in models},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="*", default=None,
                        help=f"problems to run (default: the panel {', '.join(PANEL)})")
    parser.add_argument("--long", action="store_true", help=f"add the synthetic {LONG} problem")
    parser.add_argument("--long-train", type=int, default=200)
    parser.add_argument("--long-test", type=int, default=200)
    parser.add_argument("--long-length", type=int, default=16_384, help="steps of each long series")
    parser.add_argument("--long-pretrain", type=int, default=0, metavar="STEPS",
                        help="S4Classifier first learns on generated draws of STEPS steps (0: off)")
    parser.add_argument("--long-pretrain-series", type=int, default=2000)
    parser.add_argument("--long-continue-set", default="", metavar="key=value,...",
                        help="S4Classifier arguments changed for the continuation on the long series")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch threads and the rockets' n_jobs")
    parser.add_argument("--rockets", nargs="*", default=list(ROCKETS), choices=ROCKETS)
    parser.add_argument("--quick", action="store_true", help="smoke test: 2 problems, tiny budgets")
    parser.add_argument("--s4-set", default="", metavar="key=value,...",
                        help="S4Classifier arguments instead of its defaults, e.g. n_estimators=1,max_time=1200")
    parser.add_argument("--out", type=Path, help="write classify_panel.md and .json here")
    args = parser.parse_args(argv)
    try:
        args.s4_set = s4_settings(args.s4_set)
        args.long_continue_set = s4_settings(args.long_continue_set, "--long-continue-set")
    except ValueError as err:
        parser.error(str(err))
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)
    problems = list(PANEL) if args.problems is None else list(args.problems)
    if args.quick:
        problems, args.rockets, args.long_train, args.long_test = (
            ["ItalyPowerDemand", "JapaneseVowels"], ["MiniRocket"], 8, 8)
    if args.long_length < 4 * MOTIF_STEPS:
        parser.error(f"--long-length {args.long_length}: the long task needs at least "
                     f"{4 * MOTIF_STEPS} steps")
    if args.long_pretrain and args.long_pretrain < 4 * MOTIF_STEPS:
        parser.error(f"--long-pretrain {args.long_pretrain}: the long task needs at least "
                     f"{4 * MOTIF_STEPS} steps")
    if args.long_continue_set and not args.long_pretrain:
        parser.error("--long-continue-set sets the continuation after --long-pretrain; give both")
    long_name = f"{LONG}{args.long_length}"
    if args.long:
        problems.append(long_name)
    unknown = sorted(set(problems) - set(PANEL) - {long_name})
    if unknown:
        parser.error(f"unknown problems {unknown}; choose from {', '.join(PANEL)}")
    models = ["S4Classifier", *args.rockets]
    results: dict[str, dict[str, dict]] = {}
    for problem in problems:
        data = load(problem, args)
        if args.quick:  # a slice of each split keeps the smoke test short
            data = (data[0][:40], data[1][:40], data[2][:40], data[3][:40])
        pretrain = None
        if problem == long_name and args.long_pretrain:
            n = 16 if args.quick else args.long_pretrain_series
            pretrain = make_long_order(n, length=args.long_pretrain, seed=args.seed + 2)
        row = {"S4Classifier": run_s4(args, data, pretrain)}
        for kind in args.rockets:
            row[kind] = run_rocket(kind, args, data)
        results[problem] = row
        s4 = row["S4Classifier"]
        print(f"{problem}: " + ", ".join(f"{m} {100 * row[m]['accuracy']:.2f}% "
                                         f"({row[m]['train_s']:.1f} s)" for m in models)
              + f"; S4 log-loss {s4['log_loss']:.3f} (temperature {s4['temperature']:.2f}; "
              f"at 1: {s4['log_loss_t1']:.3f})", flush=True)
    lines = table(results, models)
    budget = f"S4Classifier with {args.s4_set}" if args.s4_set else "S4Classifier with its defaults"
    if args.long and args.long_pretrain:
        budget += (f"; on {long_name} it first learns on {args.long_pretrain_series} generated "
                   f"series of {args.long_pretrain} steps, then continues with {args.long_continue_set}")
    print(f"\naccuracy % (train s / predict s); {budget}\n" + "\n".join(lines))
    summary = summarise(results, models)
    s4 = {p: r["S4Classifier"] for p, r in results.items()}
    final = {
        "mean_accuracy": {m: round(v, 4) for m, v in summary["mean_accuracy"].items()},
        "mean_rank": {m: round(v, 2) for m, v in summary["mean_rank"].items()},
        "s4_minus_minirocket": ({p: round(r["S4Classifier"]["accuracy"] - r["MiniRocket"]["accuracy"], 4)
                                 for p, r in results.items()} if "MiniRocket" in models else None),
        "s4_train_s": {p: round(r["train_s"], 1) for p, r in s4.items()},
        "s4_log_loss": {p: [round(r["log_loss"], 4), round(r["log_loss_t1"], 4)] for p, r in s4.items()},
    }
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        record = {"command": " ".join(sys.argv), "versions": versions(["torch", "aeon", "numpy", "s4ts"]),
                  "numba_threading_layer": numba_threading_layer(), "s4_set": args.s4_set,
                  "long_continue_set": args.long_continue_set,
                  "results": results, "summary": final}
        (args.out / "classify_panel.json").write_text(json.dumps(record, indent=2))
        (args.out / "classify_panel.md").write_text(
            f"`{' '.join(sys.argv)}`\n\naccuracy % (train s / predict s); {budget}\n\n" + "\n".join(lines) + "\n")
    print(json.dumps(final))


if __name__ == "__main__":
    main()
