"""The forecasting network: window normalisation, causal S4 backbone, linear path, head.

A window is `context_length` steps of history followed by `horizon` forecast steps whose
target and past-only inputs are hidden (zero). Channel 0 of the input is the target, channel
1 says where it was observed; the other channels are covariates and calendar features.

    z      = (y - shift) / scale              shift, scale from the observed context (per row)
    raw    = backbone([z, observed, ...])     (B, W, n_out), read at the horizon steps
    raw   += linear(z_context)                the optional linear context -> horizon path
    output = head(raw) * scale + shift        quantiles, point and samples (affine in shift/scale)

The network sees shapes, not levels (RevIN; NLinear for `norm="last"`); its loss and the
linear path's least-squares fit are taken after mapping back to the data's units, so a flat
context (tiny scale) cannot blow up. The backbone is
causal, so a forecast can also be made by running the context through the convolution once
(`start`) and then one recurrent step per horizon step (`step`), which gives the same outputs.
The linear path maps `context_length` steps to `linear_horizon` steps (the horizon on
regular grids) of the rate it was trained at. At another rate, and for irregular timestamps
(per-step Δ), it is read in continuous time (`linear_in_time`): the context interpolated
onto the trained grid, mapped, and the forecast interpolated to the asked times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from s4ts.nn.backbone import S4Backbone
from s4ts.nn.resample import interpolate, window_times
from s4ts.nn.ridge import PrefixRidgeFit, RidgeFit
from s4ts.ssm.kernel import Rate

__all__ = ["MIN_WINDOW_SCALE", "NORMS", "ForecastNet", "ForecastState", "Timing", "horizon_steps_within", "normalise_context"]

NORMS = ("none", "mean", "last")
# Floor of the window scale: a flat context divides by this instead of by zero.
# The smallest spread a window is normalised by: flatter contexts are read as flat.
MIN_WINDOW_SCALE = 1e-5


@dataclass
class Timing:
    """How Δ advances along a batch, decided once per batch: one rate, a rate per row, or a
    multiplier per step (irregular timestamps, diagonal SSM only)."""

    rate: Rate = 1.0  # float, or (B,) tensor
    dt: Tensor | None = None  # (B, L) per-step multipliers; None on regular grids

    @classmethod
    def from_steps(cls, dt: Tensor, regular: Tensor) -> Timing:
        """From per-step multipliers dt (B, L) and a per-row flag regular (B,) (constant Δ)."""
        if not bool(regular.all()):
            return cls(dt=dt)
        rate = dt[:, 0]  # (B,)
        return cls(rate=float(rate[0]) if bool((rate == rate[0]).all()) else rate)

    def slice(self, start: int, stop: int | None = None) -> Timing:
        """The timing of steps [start, stop) of every row."""
        return Timing(self.rate, None if self.dt is None else self.dt[:, start:stop])

    def at(self, t: int) -> Rate:
        """The rate of step t: a float or (B,) tensor."""
        return self.rate if self.dt is None else self.dt[:, t]


def normalise_context(
    y: Tensor, observed: Tensor, norm: str
) -> tuple[Tensor, Tensor, Tensor]:
    """Shift and scale (B, 1) of each row's observed context y (B, L), and y normalised by them.

    "mean": mean and standard deviation (RevIN); "last": the last observed value and the
    standard deviation (NLinear, scaled); "none": 0 and 1. Unobserved steps are zero in z.
    """
    if norm not in NORMS:
        raise ValueError(f"norm={norm!r} must be one of {NORMS}")
    weight = observed.to(y.dtype)  # (B, L)
    count = weight.sum(dim=1, keepdim=True).clamp_min(1.0)  # (B, 1)
    mean = (y * weight).sum(dim=1, keepdim=True) / count  # (B, 1)
    if norm == "none":
        shift, scale = torch.zeros_like(mean), torch.ones_like(mean)
    else:
        var = (((y - mean) * weight) ** 2).sum(dim=1, keepdim=True) / count
        scale = torch.sqrt(var + MIN_WINDOW_SCALE**2)  # (B, 1)
        if norm == "mean":
            shift = mean
        else:
            # Index of the last observed step of each row (0 when none is observed).
            steps = torch.arange(y.shape[1], device=y.device)
            last = torch.where(observed, steps, torch.zeros_like(steps)).amax(dim=1, keepdim=True)
            shift = y.gather(1, last)  # (B, 1)
    z = (y - shift) / scale * weight  # (B, L)
    return z, shift, scale


def horizon_steps_within(horizon: int, rate: float) -> int:
    """Steps of a series at `rate` (its step / the trained step) within `horizon` trained steps."""
    return math.floor(horizon / rate + 1e-9)


@dataclass
class ForecastState:
    """What stepping through a horizon needs after a context: per-layer recurrent states, the
    window's shift and scale (B, 1) and the linear path's forecast (B, horizon) or None."""

    states: list
    shift: Tensor
    scale: Tensor
    linear: Tensor | None
    steps: int = 0  # horizon steps taken so far


class ForecastNet(nn.Module):
    """Context + horizon window (B, W, C) -> normalised head outputs at the horizon (B, H, n_out).

    `n_outputs` raw values per step feed a distribution head; `location_outputs` are the ones
    the linear path adds to (every quantile, or a Student-t's location). `normalised_inputs`
    are input channels (other series' values) normalised like the target, each by its own
    context, and hidden (zero) over the horizon. `linear_horizon`: trained steps the linear
    path forecasts (default `horizon`; longer for irregular series, whose `horizon` forecast
    steps can span more time).
    """

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        context_length: int,
        horizon: int,
        *,
        norm: str = "mean",
        linear: bool = False,
        linear_horizon: int | None = None,
        location_outputs: list[int] | None = None,
        normalised_inputs: list[int] | None = None,
        d_model: int = 64,
        n_layers: int = 4,
        d_state: int = 64,
        mode: str = "diag",
        init: str | None = "legs",
        dropout: float = 0.1,
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
        ssm_lr: float | None = 1e-3,
    ) -> None:
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm={norm!r} must be one of {NORMS}")
        self.context_length = context_length
        self.horizon = horizon
        self.norm = norm
        self.location_outputs = list(range(n_outputs)) if location_outputs is None else location_outputs
        self.normalised_inputs = list(normalised_inputs or [])
        # Causal: a forecast depends on its context only through the recurrent state.
        self.backbone = S4Backbone(
            n_inputs, n_outputs, d_model=d_model, n_layers=n_layers, d_state=d_state, mode=mode,
            init=init, dropout=dropout, prenorm=True, bidirectional=False, dt_min=dt_min,
            dt_max=dt_max, ssm_lr=ssm_lr,
        )
        self.linear = None
        if linear:
            # Zero until `fit_linear_path` sets its least-squares start.
            self.linear = nn.Linear(context_length, linear_horizon or horizon)
            nn.init.zeros_(self.linear.weight)
            nn.init.zeros_(self.linear.bias)
            # S4's output starts at zero too, so training starts at exactly the least-squares
            # forecast and S4 learns what it misses (zero-init residual branch); a random
            # output would first add noise that training has to remove.
            nn.init.zeros_(self.backbone.decoder.weight)
            nn.init.zeros_(self.backbone.decoder.bias)

    def _normalise(
        self, x: Tensor, valid: Tensor | None = None, lc: int | None = None
    ) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """Inputs with channel 0 normalised by the first `lc` steps (the context; default
        context_length), the normalised context z (B, lc), where it was observed (B, lc), and
        its shift and scale (B, 1). Steps outside `valid` (B, W) count as unobserved."""
        observed = x[..., 1] > 0.5  # (B, W)
        if valid is not None:
            observed = observed & valid[:, : x.shape[1]]
        lc = self.context_length if lc is None else lc
        z, shift, scale = normalise_context(x[:, :lc, 0], observed[:, :lc], self.norm)
        values = (x[..., 0] - shift) / scale * observed  # (B, W): 0 where hidden
        inputs = torch.cat([values[..., None], x[..., 1:]], dim=-1)  # (B, W, C)
        if self.normalised_inputs:
            inputs[..., self.normalised_inputs] = self._normalise_others(x, valid, lc)
        return inputs, z, observed[:, :lc], shift, scale

    def _normalise_others(self, x: Tensor, valid: Tensor | None, lc: int) -> Tensor:
        """The `normalised_inputs` channels (B, W, K), each normalised by its own first `lc`
        steps and zero after them (hidden over the horizon, as the target is)."""
        b, w, k = x.shape[0], x.shape[1], len(self.normalised_inputs)
        others = x[:, :lc, self.normalised_inputs].transpose(1, 2).reshape(b * k, lc)  # (B K, lc)
        real = torch.ones_like(others, dtype=torch.bool) if valid is None else (
            valid[:, :lc].repeat_interleave(k, dim=0))  # (B K, lc)
        z, _, _ = normalise_context(others, real, self.norm)
        out = x.new_zeros(b, w, k)
        out[:, :lc] = z.reshape(b, k, lc).transpose(1, 2)
        return out

    def _add_linear(self, raw: Tensor, linear: Tensor) -> Tensor:
        """raw (B, H, n_out) with the linear forecast (B, H) added to the location outputs."""
        offset = torch.zeros_like(raw)
        offset[..., self.location_outputs] = linear[..., None]
        return raw + offset

    def forward(
        self, x: Tensor, timing: Timing | None = None, valid: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Window x (B, Lc + H, C) -> raw (B, H, n_out), shift (B, 1), scale (B, 1).

        `valid` (B, W) marks real steps (False: left padding of short series)."""
        timing = timing or Timing()
        inputs, z, observed, shift, scale = self._normalise(x, valid)
        mask = None if valid is None or bool(valid.all()) else valid
        raw = self.backbone(inputs, rate=timing.rate, dt=timing.dt, mask=mask)[:, self.context_length :]
        if self.linear is not None:
            if timing.dt is None:
                linear = self.linear(z)  # (B, H)
            else:
                linear = self.linear_in_time(z, *window_times(timing.dt, self.context_length), observed)
            raw = self._add_linear(raw, linear)
        return raw, shift, scale

    def start(
        self, context: Tensor, timing: Timing | None = None, valid: Tensor | None = None,
        linear_rate: float = 1.0, future_dt: Tensor | None = None,
    ) -> ForecastState:
        """Run a context (B, L, C) through the convolution; the state to step the horizon from.

        Any L will do: a series at another rate reads the same span of time, `context_length /
        rate` of its steps. `linear_rate`: the context's step in steps of the linear path's
        training rate (1 at a trained rate, where the context must be `context_length` long).
        Irregular contexts (`timing.dt`) need the forecast steps' Δ `future_dt` (B, H') for the
        linear path, which is read at those times."""
        timing = timing or Timing()
        inputs, z, observed, shift, scale = self._normalise(context, valid, context.shape[1])
        mask = None if valid is None or bool(valid.all()) else valid
        _, states = self.backbone(inputs, rate=timing.rate, dt=timing.dt, mask=mask, return_state=True)
        linear = None
        if self.linear is not None and timing.dt is not None:
            if future_dt is None:
                raise ValueError("an irregular context needs future_dt, the forecast steps' Δ, for the linear path")
            times = window_times(torch.cat([timing.dt, future_dt], dim=1), context.shape[1])
            linear = self.linear_in_time(z, *times, observed)  # (B, H')
        elif self.linear is not None:
            linear = self.linear_forecast(z, linear_rate)  # (B, H')
        return ForecastState(states, shift, scale, linear)

    def linear_forecast(self, z: Tensor, rate: float = 1.0) -> Tensor:
        """The linear path's forecast (B, H') from a normalised context z (B, L') whose steps are
        `rate` trained steps apart. At rate 1 it is the map itself (L' = context_length, H' =
        linear_horizon). At another rate it is read over time (`linear_in_time`) at the series'
        steps within the trained horizon (H' = floor(linear_horizon / rate))."""
        if math.isclose(rate, 1.0, rel_tol=1e-9):
            if z.shape[1] != self.context_length:
                raise ValueError(f"context has {z.shape[1]} steps; the linear path reads {self.context_length}")
            return self.linear(z)
        n_steps = horizon_steps_within(self.linear.out_features, rate)
        if n_steps < 1:
            raise ValueError(
                f"at rate {rate:g} one step spans more than the linear path's horizon of {self.linear.out_features}"
            )
        b, n = z.shape
        context_times = ((torch.arange(n, dtype=torch.float64) - (n - 1)) * rate).expand(b, n)  # (B, L') to 0
        future_times = (torch.arange(1, n_steps + 1, dtype=torch.float64) * rate).expand(b, n_steps)  # (B, H')
        # Unobserved steps are zero in z and read as such, as the map reads them at rate 1.
        return self.linear_in_time(z, context_times, future_times)

    def _on_trained_grid(self, z: Tensor, context_times: Tensor, observed: Tensor | None) -> Tensor:
        """A normalised context z (B, L') at `context_times` (B, L') (0: the origin, the last
        context step) interpolated onto the trained grid, -(context_length - 1)..0 (B, L)."""
        grid = torch.arange(1 - self.context_length, 1, dtype=torch.float64).expand(len(z), -1)
        return interpolate(z, context_times, grid, observed)

    def linear_in_time(
        self, z: Tensor, context_times: Tensor, future_times: Tensor, observed: Tensor | None = None
    ) -> Tensor:
        """The linear path read over time: the context z (B, L') at `context_times` (B, L') in
        trained steps (ending at 0) -> the forecast (B, H') at `future_times` (B, H') > 0.

        The observed context steps (`observed` (B, L'), default all) are interpolated onto the
        trained grid and mapped; the path (the origin's value, then `linear_horizon` trained
        steps) is interpolated to the future times, its last value held beyond them."""
        on_trained = self._on_trained_grid(z, context_times, observed)  # (B, L)
        path = torch.cat([on_trained[:, -1:], self.linear(on_trained)], dim=1)  # (B, 1 + H_lin)
        path_times = torch.arange(path.shape[1], dtype=torch.float64).expand(len(z), -1)  # (B, 1 + H_lin)
        return interpolate(path, path_times, future_times)

    def step(self, x_t: Tensor, state: ForecastState, rate: Rate = 1.0) -> tuple[Tensor, ForecastState]:
        """One horizon step: inputs x_t (B, C) with hidden target -> raw (B, n_out), next state."""
        if state.linear is not None and state.steps >= state.linear.shape[1]:
            raise ValueError(
                f"the linear path forecasts {state.linear.shape[1]} steps; step {state.steps + 1} is beyond it"
            )
        raw, states = self.backbone.step(x_t, state.states, rate=rate)  # (B, n_out)
        if state.linear is not None:
            raw = self._add_linear(raw[:, None], state.linear[:, state.steps : state.steps + 1])[:, 0]
        return raw, ForecastState(states, state.shift, state.scale, state.linear, state.steps + 1)

    @torch.no_grad()
    def fit_linear_path(self, windows, ridge: float = 1.0) -> int:
        """Set the linear path to the ridge least-squares forecast of the horizon (squared error
        in the data's units) from the normalised context, over `windows`: an iterable of
        (x (B, W, C), y (B, H) with NaN where unobserved) batches, or (x, y, dt) with per-step
        Δ multipliers dt (B, W) of irregular timestamps. Returns the windows used (0 leaves
        the path at zero).

        On regular grids, windows with a missing horizon value are left out. With dt, each
        window's context is read onto the trained grid and its horizon interpolated onto the
        trained horizon steps, with the origin's value at step 0; a window informs the steps
        up to its last observation (`PrefixRidgeFit`)."""
        if self.linear is None:
            raise ValueError("this network has no linear path (linear=False)")
        fit = None
        for x, y, *rest in windows:
            dt = rest[0] if rest else None
            _, z, observed, shift, scale = self._normalise(x)  # z: (B, L); padding is unobserved
            if dt is None:
                fit = fit or RidgeFit(self.context_length, self.linear.out_features, ridge)
                keep = ~torch.isnan(y).any(dim=1)  # (B,)
                if bool(keep.any()):
                    # Rows weighted by the window scale: the squared error in the data's units, so a
                    # flat context (tiny scale, enormous normalised targets) cannot dominate the fit.
                    fit.add(z[keep], y[keep] - shift[keep], weight=scale[keep])
                continue
            fit = fit or PrefixRidgeFit(self.context_length, self.linear.out_features, ridge)
            context_times, future_times = window_times(dt, self.context_length)  # (B, L), (B, H)
            on_trained = self._on_trained_grid(z, context_times, observed)  # (B, L)
            # The horizon in the data's units less the shift, after the origin's value at time 0.
            known = torch.cat([torch.ones_like(y[:, :1], dtype=torch.bool), ~torch.isnan(y)], dim=1)  # (B, 1 + H)
            values = torch.cat([on_trained[:, -1:] * scale, torch.nan_to_num(y - shift)], dim=1)  # (B, 1 + H)
            times = torch.cat([torch.zeros_like(future_times[:, :1]), future_times], dim=1)  # (B, 1 + H)
            steps = torch.arange(1, self.linear.out_features + 1, dtype=torch.float64).expand(len(y), -1)
            targets = interpolate(values, times, steps, known)  # (B, H_lin)
            last = torch.where(known, times, torch.zeros_like(times)).amax(dim=1)  # (B,) last observed time
            fit.add(on_trained, targets, known_steps=last.floor().long(), weight=scale)
        if fit is None or not fit.rows:
            return 0
        fit.solve_into(self.linear)
        return fit.rows
