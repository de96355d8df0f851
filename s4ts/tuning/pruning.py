"""Per-epoch reports of a trial's validation loss, and pruning, as a Lightning callback.

A thin callback of our own rather than optuna-integration's PyTorchLightningPruningCallback.
Measured with optuna-integration 5.0.0, lightning 2.6.6 and optuna 5.1 (a 6-epoch forecaster,
median pruner): theirs prunes the diverging trial, but reports `current_epoch` from every
validation, so the estimator's validation before training (the keep-best baseline) takes
step 0 and the first epoch's loss is dropped with "step=0 is already reported"; and it raises
TrialPruned from inside `fit`, past the estimator's teardown. This one reports training epochs
only (steps 0, 1, ...), and on a prune asks the trainer to stop, so the estimator's teardown
(keep-best weights, CPU, eval mode) runs as usual; it also needs no extra package.
"""

from __future__ import annotations

import math

import lightning as L
from lightning.pytorch.trainer.states import TrainerFn

__all__ = ["PruningCallback"]


class PruningCallback(L.Callback):
    """Report `val_loss` to `trial` after every training epoch; stop training when the pruner says so.

    `pruned` tells the objective, after `fit` returns, to raise `optuna.TrialPruned`.
    `epochs_reported` counts the reports (the epochs the trial trained; an ensemble's members
    continue the count).
    """

    def __init__(self, trial) -> None:
        self.trial = trial
        self.pruned = False
        self.epochs_reported = 0

    def on_train_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        # An ensemble trains its members one after another, each with this callback: once
        # the trial is pruned, the later members stop before their first epoch.
        if self.pruned:
            trainer.should_stop = True

    def on_validation_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        # The validation before training (trainer.validate) is not an epoch of the trial.
        if trainer.state.fn != TrainerFn.FITTING or trainer.sanity_checking:
            return
        loss = trainer.callback_metrics.get("val_loss")
        if loss is None:
            return
        value = float(loss)
        # A diverged trial reports +inf, which every pruner ranks last (NaN would be ignored).
        self.trial.report(value if math.isfinite(value) else math.inf, step=self.epochs_reported)
        self.epochs_reported += 1
        if self.trial.should_prune():
            self.pruned = True
            trainer.should_stop = True
