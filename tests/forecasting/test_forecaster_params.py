"""S4Forecaster validates every parameter before it reads data or trains."""

from datetime import timedelta

import pytest
from forecast_data import TINY, make_frame

from s4ts import S4Forecaster
from s4ts.forecasting import training as training_module

BAD = [
    ("learning_rate", -1.0, "learning_rate=-1.0"),
    ("learning_rate", float("nan"), "learning_rate=nan"),
    ("ssm_lr", -1e-3, "ssm_lr="),
    ("weight_decay", -0.1, "weight_decay=-0.1"),
    ("dropout", 1.5, "dropout=1.5"),
    ("dropout", -0.1, "dropout=-0.1"),
    ("max_time", -3, "max_time=-3"),
    ("max_time", timedelta(seconds=-1), "max_time="),
    ("max_time", "soon", "max_time='soon'"),
    ("gradient_clip_val", 0, "gradient_clip_val=0"),
    ("gradient_clip_val", -1.0, "gradient_clip_val=-1.0"),
    ("batch_size", 0, "batch_size=0"),
    ("max_epochs", 2.5, "max_epochs=2.5"),
    ("early_stopping_patience", 0, "early_stopping_patience=0"),
    ("horizon", 0, "horizon=0"),
    ("context_length", -4, "context_length=-4"),
    ("d_model", 0, "d_model=0"),
    ("norm", "median", "norm='median'"),
    ("linear", "yes", "linear='yes'"),
    ("train_linear", 1, "train_linear=1"),
    ("calibrate_quantiles", "yes", "calibrate_quantiles='yes'"),
    ("warm_start", "yes", "warm_start='yes'"),
    ("nonnegative", "yes", "nonnegative='yes'"),
    ("mode", "full", "mode='full'"),
    ("val_size", 3, "val_size=3"),
    ("random_state", "seed", "random_state='seed'"),
    ("verbose", 1, "verbose=1"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD, ids=[f"{n}={v!r}" for n, v, _ in BAD])
def test_bad_parameters_are_errors_that_name_them_before_training(monkeypatch, name, value, message):
    def no_training(*args, **kwargs):
        raise AssertionError("training started with an invalid parameter")

    monkeypatch.setattr(training_module, "train_network", no_training)
    model = S4Forecaster(**{**TINY, name: value})
    with pytest.raises((ValueError, TypeError), match=message.replace("(", r"\(").replace("[", r"\[")):
        model.fit(make_frame(n_series=1, length=80))


def test_both_estimators_share_names_and_defaults():
    from s4ts import S4Classifier

    forecaster, classifier = S4Forecaster().get_params(), S4Classifier().get_params()
    for name in ("learning_rate", "weight_decay", "ssm_lr", "batch_size", "max_time", "val_size",
                 "early_stopping_patience", "gradient_clip_val", "random_state", "verbose",
                 "accelerator", "d_model", "d_state", "mode", "dropout", "dt_min", "dt_max"):
        assert name in forecaster and name in classifier, name
    for name in ("random_state", "verbose", "learning_rate", "gradient_clip_val", "accelerator"):
        assert forecaster[name] == classifier[name], name


def test_verbose_training_logs_one_line_per_epoch_when_stdout_is_not_a_terminal(capsys):
    frame = make_frame()[["unique_id", "ds", "y"]]
    S4Forecaster(**{**TINY, "verbose": True, "max_epochs": 2}).fit(frame)
    out = capsys.readouterr().out
    epochs = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert [line.split(":")[0] for line in epochs] == ["epoch 1/2", "epoch 2/2"]
    assert "val_loss" in epochs[0] and "train_loss" in epochs[0]
    assert "\r" not in out  # no progress bar redraws in a log


def test_training_drops_lightning_advertisement_but_keeps_its_messages():
    """While training runs (quiet_lightning, also with verbose=True), Lightning's rank-zero
    logger passes its device lines and drops the tip advertising its cloud logger; the
    filter is gone afterwards. (Logged here directly: whether Lightning itself logs depends
    on the process's rank state, which other tests change.)"""
    import logging

    from s4ts import _training

    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    rank_zero = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    level = rank_zero.level
    rank_zero.setLevel(logging.INFO)
    rank_zero.addHandler(handler)
    tip = "💡 Tip: For seamless cloud logging and experiment tracking, try installing [litlogger]"
    try:
        with _training.quiet_lightning(False):
            rank_zero.info("GPU available: False, used: False")
            rank_zero.info(tip)
        rank_zero.info(tip)
    finally:
        rank_zero.removeHandler(handler)
        rank_zero.setLevel(level)
    assert seen == ["GPU available: False, used: False", tip]


@pytest.mark.parametrize(
    ("horizon", "lengths", "expected"),
    [
        (24, [17_000], 8 * 24),  # one long series: 8 windows
        (52, [1_100], 2 * 52),  # 10% of 1,100 weeks holds two years
        (24, [5_000] * 4, 8 * 24),  # 4 long series: 8 windows each
        (24, [5_000] * 100, 2 * 24),  # 100 series: 256 windows in all
        (8, [40] * 304, 8),  # a panel of short series: one window each
        (24, [100, 5_000], 24),  # the shortest series allows no more than one
    ],
)
def test_val_size_none_holds_out_enough_windows_without_starving_short_series(horizon, lengths, expected):
    from s4ts.forecasting.training import auto_val_size

    assert auto_val_size(horizon, lengths) == expected


def test_linear_horizon_covers_most_irregular_horizons():
    import numpy as np

    from s4ts.forecasting.training import linear_horizon

    index = np.array([[0, end] for end in range(5, 40)])  # windows of series 0
    assert linear_horizon([1.0], index, 4) == 4  # regular: the horizon
    assert linear_horizon([np.ones(40)], index, 4) == 4  # gaps of one training step
    gaps = np.tile([1.0, 2.0], 20)  # every horizon of 4 steps spans 6 training steps
    assert linear_horizon([gaps], index, 4) == 6
    assert linear_horizon([np.full(40, 0.5)], index, 4) == 4  # never shorter than the horizon


def test_the_decided_val_size_is_an_attribute_and_survives_save_load(tmp_path):
    frame = make_frame(n_series=1, length=600)
    model = S4Forecaster(**TINY).fit(frame)
    assert model.val_size_ == TINY["horizon"] * min(8, 60 // TINY["horizon"])
    model.save(tmp_path / "m")
    assert S4Forecaster.load(tmp_path / "m").val_size_ == model.val_size_
    assert S4Forecaster(**{**TINY, "val_size": 0}).fit(frame).val_size_ == 0
