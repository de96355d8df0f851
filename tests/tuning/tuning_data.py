"""Tiny estimators and data the tuning tests share (a trial trains in about a second)."""

import numpy as np
import pandas as pd

from s4ts.classification import S4Classifier
from s4ts.forecasting import S4Forecaster

HORIZON = 12
# A space small enough to search in a few trials, wide enough that trials differ.
SMALL_SPACE = {"d_model": [8, 16], "learning_rate": [1e-3, 3e-3], "context_length": [24, 36]}


def forecaster(**overrides) -> S4Forecaster:
    settings = {"horizon": HORIZON, "context_length": 36, "d_model": 16, "n_layers": 2, "d_state": 8,
                "max_epochs": 3, "batches_per_epoch": 4, "batch_size": 16, "random_state": 0}
    return S4Forecaster(**{**settings, **overrides})


def series_frame(n_series: int = 2, length: int = 160, seed: int = 0) -> pd.DataFrame:
    """Hourly series with a daily cycle and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    return pd.concat([
        pd.DataFrame({
            "unique_id": f"s{i}",
            "ds": pd.date_range("2022-01-01", periods=length, freq="h"),
            "y": 10.0 * (i + 1) + 3 * np.sin(2 * np.pi * t / 24 + i) + rng.normal(0, 0.3, length),
        })
        for i in range(n_series)
    ], ignore_index=True)


def classifier(**overrides) -> S4Classifier:
    settings = {"d_model": 8, "n_layers": 1, "d_state": 8, "batch_size": 8, "max_epochs": 3, "n_estimators": 1,
                "random_state": 0}
    return S4Classifier(**{**settings, **overrides})


def two_class_signals(n: int = 32, length: int = 48, seed: int = 0):
    """Sines of two frequencies in noise: X (n, length), labels 'slow' / 'fast'."""
    rng = np.random.default_rng(seed)
    labels = np.array(["slow", "fast"] * (n // 2))
    t = np.arange(length)
    freq = np.where(labels == "slow", 1 / 16, 1 / 4)[:, None]
    X = np.sin(2 * np.pi * freq * t + rng.uniform(0, 6, (n, 1))) + rng.normal(0, 0.3, (n, length))
    return X, labels
