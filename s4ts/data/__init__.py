"""Data layer: pandas frames in, model-ready arrays and windows out."""

from s4ts.data.frames import SeriesData, split_series, to_long
from s4ts.data.windows import Featurizer, WindowDataset, calendar_features, fit_scale

__all__ = [
    "Featurizer",
    "SeriesData",
    "WindowDataset",
    "calendar_features",
    "fit_scale",
    "split_series",
    "to_long",
]
