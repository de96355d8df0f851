"""Loader for the Google Speech Commands layout: one folder per word of 16 kHz WAV files."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from s4ts.data.audio import MFCC, pad_or_crop, read_wav

__all__ = ["SC10_WORDS", "SpeechSplit", "list_speech_commands", "load_speech_commands"]

SC10_WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
SAMPLE_RATE = 16000
_SPLITS = ("train", "validation", "test")


class SpeechSplit(NamedTuple):
    """One split: inputs (n, channels, length), labels (n,), and the sequence's sample rate in Hz."""

    X: np.ndarray
    y: np.ndarray
    sample_rate: float


def _read_list(root: Path, name: str) -> set[str]:
    path = root / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: a Speech Commands root holds validation_list.txt and "
            "testing_list.txt beside the word folders"
        )
    # Lists use forward slashes (word/file.wav) on every platform.
    return {line.strip() for line in path.read_text().splitlines() if line.strip()}


def _resolve_words(root: Path, words: str | Sequence[str]) -> list[str]:
    available = sorted(
        p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))
    )
    if isinstance(words, str):
        if words == "sc10":
            chosen = list(SC10_WORDS)
        elif words == "all":
            chosen = available
        else:
            raise ValueError(f"words must be 'sc10', 'all' or a list of words; got {words!r}")
    else:
        chosen = list(words)
    missing = [w for w in chosen if w not in available]
    if missing:
        raise ValueError(f"word folders {missing} not found under {root}; available: {available}")
    if not chosen:
        raise ValueError(f"no word folders found under {root}")
    return chosen


def list_speech_commands(
    root: str | os.PathLike, split: str = "train", words: str | Sequence[str] = "sc10"
) -> list[tuple[Path, str]]:
    """List (path, word) pairs of one split: 'train', 'validation' or 'test'."""
    if split not in _SPLITS:
        raise ValueError(f"split must be one of {_SPLITS}; got {split!r}")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"Speech Commands root {root} is not a directory")
    validation = _read_list(root, "validation_list.txt")
    testing = _read_list(root, "testing_list.txt")
    items = []
    for word in _resolve_words(root, words):
        for wav in sorted((root / word).glob("*.wav")):
            rel = f"{word}/{wav.name}"
            in_split = {"validation": rel in validation, "test": rel in testing}.get(
                split, rel not in validation and rel not in testing
            )
            if in_split:
                items.append((wav, word))
    return items


def load_speech_commands(
    root: str | os.PathLike,
    split: str = "train",
    words: str | Sequence[str] = "sc10",
    features: str = "raw",
    length: int = SAMPLE_RATE,
    n_mfcc: int = 20,
    limit_per_word: int | None = None,
) -> SpeechSplit:
    """Load one split as raw waveforms (n, 1, length) or MFCC features (n, n_mfcc, frames)."""
    if features not in ("raw", "mfcc"):
        raise ValueError(f"features must be 'raw' or 'mfcc'; got {features!r}")
    items = list_speech_commands(root, split, words)
    if limit_per_word is not None:
        counts: dict[str, int] = {}
        kept = []
        for path, word in items:
            if counts.get(word, 0) < limit_per_word:
                counts[word] = counts.get(word, 0) + 1
                kept.append((path, word))
        items = kept
    if not items:
        raise ValueError(f"split {split!r} of {root} is empty for words={words!r}")
    X = np.zeros((len(items), 1, length), dtype=np.float32)  # (n, 1, L)
    for i, (path, _) in enumerate(items):
        audio, sr = read_wav(path)
        if sr != SAMPLE_RATE:
            raise ValueError(f"{path}: sample rate {sr} Hz, expected {SAMPLE_RATE} Hz")
        # Speech Commands clips are mono; mixing down keeps stray stereo files usable.
        X[i, 0] = pad_or_crop(audio.mean(axis=0), length)
    y = np.array([word for _, word in items])
    if features == "raw":
        return SpeechSplit(X, y, float(SAMPLE_RATE))
    mfcc = MFCC(sample_rate=SAMPLE_RATE, n_mfcc=n_mfcc)
    with torch.no_grad():
        feats = torch.cat([mfcc(torch.from_numpy(X[i : i + 256, 0])) for i in range(0, len(X), 256)])
    return SpeechSplit(feats.numpy(), y, mfcc.frame_rate)  # (n, n_mfcc, frames)
