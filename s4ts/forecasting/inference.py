"""Forecasts from the last context window of each series: one convolution pass over the
context, then one recurrent step per horizon step (`ForecastNet.start` / `step`).

A forecast reads the last `context_length` steps before its origin, exactly as a training
window does, so `update` only has to keep that window: no pass over the whole history.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from s4ts.data.frames import Freq, SeriesData, time_gaps
from s4ts.data.windows import Featurizer
from s4ts.nn.forecast_net import ForecastNet, Timing

__all__ = [
    "Future", "SeriesState", "append_steps", "groups", "history_window", "is_trained", "one_pass", "run_forecasts",
    "truncate",
]

# Series are run through the network in chunks of about this many (series x steps): small
# enough for the activations to stay in cache (10,000 series of the default network:
# predict 7.5 s at 2**14, 17.9 s at 2**20, measured on 2 cores).
_MAX_BATCH_STEPS = 2**14


@dataclasses.dataclass
class SeriesState:
    """What forecasting a series after its last observation needs."""

    freq: Freq | None  # None: irregular timestamps
    loc: float  # global target scaling: y_scaled = (y - loc) / scale
    scale: float
    rate: float | None  # step of the series in training steps; None for irregular timestamps
    history: SeriesData  # the last context_length steps up to the forecast origin
    # the longer end that recalibrates the quantiles (`recalibration.recent_tail`), or None
    recent: SeriesData | None = None
    # the time of the last target the network trained on (later ones were held out or are
    # new), None when it trained on none of this series (`recalibration.trained_until`)
    trained_until: Any = None

    @property
    def last_time(self) -> Any:
        return self.history.times[-1]


@dataclasses.dataclass
class Future:
    """The steps to forecast for one series: times (H,) and future-known covariates (H, n_futr)."""

    times: pd.Index
    futr: np.ndarray


def groups(keys: Sequence[Hashable]) -> dict[Hashable, list[int]]:
    """Positions of each distinct key, in first-appearance order."""
    found: dict[Hashable, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        found[key].append(i)
    return found


def is_trained(rate: float, trained: Sequence[float]) -> bool:
    """Whether `rate` is one the model was trained at."""
    return any(math.isclose(rate, known, rel_tol=1e-9) for known in trained)


def history_window(
    series: SeriesData, context_length: int, rate: float | None, train_step: float, trained: Sequence[float]
) -> SeriesData:
    """The context of a forecast after a series, as long as a training window's.

    At a trained rate: its last `context_length` steps. At another rate: the same span of
    time, `context_length / rate` steps; an irregular series: its observations within the
    last `context_length` training steps of time (at least one)."""
    n = len(series.times)
    if rate is not None:
        steps = context_length if is_trained(rate, trained) else max(1, round(context_length / rate))
        first = max(0, n - steps)
    else:
        elapsed = np.concatenate([[0.0], np.cumsum(time_gaps(series.times))])  # (T,) since the start
        first = min(n - 1, int(np.searchsorted(elapsed, elapsed[-1] - context_length * train_step, "right")))
    keep = slice(first, None)
    return dataclasses.replace(
        series, times=series.times[keep], y=series.y[keep].copy(), covariates=series.covariates[keep].copy()
    )


def truncate(series: SeriesData, last: int) -> SeriesData:
    """The series up to and including position `last`; it must keep an observed value."""
    if np.isnan(series.y[: last + 1]).all():
        raise ValueError(
            f"series {series.uid!r} has no observed values up to {series.times[last]}; "
            f"a forecast from there has no history to start from"
        )
    return dataclasses.replace(
        series, times=series.times[: last + 1], y=series.y[: last + 1], covariates=series.covariates[: last + 1]
    )


def _encode(
    featurizer: Featurizer, state: SeriesState, future: Future, train_step: float
) -> tuple[np.ndarray, ...]:
    """Context inputs (n, C) and Δ (n,), horizon inputs (H, C) and Δ (H,) of a series."""
    h = state.history
    ctx = featurizer.encode((h.y - state.loc) / state.scale, h.covariates, h.times)  # (n, C)
    hidden = np.full((len(future.times), featurizer.n_hist), np.nan)
    x_future = featurizer.encode(
        np.full(len(future.times), np.nan), np.concatenate([future.futr, hidden], axis=1), future.times
    )  # (H, C): target and past-only covariates hidden
    if state.freq is not None:
        ctx_dt = np.full(len(h.times), state.rate, dtype=np.float32)
        future_dt = np.full(len(future.times), state.rate, dtype=np.float32)
    else:
        # As in training windows: the context's first step gets 1, later steps their gaps.
        ctx_dt = np.concatenate([[1.0], time_gaps(h.times) / train_step]).astype(np.float32)
        future_dt = time_gaps(pd.Index([h.times[-1]]).append(future.times)) / train_step
    return ctx, ctx_dt, x_future, future_dt.astype(np.float32)


@torch.no_grad()
def run_forecasts(
    net: ForecastNet,
    featurizer: Featurizer,
    states: Sequence[SeriesState],
    futures: Sequence[Future],
    train_step: float,
    trained: Sequence[float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalised head outputs (sum H_i, n_out) and the affine map back to the data's units:
    forecast = head(raw) * scale + shift, with shift and scale (sum H_i,) per forecast step."""
    net.eval()
    lengths = [len(f.times) for f in futures]
    width = max(lengths)
    encoded = [_encode(featurizer, st, f, train_step) for st, f in zip(states, futures)]
    n_out = net.backbone.decoder.out_features
    raw = np.zeros((len(states), width, n_out))  # (S, H, n_out)
    shift = np.zeros(len(states))
    scale = np.ones(len(states))
    # A constant Δ discretizes once per rate (every mode), so regular series step in batches
    # of one rate; irregular ones together, with a rate per row at each step (diagonal SSM).
    for rate, members in groups([st.rate for st in states]).items():
        span = max(len(encoded[i][0]) for i in members)
        # The linear path reads trained rates step by step (a full context; short series are
        # padded), other rates and irregular series in continuous time (`ForecastNet.linear_in_time`).
        linear_rate = 1.0 if rate is None or is_trained(rate, trained) else float(rate)
        if net.linear is not None and rate is not None and linear_rate == 1.0:
            span = max(span, net.context_length)
        chunk = max(1, _MAX_BATCH_STEPS // (span + width))
        for first in range(0, len(members), chunk):
            rows = members[first : first + chunk]
            # Contexts left-padded to one length (masked), horizons padded at the end.
            ctx = np.stack([_pad(encoded[i][0], span, left=True) for i in rows])  # (B, L, C)
            valid = np.stack([np.arange(span) >= span - len(encoded[i][0]) for i in rows])  # (B, L)
            ctx_dt = np.stack([_pad(encoded[i][1], span, left=True) for i in rows])  # (B, L)
            x = torch.from_numpy(np.stack([_pad(encoded[i][2], width) for i in rows]))  # (B, H, C)
            steps = torch.from_numpy(np.stack([_pad(encoded[i][3], width) for i in rows]))  # (B, H)
            timing = Timing(dt=torch.from_numpy(ctx_dt)) if rate is None else Timing(rate=float(rate))
            if one_pass(net, rate, linear_rate, span, width):
                window = torch.cat([torch.from_numpy(ctx), x], dim=1)  # (B, L + H, C)
                real = torch.cat([torch.from_numpy(valid), torch.ones(len(rows), width, dtype=torch.bool)], 1)
                out, window_shift, window_scale = net(window, timing, real)  # (B, H, n_out), (B, 1) x2
                raw[rows] = out.double().numpy()
                shift[rows] = window_shift[:, 0].double().numpy()
                scale[rows] = window_scale[:, 0].double().numpy()
                continue
            # Irregular series read the linear path at their forecast times.
            future_dt = steps if rate is None else None
            state = net.start(torch.from_numpy(ctx), timing, torch.from_numpy(valid), linear_rate, future_dt)
            for t in range(width):
                step_rate = float(rate) if rate is not None else steps[:, t]
                out, state = net.step(x[:, t], state, rate=step_rate)  # (B, n_out)
                raw[rows, t] = out.double().numpy()
            shift[rows] = state.shift[:, 0].double().numpy()
            scale[rows] = state.scale[:, 0].double().numpy()
    # Series with shorter horizons were padded at the end (causal: earlier steps unchanged).
    flat = np.concatenate([raw[i, :n] for i, n in enumerate(lengths)])  # (sum H_i, n_out)
    loc = np.array([st.loc for st in states])
    global_scale = np.array([st.scale for st in states])
    return (
        flat,
        np.repeat(shift * global_scale + loc, lengths),
        np.repeat(scale * global_scale, lengths),
    )


def one_pass(net: ForecastNet, rate: float | None, linear_rate: float, span: int, width: int) -> bool:
    """Whether a batch has a training window's shape (a trained rate, `context_length` context
    steps, `horizon` forecast steps): then one convolution pass over context + horizon gives
    what `start` + one `step` per horizon step gives, at a fraction of the cost (10,000 series:
    measured in benchmarks/results/scaling_v1)."""
    return rate is not None and linear_rate == 1.0 and (span, width) == (net.context_length, net.horizon)


def _pad(values: np.ndarray, width: int, left: bool = False) -> np.ndarray:
    """Pad (n, ...) to `width` steps, at the end or on the left: zeros, or ones for Δ (n,)."""
    if len(values) == width:
        return values
    fill = 1.0 if values.ndim == 1 else 0.0
    pad = np.full((width - len(values), *values.shape[1:]), fill, dtype=values.dtype)
    return np.concatenate([pad, values] if left else [values, pad])


def append_steps(
    history: SeriesData, new: SeriesData, context_length: int, rate: float | None, train_step: float,
    trained: Sequence[float],
) -> SeriesData:
    """The context after `history` followed by `new` (see `history_window`)."""
    joined = dataclasses.replace(
        history,
        times=history.times.append(new.times),
        y=np.concatenate([history.y, new.y]),
        covariates=np.concatenate([history.covariates, new.covariates]),
    )
    return history_window(joined, context_length, rate, train_step, trained)
