"""Masked pooling over time: fixed windows of steps, and a summary over all valid steps."""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["POOLINGS", "check_pooling", "masked_pool", "pool_steps", "pooled_width", "trim_padding"]


def pool_steps(x: Tensor, mask: Tensor | None, factor: int) -> tuple[Tensor, Tensor | None]:
    """Mean over non-overlapping windows of `factor` valid steps: (B, L, H) -> (B, ceil(L/factor), H).

    Windows start at step 0 and average only valid steps, so a series gives the same
    pooled values whatever padding follows it.
    """
    if factor == 1:
        return x, mask
    B, L, H = x.shape
    n_windows = math.ceil(L / factor)
    pad = n_windows * factor - L
    if mask is None and pad == 0:
        return x.view(B, n_windows, factor, H).mean(dim=2), None
    valid = torch.ones(B, L, dtype=torch.bool, device=x.device) if mask is None else mask
    x = torch.nn.functional.pad(x * valid[..., None], (0, 0, 0, pad))  # (B, W*f, H)
    valid = torch.nn.functional.pad(valid, (0, pad))  # (B, W*f)
    counts = valid.view(B, n_windows, factor).sum(dim=2)  # (B, W)
    sums = x.view(B, n_windows, factor, H).sum(dim=2)  # (B, W, H)
    pooled = sums / counts.clamp_min(1)[..., None]
    return pooled, counts > 0


def trim_padding(x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor | None]:
    """Drop steps past the batch's longest series: x (B, L, C), mask (B, L) -> (B, L', C) and
    the mask, or None when no step is padding (the cheaper unmasked path is then exact)."""
    length = int(mask.sum(dim=1).max())
    x, mask = x[:, :length], mask[:, :length]
    return x, None if bool(mask.all()) else mask


POOLINGS = ("mean", "max", "meanmax", "last")


def check_pooling(how: str) -> None:
    """ValueError unless `how` is one of POOLINGS."""
    if how not in POOLINGS:
        raise ValueError(f"pooling={how!r} must be one of {POOLINGS}")


def pooled_width(width: int, how: str) -> int:
    """Features `masked_pool` returns per series for `width` channels."""
    check_pooling(how)
    return 2 * width if how == "meanmax" else width


def masked_pool(x: Tensor, mask: Tensor | None, how: str) -> Tensor:
    """Summarise valid steps over time: (B, L, H) -> (B, H) for "mean", "max" or "last", and
    (B, 2H) for "meanmax" (the mean and the max side by side: a short event that the mean
    dilutes over a long series still shows in the max)."""
    check_pooling(how)
    if how == "meanmax":
        return torch.cat([masked_pool(x, mask, "mean"), masked_pool(x, mask, "max")], dim=-1)
    if mask is None:
        return x.mean(dim=1) if how == "mean" else x.amax(dim=1) if how == "max" else x[:, -1]
    if how == "mean":
        m = mask[..., None].to(x.dtype)  # (B, L, 1)
        return (x * m).sum(dim=1) / m.sum(dim=1).clamp_min(1.0)
    if how == "max":
        return x.masked_fill(~mask[..., None], float("-inf")).amax(dim=1)
    # "last": padding sits at the end, so the last valid step is at index (count - 1).
    last = (mask.sum(dim=1) - 1).clamp_min(0)  # (B,)
    return x[torch.arange(x.shape[0], device=x.device), last]
