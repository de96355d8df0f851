"""A synthetic long-range classification task: which of two short motifs comes first in a long signal.

Each series is `length` steps of AR(1) noise holding two 64-step bursts at random, separate
places: an up-chirp and a down-chirp of the same band and energy. The class is their
order ("up_first" or "down_first"). Both classes hold the same two motifs, so statistics
pooled over the whole series (the features of the ROCKET family) cannot tell them apart;
a model must remember the first motif across up to `length` steps until the second.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MOTIF_STEPS", "make_long_order"]

MOTIF_STEPS = 64


def _chirp(up: bool) -> np.ndarray:
    """A Hann-windowed linear chirp from 0.05 to 0.25 cycles per step (or back): (MOTIF_STEPS,)."""
    t = np.arange(MOTIF_STEPS)
    f0, f1 = (0.05, 0.25) if up else (0.25, 0.05)
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * MOTIF_STEPS))
    return 3.0 * np.hanning(MOTIF_STEPS) * np.sin(phase)


def make_long_order(
    n_series: int, length: int = 16_384, seed: int = 0, noise_corr: float = 0.9
) -> tuple[np.ndarray, np.ndarray]:
    """Series (n_series, 1, length) float32 and labels (n_series,), classes alternating."""
    if length < 4 * MOTIF_STEPS:
        raise ValueError(f"length={length} must be at least {4 * MOTIF_STEPS} steps")
    rng = np.random.default_rng(seed)
    # AR(1) noise with unit variance: x_t = a x_{t-1} + sqrt(1 - a²) e_t.
    shocks = rng.standard_normal((n_series, length)) * np.sqrt(1 - noise_corr**2)
    noise = np.empty_like(shocks)
    noise[:, 0] = rng.standard_normal(n_series)
    for t in range(1, length):
        noise[:, t] = noise_corr * noise[:, t - 1] + shocks[:, t]
    up, down = _chirp(True), _chirp(False)
    labels = np.where(np.arange(n_series) % 2 == 0, "up_first", "down_first")
    for i in range(n_series):
        # Two starts at least one motif apart, anywhere in the series.
        first = rng.integers(0, length - 2 * MOTIF_STEPS)
        second = rng.integers(first + MOTIF_STEPS, length - MOTIF_STEPS + 1)
        a, b = (up, down) if labels[i] == "up_first" else (down, up)
        noise[i, first : first + MOTIF_STEPS] += a
        noise[i, second : second + MOTIF_STEPS] += b
    return noise[:, None, :].astype(np.float32), labels
