"""S4Classifier(warm_start=True): a fit continues the fitted networks, or says why it cannot."""

from __future__ import annotations

import numpy as np
import pytest

from s4ts.classification import S4Classifier

TINY = {"d_model": 8, "d_state": 8, "dropout": 0.0, "batch_size": 8, "n_layers": 1, "n_estimators": 2,
        "val_size": 0.0, "random_state": 0}
FROZEN = {"learning_rate": 0.0, "ssm_lr": 0.0, "weight_decay": 0.0, "max_epochs": 1}


def waves(n: int = 24, length: int = 24, seed: int = 0, channels: int = 1):
    """Two classes of noisy sinusoids (slow vs fast): (n, channels, length) and labels."""
    rng = np.random.default_rng(seed)
    y = np.where(np.arange(n) % 2 == 0, "slow", "fast")
    freq = np.where(y == "slow", 1.0, 4.0)[:, None, None]
    t = np.arange(length)
    X = np.sin(2 * np.pi * freq * t / length + rng.uniform(0, 2 * np.pi, (n, channels, 1)))
    return X + 0.1 * rng.standard_normal(X.shape), y


@pytest.fixture
def fitted():
    X, y = waves()
    return S4Classifier(**TINY, max_epochs=3, learning_rate=1e-2).fit(X, y), X, y


def test_warm_start_continues_from_the_fitted_weights(fitted):
    clf, X, _ = fitted
    before = clf.predict_proba(X)
    longer, y_longer = waves(length=48, seed=1)  # continue on longer series
    # With nothing to learn (learning rates 0) a warm fit keeps the fitted networks exactly...
    clf.set_params(warm_start=True, **FROZEN).fit(longer, y_longer)
    np.testing.assert_allclose(clf.predict_proba(X), before, atol=1e-6)
    assert clf.n_epochs_ == 2 * 3 + 2 * 1  # the members' epochs of both fits
    # ... where a cold one starts from new weights.
    clf.set_params(warm_start=False).fit(longer, y_longer)
    assert not np.allclose(clf.predict_proba(X), before, atol=1e-3)
    assert clf.n_epochs_ == 2


def test_warm_start_trains_the_ssm_parameters_at_ssm_lr(fitted):
    clf, X, y = fitted
    clf.set_params(warm_start=True, max_epochs=2).fit(X, y)
    # The SSM parameters keep their own optimizer settings (no weight decay) in the new networks.
    settings = [p._optim for p in clf.network_.parameters() if hasattr(p, "_optim")]
    assert settings and all(s == {"lr": clf.ssm_lr, "weight_decay": 0.0} for s in settings)
    assert clf.score(X, y) >= 0.8


def test_warm_start_keeps_classes_scaling_and_subsets_of_labels(fitted):
    clf, X, y = fitted
    mean, scale = clf.mean_.copy(), clf.scale_.copy()
    only_slow_first = np.argsort(y == "fast", kind="stable")[:14]  # 12 slow, 2 fast
    clf.set_params(warm_start=True, max_epochs=1).fit(X[only_slow_first] * 5.0, y[only_slow_first])
    assert list(clf.classes_) == ["fast", "slow"]
    np.testing.assert_array_equal(clf.mean_, mean)
    np.testing.assert_array_equal(clf.scale_, scale)


def test_first_fit_with_warm_start_is_a_cold_fit(fitted):
    clf, X, y = fitted
    first = S4Classifier(**TINY, warm_start=True, max_epochs=3, learning_rate=1e-2).fit(X, y)
    assert first.n_epochs_ == clf.n_epochs_ == 6
    np.testing.assert_allclose(first.predict_proba(X), clf.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("change, message", [
    ({"d_model": 16}, "d_model=16 (fitted with 8)"),
    ({"pooling": "max"}, "pooling='max' (fitted with 'mean')"),
    ({"n_estimators": 3}, "n_estimators=3 (fitted with 2)"),
    ({"pool": (2,), "n_layers": (1, 1)}, "pool=(2,) (fitted with ())"),
    ({"norm": "series"}, "norm='series'"),
])
def test_warm_start_refuses_another_architecture(fitted, change, message):
    clf, X, y = fitted
    before, params = clf.predict_proba(X), clf.get_params()
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        clf.set_params(warm_start=True, **change).fit(X, y)
    clf.set_params(**params)  # nothing fitted was lost
    np.testing.assert_allclose(clf.predict_proba(X), before, atol=1e-7)


def test_warm_start_refuses_other_data(fitted):
    clf, X, y = fitted
    clf.set_params(warm_start=True)
    with pytest.raises(ValueError, match="X has 2 channels but the classifier was fitted on 1"):
        clf.fit(waves(channels=2)[0], y)
    with pytest.raises(ValueError, match=r"labels \['medium'\] of y are not among the fitted"):
        clf.fit(X, np.where(y == "fast", "medium", y))
    with pytest.raises(ValueError, match=r"sample_rate_=None\), not at sample_rate=100.0"):
        clf.fit(X, y, sample_rate=100.0)


def test_warm_start_after_load(fitted, tmp_path):
    clf, X, y = fitted
    clf.save(tmp_path / "model")
    loaded = S4Classifier.load(tmp_path / "model")
    assert loaded.warm_start is False  # as saved
    loaded.set_params(warm_start=True, **FROZEN).fit(X, y)
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-6)
    with pytest.raises(ValueError, match="d_state=16 \\(fitted with 8\\)"):
        S4Classifier.load(tmp_path / "model").set_params(warm_start=True, d_state=16).fit(X, y)


def test_warm_start_on_a_model_without_its_recorded_arguments(fitted):
    clf, X, y = fitted
    del clf._network_params  # as in a model pickled by an earlier version
    with pytest.raises(ValueError, match="save and load it, or fit from scratch"):
        clf.set_params(warm_start=True).fit(X, y)
