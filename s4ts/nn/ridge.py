"""Ridge least squares for a linear layer, accumulated batch by batch (inputs never all in memory)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["RidgeFit"]


class RidgeFit:
    """Normal equations of `targets ≈ layer(inputs)` with an L2 penalty `ridge` on the weights
    and bias, summed over batches; `solve_into(layer)` writes the solution into the layer."""

    def __init__(self, n_inputs: int, n_outputs: int, ridge: float = 1.0) -> None:
        self.gram = ridge * torch.eye(n_inputs + 1, dtype=torch.float64)  # (I + 1, I + 1); last: bias
        self.moments = torch.zeros(n_inputs + 1, n_outputs, dtype=torch.float64)  # (I + 1, O)
        self.rows = 0

    @torch.no_grad()
    def add(self, inputs: Tensor, targets: Tensor, weight: Tensor | None = None) -> None:
        """Add rows inputs (N, I) -> targets (N, O); `weight` (N, 1) multiplies each row's
        residual (the layer's output on that row is compared after scaling by it)."""
        design = torch.cat([inputs, torch.ones_like(inputs[:, :1])], dim=1).double()  # (N, I + 1)
        targets = targets.double()
        if weight is not None:
            design = design * weight.double()
        self.gram += design.T @ design
        self.moments += design.T @ targets
        self.rows += len(inputs)

    @torch.no_grad()
    def solve_into(self, layer: nn.Linear) -> None:
        """Set `layer` (I -> O) to the ridge solution of the rows added so far."""
        solution = torch.linalg.solve(self.gram, self.moments)  # (I + 1, O)
        layer.weight.copy_(solution[:-1].T.to(layer.weight.dtype))
        layer.bias.copy_(solution[-1].to(layer.bias.dtype))
