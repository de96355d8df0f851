"""Plots of S4Forecaster forecasts: history, forecast and the outer quantile band per series."""

from __future__ import annotations

import os
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING

import pandas as pd
from sklearn.utils.validation import check_is_fitted

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from s4ts.forecasting.estimator import S4Forecaster

__all__ = ["plot"]


def plot(
    est: S4Forecaster,
    forecasts: pd.DataFrame | None = None,
    df: pd.DataFrame | pd.Series | None = None,
    *,
    ids: Sequence[Hashable] | None = None,
    n_history: int | None = None,
    path: str | os.PathLike | None = None,
) -> Figure:
    """One panel per series: its history, the forecast and the outer quantile band."""
    from matplotlib.figure import Figure

    check_is_fitted(est)
    if forecasts is None:
        forecasts = est.predict(df)
    if df is None:
        history = {uid: (st.history.times, st.history.y) for uid, st in est.series_.items()}
    else:
        history = {s.uid: (s.times, s.y) for s in est._series(df, "df", kind=est.time_kind_)}
    ids = list(dict.fromkeys(forecasts[est.id_col])) if ids is None else list(ids)
    n_history = n_history or est.context_length_
    fig = Figure(figsize=(10, 2.8 * len(ids)), layout="constrained")
    axes = fig.subplots(len(ids), 1, squeeze=False)[:, 0]
    bands = est._quantile_cols
    levels = sorted(bands)
    for ax, uid in zip(axes, ids):
        if uid in history:
            times, values = history[uid]
            ax.plot(times[-n_history:], values[-n_history:], color="0.3", lw=1, label="history")
        part = forecasts[forecasts[est.id_col] == uid]
        if est.target_col in part and part[est.target_col].notna().any():
            ax.plot(part[est.time_col], part[est.target_col], color="0.3", lw=1, ls=":", label="actual")
        ax.plot(part[est.time_col], part[est._pred_col], color="C0", lw=1.5, label="forecast")
        if len(levels) >= 2:
            ax.fill_between(
                part[est.time_col], part[bands[levels[0]]], part[bands[levels[-1]]], color="C0",
                alpha=0.25, label=f"{levels[0]:g}-{levels[-1]:g} quantiles",
            )
        ax.set_title(str(uid))
        ax.set_ylabel(est.target_col)
        ax.legend(loc="upper left", fontsize="small")
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
