"""S4Forecaster keeps the mean of its best validation epochs' weights (AVERAGE_BEST_EPOCHS)."""

import lightning as L
import torch
from forecast_data import TINY, make_frame
from lightning.pytorch.trainer.states import TrainerFn

from s4ts._training import extra_callbacks
from s4ts.forecasting import S4Forecaster, training


class RecordEpochs(L.Callback):
    """(validation loss, weights) after every trained epoch."""

    def __init__(self) -> None:
        self.epochs: list[tuple[float, dict]] = []

    def on_validation_epoch_end(self, trainer, module) -> None:
        if trainer.state.fn == TrainerFn.FITTING:
            state = {k: v.detach().cpu().clone() for k, v in module.net.state_dict().items()}
            self.epochs.append((float(trainer.callback_metrics["val_loss"]), state))


def test_the_kept_weights_are_the_mean_of_the_three_best_epochs():
    assert training.AVERAGE_BEST_EPOCHS == 3
    record = RecordEpochs()
    with extra_callbacks(record):
        model = S4Forecaster(**{**TINY, "max_epochs": 6, "early_stopping_patience": None,
                                "learning_rate": 3e-3}).fit(make_frame(length=200))
    assert len(record.epochs) == 6 and model.best_epoch_ > 0
    losses = [loss for loss, _ in record.epochs]
    assert model.best_epoch_ == losses.index(min(losses)) + 1
    best = sorted(record.epochs, key=lambda pair: pair[0])[:3]
    for name, value in model.net_.state_dict().items():
        expected = torch.stack([state[name] for _, state in best]).mean(0) if value.is_floating_point() \
            else best[0][1][name]
        torch.testing.assert_close(value, expected, msg=name)
