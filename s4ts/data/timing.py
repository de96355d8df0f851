"""The model's time unit and Δ multipliers, from the series' timestamps.

One *training step* (seconds for datetimes, units for integers) is the model's time unit.
A regular series sampled every `s` runs at rate `s / training step`; an irregular one gets
the gap before each observation in training steps.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from s4ts.data.frames import Freq, SeriesData, step_size, time_gaps

__all__ = ["series_dt", "series_rate", "training_step"]


def training_step(series: Sequence[SeriesData], freq: Freq | None = None) -> float:
    """The model's time unit: `freq` when given, else the most common step of the regular
    series, or the median gap when every series is irregular."""
    if freq is not None:
        return step_size(freq)
    steps = [step_size(s.freq) for s in series if s.freq is not None]
    if steps:
        return Counter(steps).most_common(1)[0][0]
    return float(np.median(np.concatenate([time_gaps(s.times) for s in series])))


def series_rate(s: SeriesData, train_step: float) -> float | None:
    """A regular series' step in training steps; None for irregular timestamps."""
    return None if s.freq is None else step_size(s.freq) / train_step


def series_dt(s: SeriesData, rate: float | None, train_step: float) -> np.ndarray:
    """Δ multiplier of every step of a series (T,) float32: its rate, or its gaps in training steps."""
    if s.freq is not None:
        return np.full(len(s.times), rate, dtype=np.float32)
    # The gap before the first observation is unknown; the state is zero there, so any
    # value does, and 1 (one training step) is the neutral one.
    return np.concatenate([[1.0], time_gaps(s.times) / train_step]).astype(np.float32)
