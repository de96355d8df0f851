"""S4Forecaster under the Informer protocol: fit on train + validation, score stride-1 windows.

The adapter only turns the protocol's splits into frames. The model is the estimator users
get: fit on the rows before the end of validation, with the validation rows held out
(`val_size`) for early stopping; every stride-1 forecast window of a split is then scored
through `historical_forecasts`, each origin reading its context from the rows before it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from s4ts.bench.informer.protocol import SPLITS, ProtocolData
from s4ts.forecasting import S4Forecaster
from s4ts.forecasting.horizon import pred_col

__all__ = ["fit_forecaster", "point_forecasts", "scores"]

# Forecast origins scored per `historical_forecasts` call (bounds the forecast frame's memory).
_ORIGINS_PER_CALL = 256


def fit_forecaster(data: ProtocolData, seq_len: int, horizon: int, params: dict) -> S4Forecaster:
    """S4Forecaster with `params` (its constructor arguments), trained on the train split with
    the validation split held out for early stopping. The data are already standardised, so
    the estimator's own scaler is off."""
    train_end, val_end, _ = data.ends
    model = S4Forecaster(horizon=horizon, context_length=seq_len, scaler=None,
                          val_size=val_end - train_end, **params)
    return model.fit(data.frame(val_end))


def point_forecasts(model: S4Forecaster, data: ProtocolData, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Point forecasts and true values (n,) of every stride-1 window whose targets lie in
    `split`, in one fixed order (origin by origin, columns within)."""
    end = data.ends[SPLITS.index(split)]
    count = data.n_origins(split, model.horizon)
    first = end - model.horizon - count + 1  # the first window's first target row
    preds, truth = [], []
    for start in range(0, count, _ORIGINS_PER_CALL):
        n = min(_ORIGINS_PER_CALL, count - start)
        stop = first + start + n - 1 + model.horizon  # the last window of this call ends here
        frame = model.historical_forecasts(data.frame(stop), n_windows=n, step=1)
        preds.append(frame[pred_col(model.target_col)].to_numpy())
        truth.append(frame[model.target_col].to_numpy())
    return np.concatenate(preds), np.concatenate(truth)


def scores(preds: Sequence[np.ndarray], truth: np.ndarray) -> tuple[float, float]:
    """MSE and MAE of the mean of several models' point forecasts (an ensemble of seeds)."""
    error = np.mean(preds, axis=0) - truth
    return float(np.mean(error**2)), float(np.mean(np.abs(error)))
