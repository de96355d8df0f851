"""A DLinear-style baseline: moving-average decomposition, then one linear map per component."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class DLinear(nn.Module):
    """Trend (moving average) and remainder each mapped context -> horizon by a linear layer."""

    def __init__(self, seq_len: int, pred_len: int, kernel_size: int = 25) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd number, got {kernel_size}.")
        self.kernel_size = kernel_size
        self.trend = nn.Linear(seq_len, pred_len)
        self.remainder = nn.Linear(seq_len, pred_len)
        # Start from the average of the context: a sane forecast before any training.
        for layer in (self.trend, self.remainder):
            nn.init.constant_(layer.weight, 1.0 / seq_len)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, marks: torch.Tensor | None = None) -> torch.Tensor:
        """Forecast (B, pred_len, C) from a context (B, seq_len, C); channels share weights.
        The calendar marks are ignored: DLinear reads the values alone."""
        pad = (self.kernel_size - 1) // 2
        series = x.transpose(1, 2)  # (B, C, L)
        # Replicate the ends so the moving average keeps the context's length and level.
        padded = F.pad(series, (pad, pad), mode="replicate")  # (B, C, L + 2 pad)
        trend = F.avg_pool1d(padded, self.kernel_size, stride=1)  # (B, C, L)
        out = self.trend(trend) + self.remainder(series - trend)  # (B, C, pred_len)
        return out.transpose(1, 2)  # (B, pred_len, C)
