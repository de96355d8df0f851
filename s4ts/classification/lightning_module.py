"""LightningModule for classification: loss and optimizer around an S4ClassifierNet."""

from __future__ import annotations

import math

import lightning as L
import torch
from torch import Tensor, nn

from s4ts.data.augment import random_crop, random_scale
from s4ts.nn import ssm_param_groups
from s4ts.nn.pooling import trim_padding

__all__ = ["S4ClassifierModule"]


class S4ClassifierModule(L.LightningModule):
    """Cross-entropy training of a classification network with AdamW and a cosine schedule.

    Training batches are augmented: each series is cropped to a random part of at least
    `crop` of its steps (1: no crops) and scaled by exp(N(0, `scale_sigma`²)) per channel
    (0: no scaling); the loss smooths labels by `label_smoothing`. Validation sees the
    series as they are.
    """

    def __init__(
        self,
        net: nn.Module,
        learning_rate: float = 3e-3,
        weight_decay: float = 0.01,
        total_steps: int | None = None,
        crop: float = 1.0,
        scale_sigma: float = 0.0,
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        self.net = net
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.total_steps = total_steps  # None: the trainer's estimate (per process when distributed)
        self.crop = crop
        self.scale_sigma = scale_sigma
        self.label_smoothing = label_smoothing

    def _augment(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        if self.crop < 1.0:
            x, mask = random_crop(x, mask, self.crop)
        if self.scale_sigma > 0.0:
            x = random_scale(x, self.scale_sigma)
        return x, mask

    def _step(self, batch: tuple[Tensor, Tensor, Tensor], augment: bool = False) -> tuple[Tensor, Tensor]:
        x, mask, y = batch  # (B, L, C), (B, L), (B,)
        if augment:
            x, mask = self._augment(x, mask)
        logits = self.net(*trim_padding(x, mask))  # (B, K); masks keep the trimming exact
        smoothing = self.label_smoothing if augment else 0.0  # validation: the plain loss
        loss = nn.functional.cross_entropy(logits, y, label_smoothing=smoothing)
        acc = (logits.argmax(dim=-1) == y).float().mean()
        return loss, acc

    def training_step(self, batch: tuple[Tensor, Tensor, Tensor], batch_idx: int) -> Tensor:
        loss, _ = self._step(batch, augment=True)
        self.log("train_loss", loss, prog_bar=True, batch_size=len(batch[2]))
        return loss

    def validation_step(self, batch: tuple[Tensor, Tensor, Tensor], batch_idx: int) -> None:
        loss, acc = self._step(batch)
        # Averaged over processes, so early stopping and keep-best decide alike in each.
        self.log("val_loss", loss, prog_bar=True, batch_size=len(batch[2]), sync_dist=True)
        self.log("val_acc", acc, prog_bar=True, batch_size=len(batch[2]), sync_dist=True)

    def configure_optimizers(self):
        groups = ssm_param_groups(self.net, lr=self.learning_rate, weight_decay=self.weight_decay)
        optimizer = torch.optim.AdamW(groups)
        # Short linear warm-up, then cosine decay to zero over the planned steps.
        total = self.total_steps or int(self.trainer.estimated_stepping_batches)
        warmup = max(1, total // 20)

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            progress = min(1.0, (step - warmup) / max(1, total - warmup))
            return 0.5 * (1.0 + math.cos(math.pi * progress))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
