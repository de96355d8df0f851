"""Ridge least squares for a linear layer, accumulated batch by batch (inputs never all in memory)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["PrefixRidgeFit", "RidgeFit"]


def _design(inputs: Tensor, weight: Tensor | None) -> Tensor:
    """Rows (N, I) with a bias column, each scaled by its weight (N, 1): (N, I + 1) float64."""
    design = torch.cat([inputs, torch.ones_like(inputs[:, :1])], dim=1).double()
    return design if weight is None else design * weight.double()


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
        design = _design(inputs, weight)  # (N, I + 1)
        targets = targets.double()
        self.gram += design.T @ design
        self.moments += design.T @ targets
        self.rows += len(inputs)

    @torch.no_grad()
    def solve_into(self, layer: nn.Linear) -> None:
        """Set `layer` (I -> O) to the ridge solution of the rows added so far."""
        solution = torch.linalg.solve(self.gram, self.moments)  # (I + 1, O)
        layer.weight.copy_(solution[:-1].T.to(layer.weight.dtype))
        layer.bias.copy_(solution[-1].to(layer.bias.dtype))


class PrefixRidgeFit:
    """`RidgeFit` for rows whose targets are known over a prefix of the outputs only (a
    forecast whose last observation falls inside the horizon): output o is fitted on the
    rows that know it, so each output has its own normal equations. Rows are held until
    `solve_into`, which adds them longest prefix first and solves each output once."""

    def __init__(self, n_inputs: int, n_outputs: int, ridge: float = 1.0) -> None:
        self.n_inputs, self.n_outputs, self.ridge = n_inputs, n_outputs, ridge
        self._designs: list[Tensor] = []  # each (N, I + 1)
        self._targets: list[Tensor] = []  # each (N, O), 0 where unknown
        self._known: list[Tensor] = []  # each (N,): outputs known, from the first
        self.rows = 0

    @torch.no_grad()
    def add(self, inputs: Tensor, targets: Tensor, known_steps: Tensor, weight: Tensor | None = None) -> None:
        """Add rows inputs (N, I) -> targets (N, O) whose first `known_steps` (N,) outputs are
        known (clipped to O; rows knowing none are dropped); `weight` as in `RidgeFit.add`."""
        known = known_steps.clamp(0, self.n_outputs)
        keep = known > 0
        if not bool(keep.any()):
            return
        columns = torch.arange(self.n_outputs)
        targets = torch.where(columns < known[:, None], targets, torch.zeros_like(targets))[keep]
        self._designs.append(_design(inputs[keep], None if weight is None else weight[keep]))
        self._targets.append(targets.double())
        self._known.append(known[keep])
        self.rows += int(keep.sum())

    @torch.no_grad()
    def solve_into(self, layer: nn.Linear) -> None:
        """Set `layer` (I -> O) to the ridge solution of each output over the rows that know it
        (an output no row knows gets the zero solution)."""
        design, targets, known = torch.cat(self._designs), torch.cat(self._targets), torch.cat(self._known)
        gram = self.ridge * torch.eye(self.n_inputs + 1, dtype=torch.float64)  # (I + 1, I + 1)
        moments = torch.zeros(self.n_inputs + 1, self.n_outputs, dtype=torch.float64)  # (I + 1, O)
        solution = torch.zeros_like(moments)
        lengths = torch.unique(known).flip(0).tolist()  # distinct prefixes, longest first
        for k, shorter in zip(lengths, [*lengths[1:], 0]):
            rows = design[known == k]  # (n, I + 1)
            gram += rows.T @ rows
            moments += rows.T @ targets[known == k]
            # Outputs shorter..k-1 are known to exactly the rows added so far.
            solution[:, shorter:k] = torch.linalg.solve(gram, moments[:, shorter:k])
        layer.weight.copy_(solution[:-1].T.to(layer.weight.dtype))
        layer.bias.copy_(solution[-1].to(layer.bias.dtype))
