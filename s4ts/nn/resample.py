"""Linear interpolation between time grids, as a matrix (the linear path at a zero-shot rate)."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["interpolation_matrix"]


def interpolation_matrix(source: Tensor, target: Tensor) -> Tensor:
    """Weights (T, S) that interpolate values at increasing `source` times (S,) linearly to
    `target` times (T,); beyond either end the nearest value is held."""
    if len(source) == 1:
        return torch.ones(len(target), 1, dtype=source.dtype)
    right = torch.searchsorted(source, target).clamp(1, len(source) - 1)  # (T,)
    left_time, right_time = source[right - 1], source[right]
    weight = ((target - left_time) / (right_time - left_time)).clamp(0.0, 1.0)  # (T,)
    rows = torch.arange(len(target))
    matrix = torch.zeros(len(target), len(source), dtype=source.dtype)
    matrix[rows, right - 1] = 1.0 - weight
    matrix[rows, right] += weight
    return matrix
