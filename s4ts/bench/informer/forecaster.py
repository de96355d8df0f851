"""S4Forecaster under the Informer protocol: fit on train + validation, score stride-1 windows.

The adapter only turns the protocol's splits into frames. The model is the estimator users
get: fit on the rows before the end of validation, with the validation rows held out
(`val_size`) for early stopping; every stride-1 forecast window of a split is then scored
through `historical_forecasts`, each origin reading its context from the rows before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from s4ts.bench.informer.protocol import SPLITS, ProtocolData
from s4ts.forecasting import S4Forecaster
from s4ts.forecasting.horizon import pred_col

__all__ = ["Trial", "fit_forecaster", "point_forecasts", "scored_on_validation", "scores", "train_s4"]

# Forecast origins scored per `historical_forecasts` call (bounds the forecast frame's memory).
_ORIGINS_PER_CALL = 256


@dataclass
class Trial:
    """One trained configuration and its score on every validation window."""

    overrides: dict  # what was chosen; `seq_len` for the context length
    seq_len: int
    model: Any  # S4Forecaster or the linear baseline
    val_mse: float
    val_preds: np.ndarray | None = None  # (n,) point forecasts of the validation windows
    val_truth: np.ndarray | None = None  # (n,) their true values, in the same order


# The protocol standardises the data itself and scores point forecasts only: the estimator's
# scaler is off, and its quantiles are not recalibrated at every origin (8 extra windows each).
PROTOCOL_SETTINGS = {"scaler": None, "calibrate_quantiles": False}


def fit_forecaster(data: ProtocolData, seq_len: int, horizon: int, params: dict) -> S4Forecaster:
    """S4Forecaster with `params` (its constructor arguments, over `PROTOCOL_SETTINGS`), trained
    on the train split with the validation split held out for early stopping."""
    train_end, val_end, _ = data.ends
    model = S4Forecaster(horizon=horizon, context_length=seq_len, val_size=val_end - train_end,
                         **{**PROTOCOL_SETTINGS, **params})
    return model.fit(data.frame(val_end))


def point_forecasts(model: S4Forecaster, data: ProtocolData, split: str,
                    stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Point forecasts and true values (n,) of the windows whose targets lie in `split`: every
    one (`stride` 1) or every `stride`-th from the first, in one fixed order (origin by origin,
    columns within)."""
    end = data.ends[SPLITS.index(split)]
    count = data.n_origins(split, model.horizon)  # stride-1 windows
    first = end - model.horizon - count + 1  # the first window's first target row
    total = (count - 1) // stride + 1
    preds, truth = [], []
    for start in range(0, total, _ORIGINS_PER_CALL):
        n = min(_ORIGINS_PER_CALL, total - start)
        stop = first + stride * (start + n - 1) + model.horizon  # the last window of this call ends here
        frame = model.historical_forecasts(data.frame(stop), n_windows=n, step=stride)
        preds.append(frame[pred_col(model.target_col)].to_numpy())
        truth.append(frame[model.target_col].to_numpy())
    return np.concatenate(preds), np.concatenate(truth)


def scores(preds: Sequence[np.ndarray], truth: np.ndarray) -> tuple[float, float]:
    """MSE and MAE of the mean of several models' point forecasts (an ensemble of seeds)."""
    error = np.mean(preds, axis=0) - truth
    return float(np.mean(error**2)), float(np.mean(np.abs(error)))


def scored_on_validation(model: S4Forecaster, data: ProtocolData, overrides: dict, stride: int = 1) -> Trial:
    """A fitted S4Forecaster's Trial: its forecasts and MSE on every `stride`-th validation window."""
    preds, truth = point_forecasts(model, data, "validation", stride)
    return Trial(overrides, model.context_length, model, scores([preds], truth)[0], preds, truth)


def train_s4(data: ProtocolData, seq_len: int, horizon: int, params: dict, overrides: dict,
             stride: int = 1) -> Trial:
    """S4Forecaster with `params` and then `overrides` (which may set seq_len), scored on every
    `stride`-th validation window."""
    seq_len = overrides.get("seq_len", seq_len)
    settings = {**params, **{k: v for k, v in overrides.items() if k != "seq_len"}}
    return scored_on_validation(fit_forecaster(data, seq_len, horizon, settings), data, overrides, stride)
