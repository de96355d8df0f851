"""The synthetic long-range order task: shapes, balance, where the motifs are, and its difficulty for pooled statistics."""

import numpy as np
import pytest

from s4ts.datasets.long_order import MOTIF_STEPS, _chirp, make_long_order


def _motif_starts(x: np.ndarray, motif: np.ndarray) -> int:
    """Start of the best match of `motif` in the series x (length,)."""
    scores = np.correlate(x, motif, mode="valid")
    return int(scores.argmax())


def test_shapes_balance_and_reproducibility():
    X, y = make_long_order(10, length=2048, seed=3)
    assert X.shape == (10, 1, 2048) and X.dtype == np.float32
    assert sorted(set(y)) == ["down_first", "up_first"] and (y == "up_first").sum() == 5
    X2, y2 = make_long_order(10, length=2048, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, make_long_order(10, length=2048, seed=4)[0])


def test_the_label_is_the_order_of_the_two_chirps():
    X, y = make_long_order(20, length=4096, seed=0, noise_corr=0.0)
    up, down = _chirp(True), _chirp(False)
    for series, label in zip(X[:, 0], y):
        up_at, down_at = _motif_starts(series, up), _motif_starts(series, down)
        assert abs(up_at - down_at) >= MOTIF_STEPS
        assert (up_at < down_at) == (label == "up_first")


def test_pooled_statistics_do_not_tell_the_classes_apart():
    X, y = make_long_order(400, length=1024, seed=1)
    first = y == "up_first"
    for stat in (np.mean, np.std, lambda a, axis: np.abs(np.diff(a, axis=axis)).mean(axis=axis)):
        values = stat(X[:, 0], axis=1)
        gap = abs(values[first].mean() - values[~first].mean())
        assert gap < 3 * values.std() / np.sqrt(first.sum())  # within sampling noise


def test_too_short_a_series_is_refused():
    with pytest.raises(ValueError, match="length=100"):
        make_long_order(4, length=100)
