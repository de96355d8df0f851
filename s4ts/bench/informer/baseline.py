"""The linear baseline of the Informer tables: DLinear's function class, fit in closed form.

DLinear (Zeng et al., 2023) maps the context to the horizon through a moving-average trend
and its remainder, each by a linear layer. A moving average is itself linear, so DLinear is a
linear map of the context; NLinear is the same map after subtracting the last value. The
best such map on the training windows is their ridge least-squares solution, which needs no
learning rate, epochs or early stopping that could leave the baseline under-trained.
"""

from __future__ import annotations

import torch
from torch import nn

from s4ts.nn.ridge import RidgeFit

__all__ = ["NORMS", "LinearForecaster", "Windows", "evaluate"]

# "none": DLinear's (and Linear's) function class; "last": NLinear's; "mean": RevIN-standardised.
NORMS = ("none", "mean", "last")


class Windows:
    """All stride-1 (context, horizon) windows of a (T, C) array, gathered batch by batch."""

    def __init__(self, data, seq_len: int, pred_len: int) -> None:
        self.data = torch.as_tensor(data, dtype=torch.float32)  # (T, C)
        self.seq_len = seq_len
        self.pred_len = pred_len
        self.count = len(data) - seq_len - pred_len + 1
        if self.count < 1:
            raise ValueError(
                f"A split of {len(data)} steps is too short for seq_len={seq_len} plus "
                f"pred_len={pred_len}; use a shorter context or horizon."
            )

    def batch(self, starts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Contexts (B, seq_len, C) and targets (B, pred_len, C) of the windows at `starts`."""
        rows = starts[:, None] + torch.arange(self.seq_len + self.pred_len)  # (B, L + H)
        chunk = self.data[rows]  # (B, L + H, C)
        return chunk[:, : self.seq_len], chunk[:, self.seq_len :]


def _normalise(x: torch.Tensor, norm: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each row's context (N, L) minus its shift, over its scale, and both (N, 1): the last
    value and 1 ("last", NLinear: the map stays linear in the context), mean and standard
    deviation ("mean"), or 0 and 1 ("none")."""
    if norm == "last":
        shift, scale = x[:, -1:], torch.ones_like(x[:, -1:])
    elif norm == "mean":
        shift, scale = x.mean(dim=1, keepdim=True), x.std(dim=1, keepdim=True) + 1e-5
    else:
        shift, scale = torch.zeros_like(x[:, -1:]), torch.ones_like(x[:, -1:])
    return (x - shift) / scale, shift, scale


def _as_rows(x: torch.Tensor) -> torch.Tensor:
    """(B, L, C) -> (B C, L): every channel is its own series; one map serves them all."""
    return x.transpose(1, 2).reshape(-1, x.shape[1])


class LinearForecaster(nn.Module):
    """A linear map from the normalised context to the horizon, shared by the channels:
    (B, seq_len, C) -> (B, pred_len, C)."""

    def __init__(self, seq_len: int, pred_len: int, norm: str = "last") -> None:
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}.")
        self.norm = norm
        self.map = nn.Linear(seq_len, pred_len)
        # Until fit: the context's last value (norm "last") or zero, never an unfitted random map.
        nn.init.zeros_(self.map.weight)
        nn.init.zeros_(self.map.bias)

    def fit(self, windows: Windows, ridge: float = 1.0) -> LinearForecaster:
        """Set the map to the ridge least-squares forecast of every training window, in the
        normalised space it works in."""
        shape = (self.map.in_features, self.map.out_features)
        if shape != (windows.seq_len, windows.pred_len):
            raise ValueError(f"The layer maps {shape[0]} -> {shape[1]} steps; the windows are "
                             f"{windows.seq_len} -> {windows.pred_len}.")
        fit = RidgeFit(*shape, ridge)
        for chunk in torch.arange(windows.count).split(1024):
            x, y = windows.batch(chunk)  # (B, L, C), (B, H, C)
            z, shift, scale = _normalise(_as_rows(x), self.norm)  # (B C, L), (B C, 1) x2
            fit.add(z, (_as_rows(y) - shift) / scale)
        fit.solve_into(self.map)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Forecast (B, pred_len, C) from a context (B, seq_len, C)."""
        batch, _, channels = x.shape
        z, shift, scale = _normalise(_as_rows(x), self.norm)  # (B C, L)
        y = self.map(z) * scale + shift  # (B C, H)
        return y.reshape(batch, channels, -1).transpose(1, 2)


@torch.no_grad()
def evaluate(model: LinearForecaster, windows: Windows, batch_size: int = 1024) -> tuple[float, float]:
    """MSE and MAE over every window and channel."""
    sq_err = abs_err = 0.0
    for chunk in torch.arange(windows.count).split(batch_size):
        x, y = windows.batch(chunk)
        err = model(x) - y  # (B, H, C)
        sq_err += err.square().sum().item()
        abs_err += err.abs().sum().item()
    n = windows.count * windows.pred_len * windows.data.shape[1]
    return sq_err / n, abs_err / n
