"""Loaders for public time-series datasets (local folder, user cache, then download)."""

from __future__ import annotations

from s4ts.datasets.fpp3 import (
    load_aus_retail,
    load_bank_calls,
    load_ett_ot,
    load_pedestrian,
    load_tourism,
    load_us_gasoline,
    parse_period,
)
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
    "load_aus_retail",
    "load_bank_calls",
    "load_ett_ot",
    "load_informer",
    "load_pedestrian",
    "load_tourism",
    "load_us_gasoline",
    "load_vic_elec",
    "parse_period",
]

