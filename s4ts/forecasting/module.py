"""LightningModule for forecasting: the loss and the optimizer around an S4Backbone and a head."""

from __future__ import annotations

import lightning as L
import torch
from torch import Tensor, nn

from s4ts.nn import ssm_param_groups
from s4ts.nn.distributions import QuantileHead, StudentTHead

__all__ = ["ForecastingModule", "run_backbone"]


def run_backbone(
    backbone: nn.Module,
    x: Tensor,
    dt: Tensor,
    valid: Tensor | None = None,
    return_state: bool = False,
    scan: bool = False,
):
    """Backbone over x (B, L, C) with per-step Δ multipliers dt (B, L) and valid steps (B, L).

    `scan=True` takes the per-step-Δ path even when Δ is constant (irregular series whose
    gaps happen to be equal run exactly as any other irregular series).
    """
    rate = dt[:, 0]  # (B,)
    # Δ constant along time is a rate, which every mode supports; one shared rate needs one
    # kernel for the batch, per-row rates one kernel per row. Per-step Δ (irregular grids)
    # takes the scan path.
    if scan or not torch.all(dt == rate[:, None]):
        timing = {"dt": dt}
    elif torch.all(rate == rate[0]):
        timing = {"rate": float(rate[0])}
    else:
        timing = {"rate": rate}
    mask = None if valid is None or bool(valid.all()) else valid
    return backbone(x, mask=mask, return_state=return_state, **timing)


class ForecastingModule(L.LightningModule):
    """Trains backbone + head on windows from `s4ts.data.windows.WindowDataset`."""

    def __init__(
        self,
        backbone: nn.Module,
        head: QuantileHead | StudentTHead,
        learning_rate: float,
        weight_decay: float,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay

    def _loss(self, batch: dict[str, Tensor]) -> Tensor:
        raw = run_backbone(self.backbone, batch["x"], batch["dt"], batch["valid"])  # (B, L, n_out)
        return self.head.loss(raw, batch["y"], batch["loss_mask"])

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        loss = self._loss(batch)
        self.log("train_loss", loss, prog_bar=True, batch_size=len(batch["x"]))
        return loss

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        loss = self._loss(batch)
        self.log("val_loss", loss, prog_bar=True, batch_size=len(batch["x"]))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        # The SSM parameters (Δ, Λ, B, P) get their own group: smaller lr, no weight decay.
        groups = ssm_param_groups(self.backbone, lr=self.learning_rate, weight_decay=self.weight_decay)
        return torch.optim.AdamW(groups, lr=self.learning_rate)
