"""S4Classifier's training recipe: series normalisation, augmentation, epoch budget, ensemble, temperature."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from test_params import waves as sine_waves

from s4ts.classification import S4Classifier
from s4ts.classification.training import (
    AUTO_BATCH,
    AUTO_EPOCHS,
    AUTO_LONG_EPOCHS,
    AUTO_STEPS,
    AUTO_WORK,
    batch_budget,
    epoch_budget,
)
from s4ts.data.augment import random_crop, random_scale
from s4ts.data.sequences import pad_sequences, series_standardise
from s4ts.nn.ensemble import fit_temperature

TINY = {"d_model": 8, "d_state": 8, "dropout": 0.0, "batch_size": 8, "n_layers": 1, "n_estimators": 1}


def waves(n: int = 24, length: int = 24, seed: int = 0):
    """test_params' two classes of noisy sinusoids, each series at a random level and amplitude."""
    X, y = sine_waves(n, length, seed)
    rng = np.random.default_rng(seed + 100)
    return rng.uniform(0.5, 5.0, (n, 1)) * X + rng.uniform(-10, 10, (n, 1)), y


def test_random_crop_keeps_a_contiguous_part_of_each_series_moved_to_the_start():
    torch.manual_seed(0)
    lengths = torch.tensor([10, 4, 1])
    mask = torch.arange(10)[None] < lengths[:, None]  # (3, 10)
    x = (torch.arange(10.0)[None, :, None] + 100 * torch.arange(3.0)[:, None, None]).expand(3, 10, 2)
    x = x * mask[..., None]
    for _ in range(20):
        cropped, kept = random_crop(x, mask, 0.5)
        n_kept = kept.sum(dim=1)
        assert torch.all(n_kept >= torch.ceil(0.5 * lengths)) and torch.all(n_kept <= lengths)
        for i in range(3):
            part = cropped[i, : n_kept[i], 0]
            start = part[0] - 100 * i
            # the original steps start..start+kept-1 of series i, and zeros after them
            torch.testing.assert_close(part, 100 * i + start + torch.arange(float(n_kept[i])))
            assert start + n_kept[i] <= lengths[i]
            assert torch.all(cropped[i, n_kept[i]:] == 0) and not kept[i, n_kept[i]:].any()
            torch.testing.assert_close(cropped[i, : n_kept[i], 1], part)  # channels move together


def test_random_scale_multiplies_each_series_and_channel_by_one_positive_factor():
    torch.manual_seed(0)
    x = torch.ones(4, 7, 3)
    factors = random_scale(x, 0.1)
    assert factors.shape == x.shape and torch.all(factors > 0)
    assert torch.all(factors == factors[:, :1])  # one factor per series and channel
    assert not torch.allclose(factors[0, 0, 0], factors[1, 0, 0])


def test_series_standardise_over_valid_steps_only():
    rng = np.random.default_rng(0)
    series = [rng.normal(5, 3, (2, 30)), rng.normal(-2, 0.1, (2, 12)), np.full((2, 5), 7.0)]
    values, mask = pad_sequences(series)
    out = series_standardise(values, mask)
    for i, s in enumerate(series):
        z = out[i, : s.shape[1]]  # (L_i, C)
        if i < 2:
            np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-6)
            np.testing.assert_allclose(z.std(axis=0), 1.0, atol=1e-6)
        assert np.all(out[i, s.shape[1]:] == 0)
    np.testing.assert_array_equal(out[2, :5], 0.0)  # a constant channel is centred, not divided by 0


def test_series_norm_makes_predictions_blind_to_each_series_level_and_amplitude():
    X, y = waves()
    clf = S4Classifier(**TINY, max_epochs=2, val_size=0, norm="series", random_state=0).fit(X, y)
    rng = np.random.default_rng(1)
    moved = rng.uniform(0.2, 9.0, (len(X), 1)) * X + rng.uniform(-50, 50, (len(X), 1))
    np.testing.assert_allclose(clf.predict_proba(moved), clf.predict_proba(X), atol=1e-5)
    dataset = S4Classifier(**TINY, max_epochs=2, val_size=0, norm="dataset", random_state=0).fit(X, y)
    assert not np.allclose(dataset.predict_proba(moved), dataset.predict_proba(X), atol=1e-3)


def test_auto_epochs_plan_about_the_same_number_of_steps_for_few_and_many_series():
    low, high = AUTO_EPOCHS
    assert epoch_budget(7, 10_000, 32, 100.0) == 7
    assert epoch_budget("auto", 40, 32, 100.0) == high  # one batch an epoch: capped
    many = epoch_budget("auto", 32 * 20, 32, 100.0)
    assert many == -(-AUTO_STEPS // 20)
    assert epoch_budget("auto", 10**4, 32, 10.0) == low


def test_auto_epochs_of_long_series_stay_within_the_work_budget():
    assert epoch_budget("auto", 200, 25, 16_384.0) == AUTO_LONG_EPOCHS  # 3.3e6 series-steps an epoch
    work_bound = epoch_budget("auto", 100, 12, 2_000.0)  # 2e5 series-steps an epoch
    assert work_bound == int(AUTO_WORK // 2e5) < epoch_budget("auto", 100, 12, 200.0)


def test_auto_batch_size_is_an_eighth_of_the_series_within_bounds():
    low, high = AUTO_BATCH
    assert batch_budget(5, 1000) == 5
    assert batch_budget("auto", 36) == low and batch_budget("auto", 10_000) == high
    assert batch_budget("auto", 200) == 25


def test_fit_temperature_recovers_the_temperature_that_generated_the_labels():
    rng = np.random.default_rng(0)
    logits = torch.tensor(rng.normal(0, 3, (20_000, 4)))
    probs = torch.softmax(logits / 2.5, dim=-1).numpy()
    labels = torch.tensor([rng.choice(4, p=p) for p in probs])
    assert fit_temperature(logits, labels) == pytest.approx(2.5, rel=0.05)


def test_ensemble_averages_its_members_temperature_scaled_probabilities(tmp_path):
    X, y = waves(n=32)
    clf = S4Classifier(**{**TINY, "n_estimators": 3}, max_epochs=3, val_size=0.25, random_state=0).fit(X, y)
    assert len(clf.network_.members) == 3 and clf.temperature_ > 0
    assert clf.n_epochs_ == 9
    values, _, _ = clf._prepare(X, "X", 1)
    with torch.no_grad():
        member_probs = [torch.softmax(m(torch.from_numpy(values)) / clf.temperature_, dim=-1)
                        for m in clf.network_.members]
    expected = torch.stack(member_probs).mean(dim=0).numpy()
    np.testing.assert_allclose(clf.predict_proba(X), expected, atol=1e-5)
    # members differ: each has its own seed and validation split
    assert not np.allclose(member_probs[0].numpy(), member_probs[1].numpy(), atol=1e-4)
    clf.save(tmp_path / "ens")
    loaded = S4Classifier.load(tmp_path / "ens")
    assert loaded.temperature_ == clf.temperature_
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-6)


def test_temperature_is_fitted_on_held_out_series_and_one_without_them():
    X, y = waves(n=32)
    with_val = S4Classifier(**TINY, max_epochs=5, val_size=0.25, random_state=0).fit(X, y)
    assert with_val.temperature_ != 1.0
    without = S4Classifier(**TINY, max_epochs=5, val_size=0, random_state=0).fit(X, y)
    assert without.temperature_ == 1.0


def test_a_model_saved_before_ensembles_loads_as_one_member(tmp_path):
    X, y = waves(n=16)
    clf = S4Classifier(**TINY, max_epochs=1, val_size=0, norm="dataset", augment=False,
                       label_smoothing=0.0, random_state=0).fit(X, y)  # as earlier versions trained
    clf.save(tmp_path)
    # Rewrite the folder as an earlier version wrote it: one network's weights, no
    # temperature, no n_estimators parameter, no checksum.
    single = {k.removeprefix("members.0."): v for k, v in clf.network_.state_dict().items()
              if k.startswith("members.0.")}
    torch.save(single, tmp_path / "model.pt")
    config = json.loads((tmp_path / "config.json").read_text())
    for key in ("temperature", "weights_sha256"):
        config.pop(key, None)
    for key in ("n_estimators", "norm", "augment", "label_smoothing"):
        config["params"].pop(key)
    config["params"]["max_epochs"] = 1
    (tmp_path / "config.json").write_text(json.dumps(config))
    loaded = S4Classifier.load(tmp_path)
    assert loaded.n_estimators == 1 and loaded.temperature_ == 1.0 and loaded.norm == "dataset"
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-6)


def test_without_early_stopping_the_final_weights_are_kept_and_with_it_the_best():
    X, y = waves(n=32)
    last = S4Classifier(**TINY, max_epochs=4, val_size=0.25, random_state=0).fit(X, y)
    assert last.n_epochs_ == 4 and last.best_epoch_ == 4
    # Zero learning rates: no epoch improves on the weights before training, which are kept.
    best = S4Classifier(**TINY, max_epochs=4, val_size=0.25, learning_rate=0.0,
                        ssm_lr=0.0, early_stopping_patience=10, random_state=0).fit(X, y)
    assert best.best_epoch_ == 0


def test_trim_padding_drops_steps_past_the_longest_series():
    from s4ts.nn.pooling import trim_padding

    x = torch.arange(12.0).reshape(2, 6, 1)
    mask = torch.tensor([[True] * 4 + [False] * 2, [True] * 2 + [False] * 4])
    trimmed, kept = trim_padding(x, mask)
    assert trimmed.shape == (2, 4, 1) and kept.shape == (2, 4)
    torch.testing.assert_close(trimmed, x[:, :4])
    trimmed, kept = trim_padding(x, torch.ones(2, 6, dtype=torch.bool))
    assert trimmed.shape == (2, 6, 1) and kept is None  # no padding: the unmasked path
