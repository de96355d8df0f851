"""Checks of GluonTS entries before S4Estimator reads them, and the statistics it learns from them.

`CheckedEntries` is the first step of the estimator's transformation (so it travels with a
serialized predictor): it refuses entries whose frequency, target or dynamic features do not
fit the trained model, naming the entry, and standardises the features with the training
statistics; nothing of the user's entries is modified (new arrays are written to a copy).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd
from gluonts.core.component import validated
from gluonts.dataset.common import Dataset
from gluonts.transform import MapTransformation
from pandas.tseries.frequencies import to_offset

from s4ts.data.windows import mean_and_std

__all__ = ["CheckedEntries", "entry_freq", "entry_target", "feature_statistics", "same_freq"]

_FEATURES = ("feat_dynamic_real", "past_feat_dynamic_real")


def _where(entry: dict, position: int | None = None) -> str:
    """'entry 3 (item_id 'a')' or 'item_id 'a'', for messages."""
    uid: Hashable = entry.get("item_id")
    label = f"item_id {uid!r}" if uid is not None else "an entry without item_id"
    return label if position is None else f"entry {position} ({label})"


def entry_freq(entry: dict, where: str) -> str:
    """The frequency of an entry's start period, or ValueError saying how to give one."""
    start = entry.get("start")
    if not isinstance(start, pd.Period):
        raise TypeError(
            f"{where}: start {start!r} has no frequency; build the dataset with "
            f"ListDataset(..., freq=...) or PandasDataset(..., freq=...)"
        )
    return start.freqstr


def same_freq(a: str, b: str) -> bool:
    """Whether two frequency aliases name the same step ('H' and 'h', '60min' and 'h')."""
    with warnings.catch_warnings():  # period aliases GluonTS writes ('M') are deprecated as offsets
        warnings.simplefilter("ignore", FutureWarning)
        return to_offset(a) == to_offset(b)


def entry_target(entry: dict, where: str) -> np.ndarray:
    """An entry's target as an array, or ValueError naming the entry when it has none."""
    if entry.get("target") is None:
        raise ValueError(f"{where}: no target; every GluonTS entry needs one")
    return np.asarray(entry["target"])


def _rows(entry: dict, field: str, count: int, where: str) -> np.ndarray:
    """The (count, T') float array of a dynamic feature field, or ValueError naming the entry."""
    value = entry.get(field)
    if value is None:
        raise ValueError(
            f"{where}: no {field}, but the model reads {count} row(s) of it "
            f"(num_{field}={count}); give every entry that field"
        )
    value = np.asarray(value, dtype="float64")
    if value.ndim == 1:
        value = value[None, :]
    if value.ndim != 2 or value.shape[0] != count:
        raise ValueError(f"{where}: {field} has shape {value.shape}; the model reads ({count}, T)")
    return value


def feature_statistics(
    data: Dataset, freq: str | None, n_dynamic: int, n_past: int
) -> tuple[str, list[float], list[float]]:
    """(frequency, per-row mean, per-row standard deviation) of the training entries'
    feat_dynamic_real then past_feat_dynamic_real rows, over the target's span."""
    sums: dict[str, list[np.ndarray]] = {field: [] for field in _FEATURES}
    found = None
    for position, entry in enumerate(data):
        where = _where(entry, position)
        step = entry_freq(entry, where)
        if found is None:
            found = step
            if freq is not None and not same_freq(freq, found):
                raise ValueError(f"freq={freq!r}, but the training data's frequency is {found!r}")
        elif not same_freq(step, found):
            raise ValueError(f"{where}: frequency {step!r}, but earlier entries have {found!r}")
        n = entry_target(entry, where).shape[-1]
        for field, count in zip(_FEATURES, (n_dynamic, n_past)):
            if count:
                sums[field].append(_rows(entry, field, count, where)[:, :n])
    if found is None:
        raise ValueError("training_data has no entries")
    loc, scale = [], []
    for field, count in zip(_FEATURES, (n_dynamic, n_past)):
        if count:
            mean, std = mean_and_std(np.concatenate(sums[field], axis=1), axis=1)  # (count,) each
            loc += np.nan_to_num(mean).tolist()
            scale += np.where(np.nan_to_num(std) > 1e-12, std, 1.0).tolist()
    return found, loc, scale


class CheckedEntries(MapTransformation):
    """Refuses entries that do not fit the model, and standardises their dynamic features.

    Training entries need features over the target's span; prediction entries need
    feat_dynamic_real `prediction_length` steps further (GluonTS's convention). Longer fields
    are cut to that span; missing feature values (NaN) read as the training mean."""

    @validated()
    def __init__(
        self,
        freq: str,
        prediction_length: int,
        num_feat_dynamic_real: int,
        num_past_feat_dynamic_real: int,
        feature_loc: list,
        feature_scale: list,
    ) -> None:
        self.freq = freq
        self.prediction_length = prediction_length
        self.counts = (num_feat_dynamic_real, num_past_feat_dynamic_real)
        self.loc = np.asarray(feature_loc, dtype="float64")
        self.scale = np.asarray(feature_scale, dtype="float64")

    def map_transform(self, data: dict[str, Any], is_train: bool) -> dict[str, Any]:
        where = _where(data)
        step = entry_freq(data, where)
        if not same_freq(step, self.freq):
            raise ValueError(f"{where}: frequency {step!r}, but the model was trained at {self.freq!r}")
        target = entry_target(data, where)
        if target.ndim != 1:
            raise ValueError(f"{where}: target has shape {target.shape}; S4Estimator is univariate")
        n = len(target)
        first = 0
        for field, count in zip(_FEATURES, self.counts):
            if not count:
                continue
            need = n + (self.prediction_length if field == "feat_dynamic_real" and not is_train else 0)
            values = _rows(data, field, count, where)
            if values.shape[1] < need:
                after = " (the target's steps plus prediction_length)" if need > n else ""
                raise ValueError(
                    f"{where}: {field} has {values.shape[1]} steps, the model needs {need}{after}"
                )
            loc, scale = self.loc[first : first + count, None], self.scale[first : first + count, None]
            data[field] = np.nan_to_num((values[:, :need] - loc) / scale).astype(np.float32)
            first += count
        return data
