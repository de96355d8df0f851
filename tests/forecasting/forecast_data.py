"""Data and tiny model settings shared by the forecasting tests (small: CPU, two cores)."""

import numpy as np
import pandas as pd

HORIZON = 12
TINY = {
    "horizon": HORIZON,
    "context_length": 36,
    "d_model": 16,
    "n_layers": 2,
    "d_state": 8,
    "max_epochs": 2,
    "batches_per_epoch": 6,
    "batch_size": 16,
    "verbose": False,
    "random_state": 0,
}


def make_frame(n_series: int = 2, length: int = 200, season: int = 24, noise: float = 0.3, seed: int = 0):
    """Hourly series with a daily cycle, a future-known promo effect and a past-only covariate."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    frames = []
    for i in range(n_series):
        promo = (rng.random(length) < 0.1).astype(float)
        y = 10.0 * (i + 1) + 3 * np.sin(2 * np.pi * t / season + i) + 2 * promo
        frames.append(pd.DataFrame({
            "unique_id": f"s{i}",
            "ds": pd.date_range("2022-01-01", periods=length, freq="h"),
            "y": y + rng.normal(0, noise, length),
            "promo": promo,
            "temp": rng.normal(size=length),
        }))
    return pd.concat(frames, ignore_index=True)


def future_of(frame: pd.DataFrame, horizon: int = HORIZON, seed: int = 1) -> pd.DataFrame:
    """X_future for the `horizon` hours after the end of every series in `frame`."""
    rng = np.random.default_rng(seed)
    rows = []
    for uid, group in frame.groupby("unique_id"):
        times = pd.date_range(group["ds"].max(), periods=horizon + 1, freq="h")[1:]
        rows.append(pd.DataFrame({"unique_id": uid, "ds": times, "promo": rng.integers(0, 2, horizon) * 1.0}))
    return pd.concat(rows, ignore_index=True)
