"""Sequence classification network: S4 backbone, masked pooling over time, linear head."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from s4ts.nn.backbone import S4Backbone

__all__ = ["S4ClassifierNet", "masked_pool", "pool_steps"]


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


def masked_pool(x: Tensor, mask: Tensor | None, how: str) -> Tensor:
    """Summarise valid steps over time: mean, max or last; (B, L, H) -> (B, H)."""
    if mask is None:
        return {"mean": lambda: x.mean(dim=1), "max": lambda: x.amax(dim=1),
                "last": lambda: x[:, -1]}[how]()
    if how == "mean":
        m = mask[..., None].to(x.dtype)  # (B, L, 1)
        return (x * m).sum(dim=1) / m.sum(dim=1).clamp_min(1.0)
    if how == "max":
        return x.masked_fill(~mask[..., None], float("-inf")).amax(dim=1)
    if how == "last":
        # Padding sits at the end, so the last valid step is at index (count - 1).
        last = (mask.sum(dim=1) - 1).clamp_min(0)  # (B,)
        return x[torch.arange(x.shape[0], device=x.device), last]
    raise ValueError(f"pooling must be 'mean', 'max' or 'last'; got {how!r}")


class S4ClassifierNet(nn.Module):
    """S4 stages with mean-pooling downsampling between them, a pooling head over time, and logits."""

    def __init__(
        self,
        d_input: int,
        n_classes: int,
        d_model: int = 64,
        n_layers: tuple[int, ...] = (4,),
        pool: tuple[int, ...] = (),
        expand: int = 2,
        pooling: str = "mean",
        **s4_kwargs,
    ) -> None:
        super().__init__()
        if len(n_layers) != len(pool) + 1:
            raise ValueError(
                f"n_layers needs one entry per stage ({len(pool) + 1}); got {n_layers}"
            )
        self.pool = tuple(pool)
        self.pooling = pooling
        stages = []
        d_in = d_input
        for i, n in enumerate(n_layers):
            width = d_model * expand**i
            stages.append(
                S4Backbone(d_in, width, d_model=width, n_layers=n, **s4_kwargs)
            )
            d_in = width
        self.stages = nn.ModuleList(stages)
        self.norm = nn.LayerNorm(d_in)
        self.head = nn.Linear(d_in, n_classes)

    def forward(self, x: Tensor, mask: Tensor | None = None, rate: float | Tensor = 1.0) -> Tensor:
        """x (B, L, d_input), mask (B, L) True at valid steps -> logits (B, n_classes).

        `rate` = data step / training step. Pooling windows hold a fixed number of steps, so
        after pooling the step is still `rate` times the training step and every stage gets
        the same `rate`: each S4 layer keeps its learned continuous-time filters. (A window
        then spans `rate` times as long, a slightly different smoothing than in training.)
        """
        for i, stage in enumerate(self.stages):
            x = stage(x, rate=rate, mask=mask)  # (B, L_i, H_i)
            if i < len(self.pool):
                x, mask = pool_steps(x, mask, self.pool[i])  # (B, L_i / p_i, H_i)
        z = masked_pool(self.norm(x), mask, self.pooling)  # (B, H)
        return self.head(z)  # (B, n_classes)
