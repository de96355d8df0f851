"""KeepBest: the weights of the best validation epoch, or the mean of the best few."""

from types import SimpleNamespace

import pytest
import torch
from lightning.pytorch.trainer.states import TrainerFn

from s4ts._training import KeepBest

# Validation losses of epochs 1-5 (epoch 0: the weights before training, loss 0.5).
LOSSES = [0.9, 0.4, 0.3, 0.35, 0.6]


def _run(keep: KeepBest, losses: list[float] = LOSSES) -> torch.nn.Linear:
    """Epoch k's weights are all k (before training: -1, loss 0.5) and its validation loss
    losses[k - 1]; returns the module as restored."""
    module = torch.nn.Linear(2, 1)
    trainer = SimpleNamespace(callback_metrics={}, state=SimpleNamespace(fn=TrainerFn.VALIDATING),
                              current_epoch=0)
    with torch.no_grad():
        for p in module.parameters():
            p.fill_(-1.0)
    trainer.callback_metrics["val_loss"] = torch.tensor(0.5)
    keep.on_validation_epoch_end(trainer, module)  # trainer.validate before fit
    trainer.state.fn = TrainerFn.FITTING
    for epoch, loss in enumerate(losses):
        with torch.no_grad():
            for p in module.parameters():
                p.fill_(float(epoch + 1))
        trainer.current_epoch = epoch
        trainer.callback_metrics["val_loss"] = torch.tensor(loss)
        keep.on_validation_epoch_end(trainer, module)
    keep.on_fit_end(trainer, module)
    return module


def test_the_best_epochs_weights_are_kept():
    keep = KeepBest()
    module = _run(keep)
    assert keep.best_epoch == 3 and keep.best_loss == pytest.approx(0.3)
    torch.testing.assert_close(module.weight, torch.full((1, 2), 3.0))


def test_average_keeps_the_mean_of_the_best_epochs_and_reports_the_best():
    keep = KeepBest(average=3)
    module = _run(keep)
    assert keep.best_epoch == 3  # the lowest loss is still what is reported
    torch.testing.assert_close(module.weight, torch.full((1, 2), (2 + 3 + 4) / 3))


def test_the_weights_before_training_are_never_averaged_in():
    keep = KeepBest(average=3)
    module = _run(keep, losses=[5.0, 6.0, 7.0, 8.0, 9.0])  # no epoch beats the start (0.5)
    assert keep.best_epoch == 0
    torch.testing.assert_close(module.weight, torch.full((1, 2), -1.0))
