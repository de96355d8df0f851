"""Speech classification protocol (SC10 layout): accuracy at 16 kHz and zero-shot at 8 kHz."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

from s4ts.classification import S4Classifier
from s4ts.data.audio import MFCC, decimate
from s4ts.datasets.speech_commands import SAMPLE_RATE, load_speech_commands

# The S4 paper's SC10 results (Gu et al. 2022, Table 5), in percent.
PAPER = {"raw": (98.32, 96.30), "mfcc": (93.96, None)}
ZERO_SHOT_FACTOR = 2  # 16 kHz -> 8 kHz


def _pct(value: float | None) -> str:
    """A percentage for the table, '-' where the paper reports none."""
    return "-" if value is None else f"{value:.2f}"


def _normalise(audio: np.ndarray) -> np.ndarray:
    """Scale every clip to unit RMS, so loudness differences between recordings do not matter."""
    rms = np.sqrt(np.mean(audio**2, axis=-1, keepdims=True))
    return audio / np.maximum(rms, 1e-6)


def _mfcc(audio: np.ndarray, sample_rate: int, n_mfcc: int) -> np.ndarray:
    """(n, 1, L) audio -> (n, n_mfcc, frames) MFCC with a 10 ms hop at any sample rate."""
    # The 16 kHz filterbank (up to 8 kHz) at every rate: the same coefficient means the
    # same band, and bands above a lower rate's Nyquist frequency stay empty.
    mfcc = MFCC(sample_rate=sample_rate, n_mfcc=n_mfcc, f_max=SAMPLE_RATE / 2)
    with torch.no_grad():
        return torch.cat([mfcc(torch.from_numpy(audio[i : i + 256, 0]))
                          for i in range(0, len(audio), 256)]).numpy()


def _downsample(audio: np.ndarray) -> np.ndarray:
    """Anti-aliased decimation of (n, 1, L) audio by ZERO_SHOT_FACTOR."""
    return decimate(torch.from_numpy(audio), ZERO_SHOT_FACTOR).numpy()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `s4ts bench speech`."""
    parser.add_argument("--root", required=True,
                        help="Speech Commands-style folder (e.g. datasets/spoken_words/corpus)")
    parser.add_argument("--input", default="raw", choices=["raw", "mfcc"],
                        help="raw 16 kHz waveform or 20 MFCC at 100 frames/s")
    parser.add_argument("--words", default="sc10", help="'sc10', 'all' or comma-separated words")
    parser.add_argument("--limit-per-word", type=int, help="cap training clips per word")
    parser.add_argument("--out", default="out/bench", help="folder for the summary and the model")
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    group = parser.add_argument_group("S4 model (defaults: the CPU configuration of the docs)")
    group.add_argument("--filterbank", type=int, default=None,
                       help="learned S4 filters in front of raw audio, 0 for none (default: raw 64)")
    group.add_argument("--frame-length", type=int, default=160,
                       help="filterbank frame in samples (160 = 10 ms at 16 kHz)")
    group.add_argument("--bandlimit", type=float, default=0.4,
                       help="filterbank band edge as a fraction of the 16 kHz Nyquist frequency "
                       "(0.4 = 3.2 kHz, under the 3.6 kHz edge of the 8 kHz decimation filter)")
    group.add_argument("--d-model", type=int, default=64, help="first-stage width")
    group.add_argument("--n-layers", type=int, nargs="+", default=[4], help="S4 blocks per stage")
    group.add_argument("--pool", type=int, nargs="*", default=[],
                       help="downsampling factors between stages (default: none)")
    group.add_argument("--expand", type=int, default=4, help="width multiplier at each pooling")
    group.add_argument("--d-state", type=int, default=64)
    group.add_argument("--mode", default="diag", choices=["diag", "dplr"])
    group.add_argument("--dropout", type=float, default=0.1)
    group.add_argument("--unidirectional", action="store_true",
                       help="causal S4 layers (default: bidirectional, as in the paper)")
    group = parser.add_argument_group("training")
    group.add_argument("--epochs", type=int, default=18)
    group.add_argument("--max-minutes", type=float, default=28.0,
                       help="stop training after this many minutes (the budget is 30)")
    group.add_argument("--batch-size", type=int, default=16)
    group.add_argument("--learning-rate", "--lr", dest="learning_rate", type=float, default=3e-3)
    group.add_argument("--early-stopping-patience", "--patience", dest="early_stopping_patience",
                       type=int, default=8, help="epochs without validation improvement")
    group.add_argument("--seed", type=int, default=0)
    group.add_argument("--verbose", action="store_true", help="show the training progress bar")


def _defaults(args: argparse.Namespace) -> dict:
    """Model configuration: explicit options, else the defaults for the input kind."""
    if args.input == "mfcc" and args.filterbank:
        raise ValueError("--filterbank applies to raw audio; MFCC input is already in frames")
    filterbank = args.filterbank if args.filterbank is not None else (64 if args.input == "raw" else 0)
    n_layers = args.n_layers[0] if len(args.n_layers) == 1 else tuple(args.n_layers)
    config = {
        "d_model": args.d_model, "n_layers": n_layers, "pool": tuple(args.pool),
        "expand": args.expand, "d_state": args.d_state, "mode": args.mode, "dropout": args.dropout,
        "bidirectional": not args.unidirectional,
        # The recipe of the published speech results, from before the classifier's defaults
        # became an augmented, label-smoothed ensemble with LegS modes (issue 18).
        "n_estimators": 1, "init": "diag-lin" if args.mode == "diag" else None,
        "augment": False, "label_smoothing": 0.0,
    }
    if filterbank:
        config.update(filterbank=filterbank, frame_length=args.frame_length, bandlimit=args.bandlimit)
    return config


def run(args: argparse.Namespace) -> str:
    """Train on the train split; return the report of test accuracy at 16 kHz and zero-shot at 8 kHz."""
    if args.threads:
        torch.set_num_threads(args.threads)
    words = args.words if args.words in ("sc10", "all") else args.words.split(",")
    splits = {s: load_speech_commands(args.root, s, words=words,
                                      limit_per_word=args.limit_per_word if s == "train" else None)
              for s in ("train", "validation", "test")}
    audio = {s: _normalise(d.X) for s, d in splits.items()}  # (n, 1, 16000)
    if args.input == "raw":
        inputs = audio
        rate, rate_zero_shot = float(SAMPLE_RATE), float(SAMPLE_RATE // ZERO_SHOT_FACTOR)
        test_zero_shot = _downsample(audio["test"])  # (n, 1, 8000)
    else:
        inputs = {s: _mfcc(a, SAMPLE_RATE, 20) for s, a in audio.items()}  # (n, 20, 101)
        # The hop is fixed in seconds, so 8 kHz audio gives the same 100 frames/s: the rate
        # is unchanged and only the band above 4 kHz is missing.
        rate = rate_zero_shot = 100.0
        test_zero_shot = _mfcc(_downsample(audio["test"]), SAMPLE_RATE // ZERO_SHOT_FACTOR, 20)

    config = _defaults(args)
    clf = S4Classifier(
        **config, learning_rate=args.learning_rate, batch_size=args.batch_size,
        max_epochs=args.epochs, max_time=60.0 * args.max_minutes,
        early_stopping_patience=args.early_stopping_patience, random_state=args.seed,
        verbose=args.verbose,
    )
    started = time.perf_counter()
    clf.fit(inputs["train"], splits["train"].y, sample_rate=rate,
            validation_data=(inputs["validation"], splits["validation"].y))
    train_s = time.perf_counter() - started
    started = time.perf_counter()
    acc_native = clf.score(inputs["test"], splits["test"].y, sample_rate=rate)
    acc_zero_shot = clf.score(test_zero_shot, splits["test"].y, sample_rate=rate_zero_shot)
    eval_s = time.perf_counter() - started

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    clf.save(out / f"speech_{args.input}_model")
    paper_native, paper_zero = PAPER[args.input]
    n = {s: len(d.y) for s, d in splits.items()}
    lines = [
        f"Command: `{shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])}`",
        (f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads)"),
        (f"Data: {args.root} ({n['train']} train / {n['validation']} validation / {n['test']} test "
        f"clips, {len(clf.classes_)} words), input {args.input} {inputs['train'].shape[1:]}"),
        f"S4 model: {config}; {sum(p.numel() for p in clf.network_.parameters())} parameters",
        f"Training: {clf.n_epochs_} epochs, {train_s / 60:.1f} min; evaluation {eval_s:.0f} s",
        "",
        "| model | input | 16 kHz | 8 kHz zero-shot (rate 2) |",
        "| --- | --- | --- | --- |",
        f"| S4, paper (Speech Commands SC10) | {args.input} | {_pct(paper_native)} | {_pct(paper_zero)} |",
        (f"| s4ts S4Classifier (this run) | {args.input} | {100 * acc_native:.2f} | "
        f"{100 * acc_zero_shot:.2f} |"),
    ]
    report = "\n".join(lines)
    (out / f"speech_{args.input}_summary.md").write_text(report + "\n")
    scores = json.dumps({"acc_native": round(acc_native, 4), "acc_zero_shot": round(acc_zero_shot, 4)})
    return report + "\n" + scores
