"""The horizon of a forecast: future times and covariates from X_future, and the forecast frame."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from s4ts.data.frames import future_times, to_long
from s4ts.forecasting.inference import Future, SeriesState
from s4ts.nn.distributions import Head, StudentTHead

__all__ = ["check_future_covariates", "forecast_frame", "futures_from", "pred_col", "quantile_cols"]


def pred_col(target_col: str) -> str:
    """Name of the point forecast column."""
    return f"{target_col}_pred"


def quantile_cols(target_col: str, quantiles: Sequence[float]) -> dict[float, str]:
    """Quantile level -> column name, e.g. 0.1 -> 'y_q0.1'."""
    return {float(q): f"{target_col}_q{float(q):g}" for q in quantiles}


def check_future_covariates(
    uid: Hashable, values: np.ndarray, times: pd.Index, futr_exog: Sequence[str], source: str
) -> None:
    """Future-known covariates (H, n_futr) must be complete over the horizon."""
    missing = np.isnan(values)
    if missing.any():
        step, column = np.argwhere(missing)[0]
        raise ValueError(
            f"{source} lacks {futr_exog[column]!r} for series {uid!r} at {times[step]} "
            f"({int(missing.any(axis=1).sum())} of {len(times)} horizon steps incomplete); "
            f"give every futr_exog column for all {len(times)} steps after the forecast origin"
        )


def futures_from(
    X_future: pd.DataFrame | None,
    uids: Sequence[Hashable],
    states: Sequence[SeriesState],
    steps: Sequence[int | None],
    futr_exog: Sequence[str],
    columns: dict[str, str],
) -> list[Future]:
    """Forecast times and future-known covariates of each series.

    Regular series forecast `steps[i]` steps of their frequency; irregular ones (steps None)
    at their timestamps in X_future."""
    futr = list(futr_exog)
    id_col, time_col = columns["id_col"], columns["time_col"]
    irregular = [uid for uid, st in zip(uids, states) if st.freq is None]
    if X_future is None and (futr or irregular):
        needs = f"the future-known covariates {futr}" if futr else "its future timestamps"
        raise ValueError(
            f"pass X_future with columns {id_col!r}, {time_col!r}"
            f"{f' and {futr}' if futr else ''} for the forecast steps after the end of each "
            f"series: the model needs {needs}"
            + (f" (series {irregular[0]!r} has irregular timestamps)" if irregular else "")
        )
    if X_future is not None and not futr and not irregular:
        raise ValueError("X_future was given but the model has no futr_exog columns to read from it")
    given_by_id = {}
    if X_future is not None:
        frame = to_long(X_future, covariates=futr, name="X_future", require_target=False, **columns)
        given_by_id = {uid: g.set_index(time_col)[futr] for uid, g in frame.groupby(id_col, sort=False)}
    out = []
    for uid, st, n_steps in zip(uids, states, steps):
        given = given_by_id.get(uid)
        if given is not None:
            _check_clock(uid, given.index, st.last_time, time_col)
        if st.freq is None:
            _check_irregular_times(uid, given, st.last_time, time_col)
            times, values = given.index, given.to_numpy(float)
        else:
            times = future_times(st.last_time, st.freq, n_steps)
            values = (
                given.reindex(times).to_numpy(float)
                if given is not None
                else np.full((len(times), len(futr)), np.nan)
            )
        if futr:
            check_future_covariates(uid, values, times, futr, "X_future")
        out.append(Future(times, values))
    return out


def _check_irregular_times(uid: Hashable, given: pd.DataFrame | None, last_time, time_col: str) -> None:
    """An irregular series forecasts at its X_future rows: there must be some, all after its end."""
    if given is None:
        raise ValueError(
            f"X_future has no rows for series {uid!r}, which has irregular timestamps, so its "
            f"forecast times are its X_future rows: add rows ({time_col!r} after its last "
            f"observation at {last_time})"
        )
    early = given.index[given.index <= last_time]
    if len(early):
        raise ValueError(
            f"X_future: series {uid!r} asks for a forecast at {early[0]} ({len(early)} such "
            f"row{'s' if len(early) > 1 else ''}), not after its last observation at {last_time}; "
            f"an irregular series forecasts at X_future times after its history"
        )


def _check_clock(uid: Hashable, times: pd.Index, last_time, time_col: str) -> None:
    """X_future's times must be of the series' kind and time zone, or no row can match."""
    datetime_series = isinstance(last_time, pd.Timestamp)
    if datetime_series != isinstance(times, pd.DatetimeIndex):
        kinds = ("datetime", "integer") if datetime_series else ("integer", "datetime")
        raise ValueError(
            f"X_future: {time_col!r} of series {uid!r} holds {kinds[1]} time, but the series has "
            f"{kinds[0]} timestamps; give X_future's times of the same kind"
        )
    if datetime_series and str(times.tz) != str(last_time.tz):
        raise ValueError(
            f"X_future: {time_col!r} of series {uid!r} is in time zone {times.tz}, but the series "
            f"is in {last_time.tz} (last observation {last_time}); give X_future's times in the "
            f"series' time zone (e.g. .dt.tz_convert, or .dt.tz_localize(None) for naive times)"
        )


def forecast_frame(
    uids: Sequence[Hashable],
    futures: Sequence[Future],
    head: Head,
    raw: np.ndarray,
    shift: np.ndarray,
    scale: np.ndarray,
    *,
    columns: dict[str, str],
    quantiles: Sequence[float],
    num_samples: int | None = None,
    random_state=None,
    floor: float | None = None,
    widths: np.ndarray | None = None,
) -> pd.DataFrame:
    """Forecast frame (id, time, point, quantile columns) from head outputs raw (sum H_i, n_out)
    mapped to the data's units by `* scale + shift` (sum H_i,); or sample paths. Values below
    `floor` (e.g. 0 for counts) are raised to it. `widths` (S, Q): a quantile head's widths
    per series (`recalibration.recent_widths`) in place of its own."""
    low = -np.inf if floor is None else floor
    lengths = [len(f.times) for f in futures]
    target = columns["target_col"]
    frame = pd.DataFrame(
        {
            columns["id_col"]: pd.Index(list(uids)).repeat(lengths),
            columns["time_col"]: futures[0].times.append([f.times for f in futures[1:]]),
        }
    )
    if num_samples is not None:
        if not isinstance(head, StudentTHead):
            raise ValueError(
                f"num_samples needs distribution='student_t'; the {head.config()['kind']} head has no density"
            )
        if not isinstance(num_samples, (int, np.integer)) or isinstance(num_samples, bool) or num_samples < 1:
            raise ValueError(f"num_samples={num_samples!r} must be a positive integer")
        draws = head.sample(raw, num_samples, check_random_state(random_state)) * scale + shift  # (n, sum H_i)
        out = frame.loc[np.tile(np.arange(len(frame)), num_samples)].reset_index(drop=True)
        out.insert(2, "sample", np.repeat(np.arange(num_samples), len(frame)))
        out[target] = np.maximum(draws.reshape(num_samples, -1).ravel(), low)
        return out
    frame[pred_col(target)] = np.maximum(head.point(raw) * scale + shift, low)
    if quantiles:
        if widths is None:
            values = head.quantile(raw, list(quantiles))
        else:
            values = head.quantile(raw, list(quantiles), widths=np.repeat(widths, lengths, axis=0))
        values = values * scale[:, None] + shift[:, None]  # (sum H_i, Q)
        values = np.maximum(values, low)
        for k, column in enumerate(quantile_cols(target, quantiles).values()):
            frame[column] = values[:, k]
    return frame
