"""S4Classifier parameters: validation before training, val_size, best_val_loss_, saved files."""

from __future__ import annotations

import json
import math
from datetime import timedelta

import numpy as np
import pytest

from s4ts import ModelFileError
from s4ts.classification import S4Classifier
from s4ts.classification import training as training_module

TINY = {"d_model": 8, "d_state": 8, "dropout": 0.0, "batch_size": 8, "n_layers": 1, "n_estimators": 1}


def waves(n: int = 16, length: int = 16, seed: int = 0):
    """Two classes of noisy sinusoids (slow vs fast), one channel."""
    rng = np.random.default_rng(seed)
    y = np.where(np.arange(n) % 2 == 0, "slow", "fast")
    freq = np.where(y == "slow", 1.0, 4.0)[:, None]
    t = np.arange(length)
    X = np.sin(2 * np.pi * freq * t / length + rng.uniform(0, 2 * np.pi, (n, 1)))
    return X + 0.1 * rng.standard_normal(X.shape), y


@pytest.fixture
def no_training(monkeypatch):
    """Fail loudly if a call gets as far as training."""
    def fail(*args, **kwargs):
        raise AssertionError("training started before the parameters were checked")

    monkeypatch.setattr(training_module, "fit_module", fail)


@pytest.mark.parametrize("name, value, error", [
    ("learning_rate", -1.0, ValueError),
    ("learning_rate", float("nan"), ValueError),
    ("ssm_lr", -1e-3, ValueError),
    ("weight_decay", -0.1, ValueError),
    ("dropout", 1.5, ValueError),
    ("dropout", 1.0, ValueError),
    ("max_time", -3, ValueError),
    ("max_time", timedelta(seconds=-1), ValueError),
    ("gradient_clip_val", 0, ValueError),
    ("gradient_clip_val", -1.0, ValueError),
    ("batch_size", 0, ValueError),
    ("max_epochs", 0, ValueError),
    ("max_epochs", "many", ValueError),
    ("n_estimators", 0, ValueError),
    ("dt_min", 0.5, ValueError),
    ("n_estimators", 1.5, ValueError),
    ("norm", "minmax", ValueError),
    ("augment", "yes", TypeError),
    ("warm_start", "yes", TypeError),
    ("label_smoothing", 1.0, ValueError),
    ("label_smoothing", -0.1, ValueError),
    ("early_stopping_patience", 0, ValueError),
    ("random_state", "seed", TypeError),
    ("verbose", "yes", TypeError),
    ("val_size", 1.5, ValueError),
    ("val_size", 1.0, ValueError),
    ("val_size", -1, ValueError),
    ("val_size", "10%", TypeError),
    ("val_size", None, TypeError),
    ("d_model", 0, ValueError),
    ("d_state", 2.5, ValueError),
    ("expand", 0, ValueError),
    ("frame_length", 0, ValueError),
    ("pool", (2, 0), ValueError),
    ("pool", 2, TypeError),
    ("n_layers", 0, ValueError),
    ("n_layers", "4", TypeError),
    ("pooling", "median", ValueError),
    ("filterbank", 0, ValueError),
    ("bandlimit", 1.5, ValueError),
])
def test_bad_parameter_names_itself_before_training(no_training, name, value, error):
    X, y = waves(n=8)
    with pytest.raises(error, match=f"{name}="):
        S4Classifier(**{**TINY, name: value}).fit(X, y)


def test_good_parameters_reach_training(no_training):
    X, y = waves(n=8)
    clf = S4Classifier(**TINY, max_time=timedelta(minutes=1), gradient_clip_val=None, val_size=2)
    with pytest.raises(AssertionError, match="training started"):
        clf.fit(X, y)


def test_defaults_match_the_forecaster_conventions():
    params = S4Classifier().get_params()
    assert params["learning_rate"] == 3e-3 and params["gradient_clip_val"] == 1.0
    assert params["random_state"] == 0 and params["verbose"] is False
    assert params["val_size"] == 0.1
    assert not {"lr", "patience", "validation_fraction"} & set(params)


def test_val_size_count_must_leave_training_series():
    X, y = waves(n=8)
    with pytest.raises(ValueError, match="val_size=8"):
        S4Classifier(**TINY, max_epochs=1, val_size=8).fit(X, y)


def test_best_val_loss_is_inf_without_validation_and_survives_save_load(tmp_path):
    X, y = waves()
    clf = S4Classifier(**TINY, max_epochs=1, val_size=0).fit(X, y)
    assert clf.best_val_loss_ == math.inf
    clf.save(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["best_val_loss"] is None
    assert S4Classifier.load(tmp_path).best_val_loss_ == math.inf


@pytest.mark.parametrize("val_size", [0.25, 4])
def test_best_val_loss_is_finite_with_validation_and_survives_save_load(tmp_path, val_size):
    X, y = waves()
    clf = S4Classifier(**TINY, max_epochs=2, val_size=val_size).fit(X, y)
    assert math.isfinite(clf.best_val_loss_) and clf.best_val_loss_ > 0
    clf.save(tmp_path)
    loaded = S4Classifier.load(tmp_path)
    assert loaded.best_val_loss_ == pytest.approx(clf.best_val_loss_)
    assert loaded.get_params() == clf.get_params()


def test_validation_data_gives_a_finite_best_val_loss():
    X, y = waves(n=20)
    clf = S4Classifier(**TINY, max_epochs=1, val_size=0).fit(X[:12], y[:12], validation_data=(X[12:], y[12:]))
    assert math.isfinite(clf.best_val_loss_)


def test_too_small_a_fraction_trains_without_validation(caplog):
    X, y = waves(n=6)
    clf = S4Classifier(**TINY, max_epochs=1, val_size=0.1).fit(X, y)
    assert clf.best_val_loss_ == math.inf
    assert "training without validation" in caplog.text


def test_saved_file_names_the_estimator_and_loads_older_parameter_names(tmp_path):
    X, y = waves()
    clf = S4Classifier(**TINY, max_epochs=1, val_size=0, max_time=timedelta(seconds=90)).fit(X, y)
    clf.save(tmp_path)
    config_path = tmp_path / "config.json"
    config = json.loads(config_path.read_text())
    assert config["estimator"] == "S4Classifier" and config["params"]["max_time"] == 90.0
    # A file written before the parameters took the forecaster's names.
    old = dict(config["params"])
    for new_name, old_name in [("learning_rate", "lr"), ("early_stopping_patience", "patience"),
                               ("val_size", "validation_fraction")]:
        old[old_name] = old.pop(new_name)
    del old["gradient_clip_val"]
    config_path.write_text(json.dumps({**config, "params": old}))
    loaded = S4Classifier.load(tmp_path)
    assert loaded.learning_rate == clf.learning_rate and loaded.val_size == 0
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-6)
    config_path.write_text(json.dumps({**config, "estimator": "S4Forecaster"}))
    with pytest.raises(ValueError, match="not a S4Classifier"):
        S4Classifier.load(tmp_path)


def test_score_is_accuracy(tmp_path):
    X, y = waves()
    clf = S4Classifier(**TINY, max_epochs=1, val_size=0).fit(X, y)
    score = clf.score(X, y)
    assert isinstance(score, float) and score == np.mean(clf.predict(X) == y)


def test_labels_of_mixed_types_and_a_text_sample_rate_are_named(no_training):
    X, _ = waves(n=6)
    with pytest.raises(TypeError, match=r"y mixes label types \(int, str\)"):
        S4Classifier(**TINY).fit(X, [1, "a", 1, "a", 2, "a"])
    with pytest.raises(TypeError, match="mixes label types"):
        S4Classifier(**TINY).fit(X, np.array([1, "a"] * 3, dtype=object))
    with pytest.raises(ValueError, match="sample_rate='16k' must be a positive number in Hz, e.g. 16000"):
        S4Classifier(**TINY).fit(X, ["a", "b"] * 3, sample_rate="16k")


@pytest.mark.parametrize("change, match", [
    (lambda c: c.pop("classes"), "config.json lacks the key 'classes'"),
    (lambda c: c["params"].update(d_model=0), "saved parameters are invalid: d_model=0 must be a positive integer"),
    (lambda c: c.update(mean=[0.0, 0.0]), "'mean' and 'scale' must hold one value per channel"),
    (lambda c: c.update(classes=["a", "b", "c"]), "model.pt does not fit the network its config.json describes"),
])
def test_a_damaged_classifier_config_names_the_file_and_key(tmp_path, change, match):
    X, y = waves()
    S4Classifier(**TINY, max_epochs=1, val_size=0).fit(X, y).save(tmp_path)
    path = tmp_path / "config.json"
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match=match):
        S4Classifier.load(tmp_path)
