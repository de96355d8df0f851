"""Linear interpolation between time grids, row by row (the linear path read over time)."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["interpolate", "window_times"]


def interpolate(values: Tensor, source: Tensor, target: Tensor, observed: Tensor | None = None) -> Tensor:
    """Values (B, S) at increasing `source` times (B, S) read at `target` times (B, T) by
    linear interpolation between the nearest observed sources (`observed` (B, S); default
    all); beyond the first or last observed source its value is held. A row with no
    observed source reads 0. Differentiable in `values`."""
    b, s = values.shape
    if observed is None:
        observed = torch.ones_like(values, dtype=torch.bool)
    steps = torch.arange(s, device=values.device).expand(b, s)  # (B, S)
    # The nearest observed source at or before / at or after each position (-1 / S: none).
    before = torch.where(observed, steps, -1).cummax(dim=1).values  # (B, S)
    after = torch.where(observed, steps, s).flip(1).cummin(dim=1).values.flip(1)  # (B, S)
    right = torch.searchsorted(source.contiguous(), target.contiguous())  # (B, T): sources < target
    left = torch.where(right > 0, before.gather(1, (right - 1).clamp_min(0)), -1)  # (B, T)
    right = torch.where(right < s, after.gather(1, right.clamp_max(s - 1)), s)  # (B, T)
    has_left, has_right = left >= 0, right < s
    left_i, right_i = left.clamp(0, s - 1), right.clamp(0, s - 1)
    left_time, right_time = source.gather(1, left_i), source.gather(1, right_i)  # (B, T)
    span = (right_time - left_time).clamp_min(torch.finfo(source.dtype).tiny)
    weight = ((target - left_time) / span).clamp(0.0, 1.0)  # (B, T): share of the right value
    weight = torch.where(has_left, weight, torch.ones_like(weight))
    weight = torch.where(has_right, weight, torch.zeros_like(weight))
    out = values.gather(1, left_i) * (1 - weight).to(values.dtype) + values.gather(1, right_i) * weight.to(values.dtype)
    return torch.where(has_left | has_right, out, torch.zeros_like(out))


def window_times(dt: Tensor, context_length: int) -> tuple[Tensor, Tensor]:
    """Times of a window's steps from per-step Δ multipliers dt (B, W) (the gap before each
    step), relative to its last context step: context (B, Lc), ending at 0, and the steps
    after it (B, W - Lc), all float64."""
    elapsed = torch.cumsum(dt.double(), dim=1)  # (B, W); dt[:, 0] cancels below
    origin = elapsed[:, context_length - 1 : context_length]  # (B, 1)
    return elapsed[:, :context_length] - origin, elapsed[:, context_length:] - origin
