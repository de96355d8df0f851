"""Loaders for public time-series datasets (local folder, user cache, then download)."""

from __future__ import annotations

from s4ts.datasets.informer import (
    DATA_ENV,
    DATASETS,
    InformerDataset,
    cache_dir,
    dataset_path,
    get_dataset,
    load_informer,
)
from s4ts.datasets.vic_elec import load_vic_elec

__all__ = [
    "DATASETS",
    "DATA_ENV",
    "InformerDataset",
    "cache_dir",
    "dataset_path",
    "get_dataset",
    "load_informer",
    "load_vic_elec",
]

