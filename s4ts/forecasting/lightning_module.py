"""LightningModule for forecasting: the loss and the optimizer around a ForecastNet and a head."""

from __future__ import annotations

import lightning as L
import torch
from torch import Tensor

from s4ts.nn import ssm_param_groups
from s4ts.nn.distributions import Head
from s4ts.nn.forecast_net import ForecastNet, Timing

__all__ = ["ForecastingModule"]


class ForecastingModule(L.LightningModule):
    """Trains a ForecastNet + head on batches of `s4ts.data.windows.WindowDataset`."""

    def __init__(
        self,
        net: ForecastNet,
        head: Head,
        learning_rate: float,
        weight_decay: float,
    ) -> None:
        super().__init__()
        self.net = net
        self.head = head
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay

    def window_batch(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """The batch as `WindowDataset` windows (x, y, loss_mask, valid, dt, regular); a
        subclass fed another layout (GluonTS's fields) converts it here."""
        return batch

    def _loss(self, window: dict[str, Tensor]) -> Tensor:
        timing = Timing.from_steps(window["dt"], window["regular"])
        raw, shift, scale = self.net(window["x"], timing, window["valid"])  # (B, H, n_out), (B, 1) x2
        # The loss is taken in the data's (globally scaled) units, as RevIN does: a window whose
        # context is flat has a tiny scale, and its normalised targets would be enormous.
        return self.head.loss(raw, window["y"], window["loss_mask"], shift, scale)

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        window = self.window_batch(batch)
        loss = self._loss(window)
        # The epoch's mean: what early stopping, checkpoints and the epoch lines compare.
        self.log("train_loss", loss, prog_bar=True, on_step=False, on_epoch=True,
                 batch_size=len(window["x"]), sync_dist=True)
        return loss

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        window = self.window_batch(batch)
        # Averaged over processes, so early stopping and keep-best decide alike in each.
        self.log("val_loss", self._loss(window), prog_bar=True, batch_size=len(window["x"]), sync_dist=True)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        # The SSM parameters (Δ, Λ, B, P) get their own group: smaller lr, no weight decay.
        groups = ssm_param_groups(self.net, lr=self.learning_rate, weight_decay=self.weight_decay)
        return torch.optim.AdamW(groups, lr=self.learning_rate)
