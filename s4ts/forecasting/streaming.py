"""New observations for `S4Forecaster.update`: validated, on each known series' own grid."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

import pandas as pd

from s4ts.data.cross_series import with_cross_series
from s4ts.data.frames import (
    SeriesData,
    future_times,
    series_columns,
    series_on_grid,
    series_rows,
    time_kind,
    to_long,
)
from s4ts.forecasting.reading import check_series_range

if TYPE_CHECKING:
    from s4ts.forecasting.estimator import S4Forecaster

__all__ = ["new_steps"]


def new_steps(est: S4Forecaster, new_observations: pd.DataFrame | pd.Series) -> dict[Hashable, SeriesData]:
    """The rows after the end of each known series, per series id; nothing is applied yet, so
    an error in one series leaves every stored context as it was."""
    long = to_long(new_observations, covariates=est._covariates, name="new_observations", **est._columns)
    found = time_kind(long[est.time_col])
    if found != est.time_kind_:
        raise ValueError(
            f"new_observations: time column {est.time_col!r} holds {found} time but the model "
            f"was fitted on {est.time_kind_} time; give timestamps of the same kind"
        )
    times, y, cov = series_columns(long, time_col=est.time_col, target_col=est.target_col, covariates=est._covariates)
    updated = {}
    for uid, rows in series_rows(long, est.id_col):
        st = est.series_.get(uid)
        if st is None:
            raise ValueError(
                f"new_observations: series {uid!r} was not seen in fit; forecast it with "
                f"predict(df=its history) instead"
            )
        first = times[rows[0]]
        try:
            later = first > st.last_time
        except TypeError as err:
            raise ValueError(
                f"new_observations: series {uid!r} has a row at {first!r}, which cannot be "
                f"compared with its last known time {st.last_time!r} ({err}); give timestamps "
                f"of the same kind and time zone as in fit"
            ) from None
        if not later:
            raise ValueError(
                f"new_observations: series {uid!r} has a row at {first}, not after its last "
                f"known time {st.last_time}; pass only newer observations"
            )
        irregular = st.freq is None
        updated[uid] = series_on_grid(
            uid, times[rows], y[rows], cov[rows], freq=st.freq, time_grid="irregular" if irregular else "regular",
            start=None if irregular else future_times(st.last_time, st.freq, 1)[0],
        )
    if est.cross_series:
        crossed = with_cross_series(list(updated.values()), list(est.series_), "new_observations")
        updated = {s.uid: s for s in crossed}
    for uid, s in updated.items():
        st = est.series_[uid]
        check_series_range(est, "new_observations", s, st.loc, st.scale, est.featurizer_)
    return updated
