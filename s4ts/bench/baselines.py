"""The linear baseline: DLinear's function class, fit in closed form.

DLinear (Zeng et al., 2023) maps the context to the horizon through a moving-average trend
and its remainder, each by a linear layer. A moving average is itself linear, so DLinear is a
linear map of the context; NLinear is the same map after subtracting the last value. The
best such map on the training windows is their ridge least-squares solution, which needs no
learning rate, epochs or early stopping that could leave the baseline under-trained.
"""

from __future__ import annotations

import torch
from torch import nn

from s4ts.bench.models import (
    Windows,
    channels_as_series,
    check_norm,
    fit_least_squares,
    normalise_context,
    series_as_channels,
)


class LinearForecaster(nn.Module):
    """A linear map from the normalised context to the horizon, shared by the channels:
    (B, seq_len, C) -> (B, pred_len, C). norm "none" is DLinear's (and Linear's) function
    class, "last" NLinear's, "mean" a linear model on RevIN-standardised windows."""

    def __init__(self, seq_len: int, pred_len: int, norm: str = "last") -> None:
        super().__init__()
        self.norm = check_norm(norm)
        self.map = nn.Linear(seq_len, pred_len)
        # Until fit: the context's last value (norm "last") or zero, never an unfitted random map.
        nn.init.zeros_(self.map.weight)
        nn.init.zeros_(self.map.bias)

    def fit(self, windows: Windows, ridge: float = 1.0) -> LinearForecaster:
        """Set the map to the ridge least-squares forecast of every training window."""
        fit_least_squares(self.map, windows, self.norm, ridge=ridge)
        return self

    def forward(self, x: torch.Tensor, marks: torch.Tensor | None = None) -> torch.Tensor:
        """Forecast (B, pred_len, C) from a context (B, seq_len, C); the calendar marks are
        ignored: the baseline reads the values alone."""
        batch, _, channels = x.shape
        z, shift, scale = normalise_context(channels_as_series(x), self.norm)  # (B C, L, 1)
        y = self.map(z.transpose(1, 2)).transpose(1, 2) * scale + shift  # (B C, H, 1)
        return series_as_channels(y, batch, channels)  # (B, H, C)
