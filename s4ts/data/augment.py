"""Training-time augmentation of padded series batches: random crops and amplitude scaling."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["random_crop", "random_scale"]


def random_crop(x: Tensor, mask: Tensor, min_fraction: float) -> tuple[Tensor, Tensor]:
    """Each series replaced by a random contiguous part of its valid steps, moved to the start.

    x (B, L, C) with padding at the end, mask (B, L) True at valid steps. A part keeps a
    fraction in [min_fraction, 1] of its series' steps (at least one) and starts anywhere
    the series leaves room: shifts and crops of one recording should not change its class.
    Returns the cropped values (B, L, C), zero past each part, and its mask (B, L).
    """
    B, L, _ = x.shape
    lengths = mask.sum(dim=1)  # (B,)
    fraction = torch.empty(B, device=x.device).uniform_(min_fraction, 1.0)  # (B,)
    kept = (fraction * lengths).ceil().long().clamp(min=1)  # (B,)
    kept = torch.minimum(kept, lengths.clamp(min=1))
    start = (torch.rand(B, device=x.device) * (lengths - kept + 1)).floor().long()  # (B,)
    steps = torch.arange(L, device=x.device)  # (L,)
    source = (start[:, None] + steps).clamp(max=L - 1)  # (B, L)
    valid = steps < kept[:, None]  # (B, L)
    cropped = torch.gather(x, 1, source[..., None].expand_as(x)) * valid[..., None]
    return cropped, valid


def random_scale(x: Tensor, sigma: float) -> Tensor:
    """Each series times exp(N(0, sigma²)) per channel: (B, L, C) -> (B, L, C)."""
    factor = torch.exp(sigma * torch.randn(x.shape[0], 1, x.shape[2], device=x.device))
    return x * factor
