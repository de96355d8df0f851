"""Classifier inputs (arrays, lists of arrays, long frames) to validated, padded arrays.

The contract with the estimator: `to_sequences` turns any accepted input into a list of
float (C, L_i) arrays (one per series, lengths may differ) plus the series ids of a frame;
`pad_sequences` stacks them into (n, L, C) values with an (n, L) mask; `align_labels`
orders the labels like the series; `validation_split` holds some series out for validation.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import DataConversionWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import type_of_target

from s4ts.data.windows import MAX_NETWORK_INPUT, mean_and_std

__all__ = [
    "align_labels", "channel_statistics", "frame_to_sequences", "pad_sequences", "standardise",
    "to_sequences", "validation_split",
]

log = logging.getLogger(__name__)

ID_COL, TIME_COL = "id", "time"
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def frame_to_sequences(df: pd.DataFrame) -> tuple[list[np.ndarray], list[Any]]:
    """One (C, L_i) array per id of a long frame (id, time, value columns), ids in order of first appearance."""
    for col in (ID_COL, TIME_COL):
        if col not in df.columns:
            raise ValueError(
                f"a long DataFrame needs columns {ID_COL!r}, {TIME_COL!r} and one or more value "
                f"columns; column {col!r} is missing (got {list(df.columns)})"
            )
    value_cols = [c for c in df.columns if c not in (ID_COL, TIME_COL)]
    if not value_cols:
        raise ValueError(f"the DataFrame has no value column besides {ID_COL!r} and {TIME_COL!r}")
    bad = [c for c in value_cols if not pd.api.types.is_numeric_dtype(df[c])]
    if bad:
        raise TypeError(f"value columns must be numeric; columns {bad} are not")
    _check_keys(df)
    dup = df.duplicated([ID_COL, TIME_COL])
    if dup.any():
        row = df.index[dup.to_numpy().argmax()]
        raise ValueError(
            f"duplicate (id, time) at row {row!r} (id={df.loc[row, ID_COL]!r}, "
            f"time={df.loc[row, TIME_COL]!r}); each series needs one row per time stamp"
        )
    ids = list(pd.unique(df[ID_COL]))
    # Sorted by time only (ids of mixed types need no order); sort_values returns a copy,
    # so the user's frame is never reordered.
    ordered = df.sort_values(TIME_COL, kind="stable")
    groups = {
        k: g[value_cols].to_numpy(dtype=np.float64).T  # (C, L_i)
        for k, g in ordered.groupby(ID_COL, sort=False)
    }
    return [groups[i] for i in ids], ids


def _check_keys(df: pd.DataFrame) -> None:
    """Ids without gaps; times that order the steps: datetimes or numbers, none missing."""
    missing_id = df[ID_COL].isna().to_numpy()
    if missing_id.any():
        raise ValueError(f"id column {ID_COL!r} is missing at row {df.index[missing_id.argmax()]!r}")
    times = df[TIME_COL]
    ordered = pd.api.types.is_datetime64_any_dtype(times) or (
        pd.api.types.is_numeric_dtype(times) and not pd.api.types.is_bool_dtype(times)
    )
    if not ordered:
        raise TypeError(
            f"time column {TIME_COL!r} has dtype {times.dtype}; it must hold datetimes or numbers, "
            f"which order the steps (strings such as 't10' would sort before 't2'). Convert it "
            f"first, e.g. df[{TIME_COL!r}] = pd.to_datetime(df[{TIME_COL!r}])"
        )
    missing = times.isna().to_numpy()
    if missing.any():
        raise ValueError(f"time column {TIME_COL!r} is missing at row {df.index[missing.argmax()]!r}")


def _real_array(values: Any, where: str) -> np.ndarray:
    """`values` as float64, refusing what does not convert and complex numbers (whose
    imaginary part a float cast would drop)."""
    try:
        raw = np.asarray(values)
        if np.iscomplexobj(raw):
            raise ValueError(f"Complex data not supported: {where} holds complex numbers; pass real values (e.g. np.abs or .real)")
        return raw.astype(np.float64)
    except (TypeError, ValueError) as err:
        if "complex" in str(err):
            raise
        raise TypeError(
            f"{where} must be numbers: X is a 3D array (n, channels, length), a 2D array (n, "
            f"length), a list of (channels, length) arrays or a long DataFrame; got "
            f"{type(values).__name__} ({err})"
        ) from None


def _from_arrays(X: Any) -> list[np.ndarray]:
    """A list of (L_i,) / (C, L_i) arrays, or one (n, L) / (n, C, L) array -> list of (C, L_i)."""
    if hasattr(X, "tocsr") or hasattr(X, "todense"):  # scipy.sparse matrices and arrays
        raise TypeError("sparse input is not supported: series are dense; pass X.toarray()")
    if isinstance(X, (list, tuple)):
        series = []
        for i, s in enumerate(X):
            a = _real_array(s, f"X[{i}]")
            if a.ndim == 1:
                a = a[None, :]  # (1, L_i)
            if a.ndim != 2:
                raise ValueError(
                    f"X[{i}] has shape {a.shape}; each series must be (length,) or (channels, length)"
                )
            series.append(a)
        return series
    a = _real_array(X, "X")
    if a.ndim == 2:
        a = a[:, None, :]  # (n, 1, L)
    if a.ndim != 3:
        raise ValueError(
            f"X has {a.ndim} dimension(s) (shape {a.shape}); expected (n, channels, length) "
            "or (n, length). Reshape your data, e.g. X[None, :] for a single series"
        )
    return list(a)


def to_sequences(X: Any) -> tuple[list[np.ndarray], list[Any] | None]:
    """Validated float (C, L_i) arrays from any accepted input, plus the series ids of a long frame.

    Accepts a 3D array (n, C, L), a 2D array (n, L), a list of (C, L_i) or (L_i,) arrays, or
    a long DataFrame with columns 'id', 'time' and numeric value columns (one per channel).
    Every series must have the same channels, at least one step and only finite values.
    """
    if isinstance(X, pd.DataFrame):
        series, ids = frame_to_sequences(X)
    else:
        series, ids = _from_arrays(X), None
    if not series:
        raise ValueError("X holds no series")
    n_channels = series[0].shape[0]
    for i, s in enumerate(series):
        where = f"series {ids[i]!r}" if ids is not None else f"X[{i}]"
        if s.shape[0] != n_channels:
            raise ValueError(f"{where} has {s.shape[0]} channels but X[0] has {n_channels}")
        if s.shape[1] == 0:
            raise ValueError(f"{where} is empty; every series needs at least one step")
        if not np.isfinite(s).all():
            c, t = np.argwhere(~np.isfinite(s))[0]
            raise ValueError(
                f"{where} has a NaN or infinite value at channel {c}, step {t}; fill or drop "
                "missing values first (trailing NaN padding: pass a list of arrays of their "
                "true lengths instead)"
            )
        if np.abs(s).max() > _FLOAT32_MAX:
            c, t = np.argwhere(np.abs(s) > _FLOAT32_MAX)[0]
            raise ValueError(
                f"{where} has {s[c, t]:.3g} at channel {c}, step {t}, beyond float32's range "
                f"(±{_FLOAT32_MAX:.2g}) that the network computes in; divide X by a constant"
            )
    return series, ids


def pad_sequences(series: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Zero-pad (C, L_i) arrays at the end to one length: values (n, L, C) float32, mask (n, L) bool.

    Values beyond float32's range are refused first (see `to_sequences`)."""
    if not series:
        raise ValueError("pad_sequences needs at least one series")
    n, c = len(series), series[0].shape[0]
    length = max(s.shape[1] for s in series)
    values = np.zeros((n, length, c), dtype=np.float32)  # (n, L, C)
    mask = np.zeros((n, length), dtype=bool)  # (n, L), True at real steps
    for i, s in enumerate(series):
        values[i, : s.shape[1]] = s.T
        mask[i, : s.shape[1]] = True
    return values, mask


def channel_statistics(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (C,) of padded values (n, L, C) over the valid steps, in
    float64 (float32 squares overflow above 1e19); a constant channel gets scale 1."""
    mean, std = mean_and_std(values[mask].astype(np.float64), axis=0)  # (C,), (C,)
    return mean, np.where(std > 1e-8, std, 1.0)


def series_standardise(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Each series z-normalised per channel over its own valid steps: (n, L, C) -> (n, L, C)
    float64, padding kept at zero; a constant channel is centred only (scale 1)."""
    out = np.zeros(values.shape, dtype=np.float64)  # (n, L, C)
    for i in range(len(values)):  # one series at a time: float64 copies of one series only
        valid = values[i][mask[i]].astype(np.float64)  # (L_i, C)
        mean, std = mean_and_std(valid, axis=0)  # (C,), (C,)
        out[i][mask[i]] = (valid - mean) / np.where(std > 1e-8, std, 1.0)
    return out


def standardise(
    values: np.ndarray, mask: np.ndarray, mean: np.ndarray, scale: np.ndarray,
    ids: list[Any] | None, name: str,
) -> np.ndarray:
    """Padded values (n, L, C) standardised per channel as float32, padding kept at zero;
    refuses a series whose standardised values the float32 network cannot read."""
    out = np.empty(values.shape, dtype=np.float32)  # (n, L, C)
    for i in range(len(values)):  # one series at a time: float64 copies of one series only
        z = (values[i].astype(np.float64) - mean) / scale * mask[i, :, None]  # (L, C)
        beyond = np.abs(z) > MAX_NETWORK_INPUT
        if beyond.any():
            t, c = np.argwhere(beyond)[0]
            where = f"series {ids[i]!r}" if ids is not None else f"X[{i}]"
            raise ValueError(
                f"{name}: {where} reaches {values[i, t, c]:.3g} at channel {c}, step {t}: "
                f"{abs(z[t, c]):.3g} training standard deviations, beyond the "
                f"±{MAX_NETWORK_INPUT:.0e} the float32 network can read; divide X by a constant "
                "or clip outliers"
            )
        out[i] = z
    return out


def align_labels(y: Any, ids: list[Any] | None, n: int) -> np.ndarray:
    """Labels (n,) in the order of the series; a pd.Series indexed by the frame's ids is aligned by id."""
    if y is None:
        raise ValueError("a classifier requires y to be passed, but the target y is None")
    if ids is not None and isinstance(y, pd.Series) and set(ids) <= set(y.index):
        y = y.loc[ids]
    _check_label_types(y)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected: y (n, 1) is read as the "
            "labels (n,); pass y.ravel()",
            DataConversionWarning, stacklevel=3,
        )
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be one label per series (1D); got shape {y.shape}")
    if len(y) != n:
        raise ValueError(f"X holds {n} series but y has {len(y)} labels; they must match")
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(f"y has a NaN label at position {int(np.isnan(y).argmax())}")
    if y.dtype == object and pd.isna(y).any():
        raise ValueError(f"y has a missing label at position {int(pd.isna(y).argmax())}")
    if type_of_target(y) == "continuous":
        raise ValueError(
            "y holds continuous values (floats that are not whole numbers); a classifier needs "
            "class labels"
        )
    return y


def _check_label_types(y: Any) -> None:
    """Labels all strings or all numbers: a mix has no order, and numpy would turn 1 into '1'."""
    if isinstance(y, (str, bytes)) or not hasattr(y, "__iter__"):
        return  # a scalar: align_labels names the shape
    values = np.asarray(y, dtype=object).ravel()
    kinds = {type(v).__name__ for v in values if isinstance(v, (str, bytes))}
    others = {type(v).__name__ for v in values if not isinstance(v, (str, bytes))
              and not (pd.api.types.is_scalar(v) and pd.isna(v))}
    if kinds and others:
        raise TypeError(
            f"y mixes label types ({', '.join(sorted(kinds | others))}); use labels of one "
            "kind, e.g. y = [str(label) for label in y]"
        )


def validation_split(
    labels: np.ndarray, val_size: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and the validation series; `labels` (n,) are class indices 0..K-1.

    `val_size`: a float in [0, 1) is a fraction of the series, an int a count (0: no
    validation). The split is stratified by class where every class has two series and
    both parts can hold one of each. A fraction too small for one series per class in
    each part gives no validation (logged): early stopping on a few series is noise.
    """
    n, n_classes = len(labels), int(labels.max()) + 1
    everything = np.arange(n)
    if isinstance(val_size, (int, np.integer)):
        n_val = int(val_size)
        if not 0 <= n_val < n:
            raise ValueError(
                f"val_size={val_size!r} must leave series for training: there are {n}; "
                "pass a smaller count or a fraction"
            )
    else:
        n_val = round(val_size * n)
        if val_size > 0 and (n_val < n_classes or n - n_val < n_classes):
            log.warning(
                "too few series (%d) for a validation split of val_size=%s with %d classes; "
                "training without validation or early stopping", n, val_size, n_classes,
            )
            n_val = 0
    if n_val == 0:
        return everything, everything[:0]
    stratify = n_val >= n_classes and n - n_val >= n_classes and np.bincount(labels).min() >= 2
    train_idx, val_idx = train_test_split(
        everything, test_size=n_val, random_state=seed, stratify=labels if stratify else None
    )
    return train_idx, val_idx
