"""Forecast accuracy metrics (point and probabilistic) and the seasonal-naive reference.

Every metric ignores positions where the truth is NaN (missing observations).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "coverage",
    "crps_from_quantiles",
    "crps_from_samples",
    "evaluate",
    "mae",
    "mase",
    "mse",
    "naive_scale",
    "quantile_loss",
    "seasonal_naive",
    "smape",
]


def _arrays(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """Float arrays of truth and prediction restricted to observed truth."""
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_pred.shape[: y_true.ndim] != y_true.shape:
        raise ValueError(f"y_pred has shape {y_pred.shape}, which does not start with y_true's {y_true.shape}")
    observed = ~np.isnan(y_true)
    return y_true[observed], y_pred[observed]


def mae(y_true, y_pred) -> float:
    """Mean absolute error."""
    y_true, y_pred = _arrays(y_true, y_pred)
    return float(np.mean(np.abs(y_true - y_pred)))


def mse(y_true, y_pred) -> float:
    """Mean squared error."""
    y_true, y_pred = _arrays(y_true, y_pred)
    return float(np.mean((y_true - y_pred) ** 2))


def smape(y_true, y_pred) -> float:
    """Symmetric mean absolute percentage error in percent (0 to 200), as in the M4 competition."""
    y_true, y_pred = _arrays(y_true, y_pred)
    denominator = np.abs(y_true) + np.abs(y_pred)
    # 0/0 (both zero) is a perfect forecast, not an undefined one.
    ratio = np.divide(
        2 * np.abs(y_true - y_pred), denominator, out=np.zeros_like(denominator), where=denominator > 0
    )
    return float(100 * np.mean(ratio))


def naive_scale(history, season: int) -> float:
    """MASE's scale: the in-sample mean absolute error of the seasonal-naive forecast of
    `history`, over the pairs (t - season, t) both observed; NaN when there are none."""
    history = np.asarray(history, dtype=float)
    if season < 1:
        raise ValueError(f"season={season} must be a positive number of steps")
    current, lagged = history[season:], history[: len(history) - season]
    both = ~np.isnan(current) & ~np.isnan(lagged)
    return float(np.mean(np.abs(current[both] - lagged[both]))) if both.any() else float("nan")


def _checked_scale(y_train, season: int) -> float:
    """`naive_scale` of a training history that must be longer than the season."""
    if len(y_train) <= season:
        raise ValueError(
            f"MASE needs a training history longer than the season ({season} steps); got {len(y_train)}"
        )
    return naive_scale(y_train, season)


_FLAT_MESSAGE = (
    "MASE is undefined for {what}: its seasonal-naive error (season {season}) is 0 or NaN, as "
    "for a flat history; MASE is NaN there"
)


def mase(y_true, y_pred, y_train, season: int = 1) -> float:
    """Mean absolute scaled error: MAE over the in-sample MAE of the seasonal-naive forecast.

    NaN, with a warning, when that scale is 0 (a flat history, e.g. intermittent demand with
    no sales) or undefined: the error has no unit to be measured in."""
    scale = _checked_scale(y_train, season)
    if not scale > 0:
        warnings.warn(_FLAT_MESSAGE.format(what="the training history", season=season), stacklevel=2)
        return float("nan")
    return mae(y_true, y_pred) / scale


def quantile_loss(y_true, q_pred, quantiles: Sequence[float]) -> float:
    """Mean pinball loss over positions and quantile levels; q_pred has shape (*y_true.shape, Q)."""
    levels = np.asarray(quantiles, dtype=float)
    y_true, q_pred = _arrays(y_true, q_pred)
    if q_pred.shape[-1] != len(levels):
        raise ValueError(f"q_pred has {q_pred.shape[-1]} quantiles but {len(levels)} levels were given")
    error = y_true[..., None] - q_pred  # (n, Q)
    return float(np.mean(np.maximum(levels * error, (levels - 1) * error)))


def crps_from_quantiles(y_true, q_pred, quantiles: Sequence[float]) -> float:
    """CRPS approximated on the given quantile levels: twice the mean pinball loss."""
    return 2 * quantile_loss(y_true, q_pred, quantiles)


def crps_from_samples(y_true, samples) -> float:
    """CRPS estimated from samples (n_samples first): E|X - y| - E|X - X'| / 2."""
    samples = np.asarray(samples, dtype=float)
    y_true, samples = _arrays(y_true, np.moveaxis(samples, 0, -1))  # (n, S)
    accuracy = np.mean(np.abs(samples - y_true[:, None]), axis=1)
    # E|X - X'| from sorted samples in O(S log S): sum_i (2i - S + 1) x_(i) * 2 / S^2.
    ordered = np.sort(samples, axis=1)
    n = ordered.shape[1]
    weights = 2 * np.arange(n) - n + 1
    spread = 2 * np.sum(weights * ordered, axis=1) / n**2
    return float(np.mean(accuracy - spread / 2))


def coverage(y_true, lower, upper) -> float:
    """Share of observed truths inside [lower, upper]."""
    y_true = np.asarray(y_true, dtype=float)
    bounds = np.stack([np.asarray(lower, float), np.asarray(upper, float)], axis=-1)
    y_true, bounds = _arrays(y_true, bounds)
    return float(np.mean((bounds[:, 0] <= y_true) & (y_true <= bounds[:, 1])))


def seasonal_naive(history, horizon: int, season: int) -> np.ndarray:
    """Forecast each of the next `horizon` steps by the value one season earlier."""
    history = np.asarray(history, dtype=float)
    if len(history) < season:
        raise ValueError(f"seasonal_naive needs at least one season ({season} steps) of history")
    last_season = history[len(history) - season :]
    return last_season[np.arange(horizon) % season]


def evaluate(
    forecasts: pd.DataFrame,
    train: pd.DataFrame,
    *,
    id_col: str,
    target_col: str,
    pred_col: str,
    quantile_cols: dict[float, str] | None = None,
    season: int = 1,
) -> dict[str, float]:
    """Score a forecast frame against its truth column: mae, mse, mase, smape (+ quantile metrics).

    `train` holds the history of each series (id and target columns) that scales MASE per
    series; MASE is averaged over series. With `quantile_cols` (level -> column) it adds
    quantile_loss, crps (from those quantiles) and coverage of the outer quantile band.
    """
    y, pred = forecasts[target_col].to_numpy(float), forecasts[pred_col].to_numpy(float)
    scores = {"mae": mae(y, pred), "mse": mse(y, pred), "smape": smape(y, pred)}
    history = train.groupby(id_col, sort=False)[target_col]
    scaled, flat = [], []
    for uid, group in forecasts.groupby(id_col, sort=False):
        scale = _checked_scale(history.get_group(uid), season)
        if not scale > 0:
            flat.append(uid)
            continue
        scaled.append(mae(group[target_col], group[pred_col]) / scale)
    if flat:
        what = f"series {flat[:5]!r} ({len(flat)} of {len(flat) + len(scaled)})"
        warnings.warn(_FLAT_MESSAGE.format(what=what, season=season) + ", and the mean is over "
                      "the other series", stacklevel=2)
    scores["mase"] = float(np.mean(scaled)) if scaled else float("nan")
    if quantile_cols:
        levels = sorted(quantile_cols)
        q_pred = forecasts[[quantile_cols[q] for q in levels]].to_numpy(float)
        scores["quantile_loss"] = quantile_loss(y, q_pred, levels)
        scores["crps"] = crps_from_quantiles(y, q_pred, levels)
        scores["coverage"] = coverage(y, q_pred[:, 0], q_pred[:, -1])
    return scores
