"""The sampling-rate policy: how many steps a horizon is at a series' rate, and when a rate
not seen in training aliases too much of what the model learned."""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Sequence
from datetime import timedelta

import numpy as np
import pandas as pd

from s4ts.data.frames import Freq, freq_name, step_size
from s4ts.forecasting.inference import SeriesState, groups, is_trained
from s4ts.nn.forecast_net import ForecastNet, horizon_steps_within

__all__ = [
    "ALIAS_ERROR", "ALIAS_WARN", "RateWarning", "check_rate_argument", "check_rates", "horizon_steps",
    "horizon_steps_of", "is_trained",
]

# Share of the SSM energy resolved at the training rate that aliases at a new rate: warn
# above the first, refuse above the second.
ALIAS_WARN = 0.2
ALIAS_ERROR = 0.5


class RateWarning(UserWarning):
    """A series is sampled so coarsely that part of what the model learned aliases."""


def check_rates(
    net: ForecastNet, uids: Sequence[Hashable], rates: Sequence[float], trained: Sequence[float], name: str
) -> None:
    """Apply the aliasing policy to series at `rates`."""
    for rate, members in groups(list(rates)).items():
        if is_trained(rate, trained):
            continue  # trained rates are what the model learned
        who = f"series {uids[members[0]]!r}" + (
            f" (and {len(members) - 1} more series)" if len(members) > 1 else ""
        )
        if rate <= 1:
            continue  # finer sampling never aliases
        fraction = net.backbone.aliased_fraction(rate)
        if fraction <= ALIAS_WARN:
            continue
        message = (
            f"{name}: {who} is sampled at rate {rate:g} (one of its steps spans {rate:g} "
            f"training steps), where {fraction:.0%} of the SSM energy the model resolves at rate 1 "
            f"aliases; the coarsest rate within {ALIAS_WARN:.0%} is max_rate(0.2) = "
            f"{net.backbone.max_rate(ALIAS_WARN):g}. Give the series at a finer frequency, "
            f"or fit a model at this one"
        )
        if fraction > ALIAS_ERROR:
            raise ValueError(message + f" (more than {ALIAS_ERROR:.0%} aliased: refused)")
        warnings.warn(message, RateWarning, stacklevel=4)


def horizon_steps(
    uid: Hashable,
    freq: Freq,
    rate: float,
    horizon: int | str | pd.Timedelta | timedelta | None,
    trained_horizon: int,
    trained: Sequence[float],
    datetime_time: bool,
) -> int:
    """Forecast steps of a regular series: `horizon` in its own steps, or a time span.

    The default is the trained horizon at a trained rate, else the same physical span."""
    if horizon is None:
        return trained_horizon if is_trained(rate, trained) else max(1, round(trained_horizon / rate))
    if isinstance(horizon, (int, np.integer)) and not isinstance(horizon, bool):
        if horizon < 1:
            raise ValueError(f"horizon={horizon!r} must be a positive number of steps")
        return int(horizon)
    if not datetime_time or not isinstance(horizon, (str, pd.Timedelta, timedelta)):
        raise ValueError(
            f"horizon={horizon!r} must be a positive integer (steps of each series) or, for "
            f"datetime time, a time span such as '1D' or pd.Timedelta(hours=6)"
        )
    try:
        span = pd.Timedelta(horizon).total_seconds()
    except ValueError as err:
        raise ValueError(f"horizon={horizon!r} is not a time span; pass e.g. '1D' or '6h'") from err
    steps = span / step_size(freq)
    if steps < 1 - 1e-9 or not math.isclose(steps, round(steps), rel_tol=1e-9):
        raise ValueError(
            f"horizon={horizon!r} is not a whole number of steps of series {uid!r} (step "
            f"{freq_name(freq)}); pass a span that is a multiple of its step, or an integer"
        )
    return round(steps)


def horizon_steps_of(
    uids: Sequence[Hashable],
    states: Sequence[SeriesState],
    horizon: int | str | pd.Timedelta | timedelta | None,
    trained_horizon: int,
    trained: Sequence[float],
    datetime_time: bool,
    linear: bool,
) -> list[int | None]:
    """Forecast steps of each series (None for irregular ones, which forecast at X_future rows)."""
    irregular = [uid for uid, st in zip(uids, states) if st.freq is None]
    if irregular and horizon is not None:
        raise ValueError(
            f"horizon={horizon!r} does not apply to series {irregular[0]!r}, which has "
            f"irregular timestamps; its forecast times are its rows in X_future"
        )
    steps = [
        None if st.freq is None
        else horizon_steps(uid, st.freq, st.rate, horizon, trained_horizon, trained, datetime_time)
        for uid, st in zip(uids, states)
    ]
    if not linear:
        return steps
    # The linear path forecasts the trained horizon's span: at most that many steps.
    for k, (uid, st) in enumerate(zip(uids, states)):
        if steps[k] is None:
            continue
        trained_rate = is_trained(st.rate, trained)
        most = trained_horizon if trained_rate else horizon_steps_within(trained_horizon, st.rate)
        if horizon is None:
            steps[k] = min(steps[k], most)
        elif steps[k] > most:
            span = "" if trained_rate else f" ({most} of this series' steps at rate {st.rate:g})"
            raise ValueError(
                f"horizon={horizon!r} asks for {steps[k]} steps of series {uid!r}, but the linear "
                f"path forecasts the trained horizon of {trained_horizon} steps{span}; ask for at "
                f"most {most} or fit with linear=False"
            )
    return steps


def check_rate_argument(rate: object) -> None:
    """`predict(rate=)` must be None or a positive finite number."""
    if rate is not None and (
        not isinstance(rate, (int, float, np.integer, np.floating))
        or isinstance(rate, bool)
        or not math.isfinite(rate)
        or rate <= 0
    ):
        raise ValueError(f"rate={rate!r} must be a positive number (data step / training step)")
