"""Per-epoch reports of a trial's validation loss, and pruning, as a Lightning callback.

A thin callback of our own rather than optuna-integration's PyTorchLightningPruningCallback:
that one needs the extra package, checks the trainer's strategy against distributed storage,
and raises from inside `fit`; this one only reports, and on a prune asks the trainer to stop,
so the estimator's own teardown (keep-best weights, CPU, eval mode) runs as usual.
"""

from __future__ import annotations

import math

import lightning as L
from lightning.pytorch.trainer.states import TrainerFn

__all__ = ["PruningCallback"]


class PruningCallback(L.Callback):
    """Report `val_loss` to `trial` after every training epoch; stop training when the pruner says so.

    `pruned` tells the objective, after `fit` returns, to raise `optuna.TrialPruned`.
    `epochs_reported` counts the reports (the epochs the trial trained).
    """

    def __init__(self, trial) -> None:
        self.trial = trial
        self.pruned = False
        self.epochs_reported = 0

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
