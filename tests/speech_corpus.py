"""Test helpers: tones and a tiny Speech Commands tree (imported by the speech tests)."""

from __future__ import annotations

import numpy as np

from s4ts.data.audio import write_wav

SR = 16000


def tone(freq: float, n: int = SR, sr: int = SR) -> np.ndarray:
    return np.sin(2 * np.pi * freq * np.arange(n) / sr).astype(np.float32)


def write_fake_corpus(root, words=("yes", "no", "up"), per_word=3):
    """A tiny Speech Commands tree: tones per word, one file per split per word."""
    for k, word in enumerate(words):
        (root / word).mkdir(parents=True)
        for i in range(per_word):
            write_wav(root / word / f"spk{i}_nohash_0.wav", 0.3 * tone(200.0 * (k + 1), 12000), SR)
    (root / "_background_noise_").mkdir()
    write_wav(root / "_background_noise_" / "white.wav", np.zeros(100), SR)
    (root / "validation_list.txt").write_text("".join(f"{w}/spk1_nohash_0.wav\n" for w in words))
    (root / "testing_list.txt").write_text("".join(f"{w}/spk2_nohash_0.wav\n" for w in words))
