"""The Informer long-horizon protocol: datasets, split borders, scaling, windows, published figures.

Train, validation and test are consecutive row ranges (ETT: 12, 4 and 4 months; the others
70/10/20%). Values are standardised with train statistics; a forecast origin in validation
or test reads its context from the rows before, as in the Informer code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from s4ts.bench.informer.baseline import Windows
from s4ts.datasets import get_dataset, load_informer
from s4ts.datasets.informer import InformerDataset

__all__ = [
    "FEATURES", "SPLITS", "ProtocolData", "default_horizons", "default_seq_len", "load_protocol",
    "load_published", "published_value", "split_borders",
]

FEATURES = ("S", "M")
SPLITS = ("train", "validation", "test")
_MONTH_HOURS = 30 * 24  # the Informer code counts a month as 30 days
_STEPS_PER_HOUR = {"ett-hour": 1, "ett-minute": 4}


def default_horizons(name: str) -> list[int]:
    """The horizons the published tables use for a dataset."""
    spec = get_dataset(name)
    if spec.split == "ett-hour":
        return [24, 48, 168, 336, 720]
    if spec.split == "ett-minute":
        return [24, 48, 96, 288, 672]
    return [24, 36, 48, 60] if spec.name == "ILI" else [96, 192, 336, 720]


def default_seq_len(name: str) -> int:
    """A context length that fits the dataset's test split (ILI is only ~1000 weeks long)."""
    return 36 if get_dataset(name).name == "ILI" else 336


def split_ends(spec: InformerDataset, n_rows: int) -> list[int]:
    """End rows of train, validation and test (each split starts where the one before ends)."""
    if spec.split in _STEPS_PER_HOUR:
        month = _MONTH_HOURS * _STEPS_PER_HOUR[spec.split]
        ends = [12 * month, 16 * month, 20 * month]
        if n_rows < ends[-1]:
            raise ValueError(
                f"{spec.filename} has {n_rows} rows; the ETT protocol needs {ends[-1]} "
                f"(20 months). Use the complete file from {spec.url}."
            )
        return ends
    n_train, n_test = int(n_rows * 0.7), int(n_rows * 0.2)
    return [n_train, n_rows - n_test, n_rows]


def split_borders(spec: InformerDataset, n_rows: int, seq_len: int) -> list[tuple[int, int]]:
    """Row ranges [start, end) of train, validation and test; later splits reach seq_len back."""
    ends = split_ends(spec, n_rows)
    if seq_len >= ends[0]:
        raise ValueError(f"seq_len={seq_len} must be shorter than the train split ({ends[0]}).")
    # Validation and test windows take their context from the split before (Informer's code).
    return [(0, ends[0]), (ends[0] - seq_len, ends[1]), (ends[1] - seq_len, ends[2])]


@dataclass(frozen=True)
class ProtocolData:
    """One dataset under the protocol: values standardised by train statistics, their times."""

    name: str
    values: np.ndarray  # (T, C) float32, rows up to the end of test
    times: pd.DatetimeIndex  # (T,)
    columns: list[str]
    ends: list[int]  # end rows of train, validation and test

    def frame(self, stop: int) -> pd.DataFrame:
        """Rows [0, stop) as a long frame (unique_id = column name, ds, y): one series per column,
        which S4Forecaster reads channel-independently (one model shared by the columns)."""
        return pd.DataFrame({
            "unique_id": np.repeat(self.columns, stop),
            "ds": np.tile(self.times[:stop], len(self.columns)),
            "y": self.values[:stop].T.reshape(-1),
        })

    def n_origins(self, split: str, horizon: int) -> int:
        """Stride-1 forecast windows whose targets lie in `split` (validation or test)."""
        k = SPLITS.index(split)
        count = self.ends[k] - self.ends[k - 1] - horizon + 1
        if k == 0 or count < 1:
            raise ValueError(f"{self.name} {split}: no forecast windows of horizon {horizon}.")
        return count

    def windows(self, seq_len: int, horizon: int) -> list[Windows]:
        """Train, validation and test windows (context seq_len, horizon) of every column."""
        spec = get_dataset(self.name)
        return [Windows(self.values[start:end], seq_len, horizon)
                for start, end in split_borders(spec, len(self.values), seq_len)]


def load_protocol(
    name: str, features: str, data_dir: str | os.PathLike | None = None,
) -> ProtocolData:
    """A dataset's target alone (`features="S"`) or all its columns ("M"), scaled by train statistics."""
    if features not in FEATURES:
        raise ValueError(f"features must be 'S' (target only) or 'M' (all), got {features!r}.")
    spec = get_dataset(name)
    frame = load_informer(name, data_dir=data_dir)
    columns = [spec.target] if features == "S" else [c for c in frame.columns if c != "date"]
    values = frame[columns].to_numpy(dtype=np.float64)  # (T, C)
    ends = split_ends(spec, len(values))
    scaler = StandardScaler().fit(values[: ends[0]])
    scaled = scaler.transform(values[: ends[2]]).astype(np.float32)  # (T, C)
    return ProtocolData(spec.name, scaled, pd.DatetimeIndex(frame["date"])[: ends[2]], columns, ends)


def load_published() -> pd.DataFrame:
    """The published MSE/MAE values (S4 paper, Informer paper) shipped with s4ts."""
    with resources.files("s4ts.bench").joinpath("published.csv").open() as f:
        return pd.read_csv(f)


def published_value(table: pd.DataFrame, dataset: str, features: str, horizon: int,
                    model: str) -> tuple[float | None, float | None]:
    """Published (MSE, MAE) of one model, or (None, None) where the repo has no number."""
    row = table[
        (table.dataset == dataset) & (table.features == features)
        & (table.horizon == horizon) & (table.model == model)
    ]
    if row.empty:
        return None, None
    return float(row.mse.iloc[0]), float(row.mae.iloc[0])
