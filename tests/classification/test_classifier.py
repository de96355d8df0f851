"""S4Classifier: input formats, masking, rate changes, errors, persistence and sklearn contracts."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from s4ts.classification import S4Classifier, S4ClassifierNet
from s4ts.data.audio import decimate
from s4ts.nn import masked_pool, pool_steps
from s4ts.nn.pooling import POOLINGS

TINY = {"d_model": 8, "d_state": 8, "dropout": 0.0, "batch_size": 8, "n_estimators": 1}


def waves(n: int = 40, length: int = 32, seed: int = 0, channels: int = 2):
    """Two classes of noisy sinusoids (slow vs fast), labels 'slow'/'fast'."""
    rng = np.random.default_rng(seed)
    y = np.where(np.arange(n) % 2 == 0, "slow", "fast")
    t = np.arange(length)
    freq = np.where(y == "slow", 1.0, 4.0)[:, None, None]
    phase = rng.uniform(0, 2 * np.pi, (n, channels, 1))
    X = np.sin(2 * np.pi * freq * t / length + phase) + 0.1 * rng.standard_normal((n, channels, length))
    return X, y


@pytest.fixture(scope="module")
def fitted():
    X, y = waves()
    clf = S4Classifier(**TINY, n_layers=1, max_epochs=20, learning_rate=1e-2, val_size=0.0,
                       random_state=0)
    return clf.fit(X, y, sample_rate=100.0), X, y


def test_learns_and_reports_classes(fitted):
    clf, X, y = fitted
    assert list(clf.classes_) == ["fast", "slow"]
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    # predict_proba columns follow classes_, so argmax maps to predict
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))
    assert clf.score(X, y) >= 0.9


def test_binary_decision_function_is_one_score_per_series(fitted):
    from sklearn.metrics import get_scorer

    clf, X, y = fitted
    scores = clf.decision_function(X)
    assert scores.shape == (len(X),)
    np.testing.assert_array_equal(clf.classes_[(scores > 0).astype(int)], clf.predict(X))
    assert get_scorer("roc_auc")(clf, X, y) > 0.9


def test_padding_never_changes_a_prediction():
    X, y = waves(n=12)
    rng = np.random.default_rng(1)
    short = rng.standard_normal((2, 11))
    longer = [rng.standard_normal((2, 40)), rng.standard_normal((2, 25))]
    for pooling in POOLINGS:
        clf = S4Classifier(**TINY, max_epochs=1, val_size=0.0, random_state=0, pool=(3,),
                           n_layers=(1, 1), pooling=pooling).fit(X, y)
        alone = clf.predict_proba([short])
        in_batch = clf.predict_proba([longer[0], short, longer[1]])[1:2]
        np.testing.assert_allclose(alone, in_batch, atol=1e-5, err_msg=pooling)


def test_input_formats_agree(fitted):
    clf, X, _ = fitted
    expected = clf.predict_proba(X[:5])
    as_list = clf.predict_proba([x for x in X[:5]])
    rows = [
        {"id": f"s{i}", "time": t, "a": X[i, 0, t], "b": X[i, 1, t]}
        for i in range(5)
        for t in reversed(range(X.shape[2]))  # unsorted times: the frame is sorted per id
    ]
    frame = pd.DataFrame(rows)
    before = frame.copy()
    as_frame = clf.predict_proba(frame)
    pd.testing.assert_frame_equal(frame, before)  # the user's frame is not mutated
    np.testing.assert_allclose(as_list, expected, atol=1e-5)
    np.testing.assert_allclose(as_frame, expected, atol=1e-5)


def test_two_dimensional_input_and_frame_labels_by_id():
    X, y = waves(n=16, channels=1)
    clf = S4Classifier(**TINY, max_epochs=1, val_size=0.0, random_state=0)
    clf.fit(X[:, 0], y)
    assert clf.n_channels_ == 1
    frame = pd.DataFrame([{"id": i, "time": t, "value": X[i, 0, t]}
                          for i in range(16) for t in range(X.shape[2])])
    labels = pd.Series(y, index=range(16)).iloc[::-1]  # aligned by id, not by position
    clf.fit(frame, labels)
    assert clf.score(frame, labels) == clf.score(X[:, 0], y)


def test_sample_rate_rescales_delta(fitted):
    clf, X, _ = fitted
    np.testing.assert_allclose(clf.predict_proba(X[:4], sample_rate=100.0), clf.predict_proba(X[:4]))
    values, mask, _ = clf._prepare(X[:4], "X", 1)  # what the network reads: (4, L, C), (4, L)
    with torch.no_grad():
        scores = clf.network_(torch.from_numpy(values), torch.from_numpy(mask), rate=2.0)
    # 50 Hz data after training at 100 Hz: each step is twice as long, rate 2.
    margin = (scores[:, 1] - scores[:, 0]).numpy()  # two classes: the score of classes_[1]
    np.testing.assert_allclose(clf.decision_function(X[:4], sample_rate=50.0), margin, atol=1e-5)
    assert not np.allclose(clf.decision_function(X[:4], sample_rate=50.0), clf.decision_function(X[:4]))


def test_rate_change_needs_fit_sample_rate():
    X, y = waves(n=12)
    clf = S4Classifier(**TINY, max_epochs=1, val_size=0.0).fit(X, y)
    with pytest.raises(ValueError, match="without sample_rate"):
        clf.predict(X, sample_rate=8000)


@pytest.mark.parametrize(
    "X, y, match",
    [
        (np.zeros((4, 1, 10)), ["a", "b", "a"], "4 series but y has 3"),
        (np.zeros((4, 1, 10)), ["a"] * 4, "single class"),
        (np.zeros((2, 2, 2, 2)), ["a", "b"], "4 dimension"),
        (np.array([[[0.0, np.nan, 1.0]], [[0.0, 1.0, 2.0]]]), ["a", "b"], r"X\[0\].*channel 0, step 1"),
        ([np.zeros((2, 5)), np.zeros((3, 5))], ["a", "b"], "channels"),
        ([np.zeros((1, 0)), np.zeros((1, 3))], ["a", "b"], "empty"),
        (pd.DataFrame({"id": [1], "value": [0.0]}), ["a"], "'time' is missing"),
    ],
)
def test_fit_errors(X, y, match):
    with pytest.raises(ValueError, match=match):
        S4Classifier(**TINY, max_epochs=1).fit(X, y)


def test_parameter_and_predict_errors(fitted):
    clf, X, y = fitted
    with pytest.raises(ValueError, match="pooling"):
        S4Classifier(pooling="median").fit(X, y)
    with pytest.raises(ValueError, match="n_layers"):
        S4Classifier(n_layers=(1, 1, 1), pool=(2,)).fit(X, y)
    with pytest.raises(ValueError, match="1 channels but the classifier was fitted on 2"):
        clf.predict(X[:, :1])
    with pytest.raises(ValueError, match="not fitted"):
        S4Classifier().predict(X)
    with pytest.raises(TypeError, match="3D array"):
        clf.predict({"a": 1})


def test_clone_and_reproducible_fit():
    X, y = waves(n=16)
    clf = S4Classifier(**TINY, max_epochs=2, val_size=0.25, random_state=3)
    twin = clone(clf)
    assert twin.get_params() == clf.get_params()
    state = torch.random.get_rng_state()
    a = clf.fit(X, y).predict_proba(X)
    assert torch.equal(torch.random.get_rng_state(), state)  # the user's RNG is left alone
    b = twin.fit(X, y).predict_proba(X)
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert math.isfinite(clf.best_val_loss_)


def test_validation_data_and_early_stopping():
    X, y = waves(n=24)
    # Zero learning rates keep the validation loss flat: no improvement after the first epoch.
    clf = S4Classifier(**TINY, max_epochs=50, early_stopping_patience=1, learning_rate=0.0, ssm_lr=0.0,
                       random_state=0)
    clf.fit(X[:16], y[:16], validation_data=(X[16:], y[16:]))
    assert clf.n_epochs_ < 50
    with pytest.raises(ValueError, match="do not occur in y"):
        clf.fit(X[:16], y[:16], validation_data=(X[16:18], ["slow", "other"]))


def test_save_load_round_trip(fitted, tmp_path):
    clf, X, _ = fitted
    clf.save(tmp_path / "model")
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    assert config["s4ts_version"] and config["classes"] == ["fast", "slow"]
    loaded = S4Classifier.load(tmp_path / "model")
    assert loaded.get_params() == clf.get_params()
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-6)
    np.testing.assert_allclose(loaded.predict_proba(X, sample_rate=50.0),
                               clf.predict_proba(X, sample_rate=50.0), atol=1e-6)


def test_save_load_integer_labels(tmp_path):
    X, _ = waves(n=12)
    y = np.tile([3, 7, 11], 4)
    clf = S4Classifier(**TINY, max_epochs=1, val_size=0.0).fit(X, y)
    clf.save(tmp_path)
    loaded = S4Classifier.load(tmp_path)
    assert loaded.classes_.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))


def test_meanmax_pooling_feeds_both_summaries_to_the_head_and_reloads(tmp_path):
    X, y = waves(n=12)
    clf = S4Classifier(**TINY, max_epochs=1, val_size=0.0, pooling="meanmax").fit(X, y)
    assert all(m.head.in_features == 2 * TINY["d_model"] for m in clf.network_.members)
    clf.save(tmp_path)
    np.testing.assert_allclose(S4Classifier.load(tmp_path).predict_proba(X), clf.predict_proba(X),
                               atol=1e-6)


def test_pool_steps_averages_valid_steps_only():
    x = torch.arange(10.0).view(1, 5, 2)  # (B=1, L=5, H=2)
    mask = torch.tensor([[True, True, True, False, False]])
    pooled, pmask = pool_steps(x, mask, 2)
    assert pooled.shape == (1, 3, 2) and pmask.tolist() == [[True, True, False]]
    np.testing.assert_allclose(pooled[0, :2].numpy(), [[1.0, 2.0], [4.0, 5.0]])
    unmasked, none = pool_steps(x, None, 5)
    assert none is None and unmasked.shape == (1, 1, 2)


def test_masked_pool_modes():
    x = torch.tensor([[[1.0], [5.0], [3.0], [100.0]]])  # (1, 4, 1), last step is padding
    mask = torch.tensor([[True, True, True, False]])
    assert masked_pool(x, mask, "mean").item() == pytest.approx(3.0)
    assert masked_pool(x, mask, "max").item() == 5.0
    assert masked_pool(x, mask, "last").item() == 3.0
    assert masked_pool(x, mask, "meanmax").tolist() == [[pytest.approx(3.0), 5.0]]  # (B, 2H)
    assert masked_pool(x, None, "meanmax").tolist() == [[pytest.approx(27.25), 100.0]]
    for unmasked in (mask, None):
        with pytest.raises(ValueError, match="pooling='median' must be one of"):
            masked_pool(x, unmasked, "median")
    with pytest.raises(ValueError, match="pooling='median'"):  # at construction, not first forward
        S4ClassifierNet(3, 4, d_model=8, pooling="median")


def test_network_runs_without_lightning():
    net = S4ClassifierNet(3, 4, d_model=8, n_layers=(1, 1), pool=(2,), d_state=8, bidirectional=True)
    out = net(torch.randn(2, 9, 3))
    assert out.shape == (2, 4)


def chirps(n: int = 48, sample_rate: float = 8000.0, seed: int = 0):
    """Two classes of 0.1 s noisy tones (low 300-700 Hz, high 1100-1500 Hz) with random phase."""
    rng = np.random.default_rng(seed)
    y = np.where(np.arange(n) % 2 == 0, "low", "high")
    freq = np.where(y == "low", 500.0, 1300.0) + rng.uniform(-200, 200, n)
    t = np.arange(int(0.1 * sample_rate)) / sample_rate
    X = np.sin(2 * np.pi * freq[:, None] * t + rng.uniform(0, 2 * np.pi, (n, 1)))
    return X + 0.3 * rng.standard_normal(X.shape), y


def test_filterbank_front_end_learns_and_keeps_its_accuracy_at_half_the_rate(tmp_path):
    X, y = chirps()
    clf = S4Classifier(**TINY, n_layers=1, filterbank=8, frame_length=40, max_epochs=15, learning_rate=1e-2,
                       val_size=0.0, random_state=0).fit(X, y, sample_rate=8000.0)
    X_test, y_test = chirps(seed=1)
    X_half = decimate(X_test, 2).numpy()  # 4 kHz: the tones stay below the new Nyquist frequency
    assert clf.score(X_test, y_test) >= 0.9
    assert clf.score(X_half, y_test, sample_rate=4000.0) >= 0.9
    assert clf.network_.frontend.frame_steps(clf._rate(4000.0)) == 20  # frames keep 5 ms
    with pytest.raises(ValueError, match="whole number of samples per frame"):
        clf.predict(X_test, sample_rate=4410.0)  # 5 ms = 22.05 samples
    clf.save(tmp_path / "fb")
    loaded = S4Classifier.load(tmp_path / "fb")
    assert loaded.filterbank == 8
    np.testing.assert_allclose(loaded.predict_proba(X_half, sample_rate=4000.0),
                               clf.predict_proba(X_half, sample_rate=4000.0), atol=1e-6)


@pytest.mark.parametrize("params, match", [
    ({"filterbank": 0}, "filterbank"), ({"frame_length": 0}, "frame_length"),
    ({"filterbank": 4, "bandlimit": 2.0}, "bandlimit"),
])
def test_filterbank_parameter_errors(params, match):
    X, y = waves(n=8)
    with pytest.raises(ValueError, match=match):
        S4Classifier(**TINY, **params).fit(X, y)


def test_filterbank_refuses_series_shorter_than_one_frame():
    X, y = chirps(n=8)  # 800 samples each
    params = {**TINY, "n_layers": 1, "filterbank": 4, "max_epochs": 1, "val_size": 0.0}
    with pytest.raises(ValueError, match=r"X: series 0 \(0-based\) has 800 samples .*frame of 1000"):
        S4Classifier(**params, frame_length=1000).fit(X, y, sample_rate=8000.0)
    clf = S4Classifier(**params, frame_length=40).fit(X, y, sample_rate=8000.0)
    with pytest.raises(ValueError, match=r"X: series 0 \(0-based\) has 30 samples \(8 series.*frame of 40"):
        clf.predict(X[:, :30])
    assert len(clf.predict(X[:, :30], sample_rate=4000.0)) == 8  # half the rate: frames of 20
    with pytest.raises(ValueError, match=r"has 15 samples .*frame of 20 samples"):
        clf.predict(X[:, :15], sample_rate=4000.0)
