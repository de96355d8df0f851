"""s4ts.data.sequences: classifier inputs to padded arrays, label alignment, validation split."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from s4ts.data.sequences import (
    align_labels,
    channel_statistics,
    frame_to_sequences,
    pad_sequences,
    standardise,
    to_sequences,
    validation_split,
)


def test_array_and_list_inputs_become_channel_by_length_arrays():
    X = np.arange(24.0).reshape(2, 3, 4)  # (n, C, L)
    series, ids = to_sequences(X)
    assert ids is None and [s.shape for s in series] == [(3, 4), (3, 4)]
    np.testing.assert_array_equal(series[1], X[1])
    two_d, _ = to_sequences(X[:, 0])  # (n, L): one channel
    assert [s.shape for s in two_d] == [(1, 4), (1, 4)]
    ragged, _ = to_sequences([np.zeros(5), np.ones(3)])  # (L_i,) each
    assert [s.shape for s in ragged] == [(1, 5), (1, 3)]
    assert all(s.dtype == np.float64 for s in ragged)


def test_long_frame_sorted_per_id_in_order_of_first_appearance():
    frame = pd.DataFrame({
        "id": ["b", "b", "a", "a", "a"],
        "time": [1, 0, 2, 0, 1],
        "x": [11.0, 10.0, 2.0, 0.0, 1.0],
        "z": [0.0] * 5,
    })
    before = frame.copy()
    series, ids = to_sequences(frame)
    pd.testing.assert_frame_equal(frame, before)  # never mutated
    assert ids == ["b", "a"]
    np.testing.assert_array_equal(series[0], [[10.0, 11.0], [0.0, 0.0]])  # (C=2, L=2)
    np.testing.assert_array_equal(series[1][0], [0.0, 1.0, 2.0])
    assert frame_to_sequences(frame)[1] == ids


def test_long_frame_orders_steps_by_numeric_time_and_takes_ids_of_mixed_types():
    frame = pd.DataFrame({"id": [1, 1, 1, "b", "b"], "time": [2.0, 10.0, 1.0, 5.0, 0.5],
                          "x": [2.0, 10.0, 1.0, 5.0, 0.5]})
    series, ids = to_sequences(frame)
    assert ids == [1, "b"]
    np.testing.assert_array_equal(series[0][0], [1.0, 2.0, 10.0])  # 10 after 2, not between 1 and 2
    np.testing.assert_array_equal(series[1][0], [0.5, 5.0])


@pytest.mark.parametrize("X, error, match", [
    ([], ValueError, "no series"),
    (np.zeros((2, 2, 2, 2)), ValueError, "4 dimension"),
    ([np.zeros((2, 2, 2))], ValueError, r"X\[0\] has shape"),
    ([np.zeros((2, 5)), np.zeros((3, 5))], ValueError, r"X\[1\] has 3 channels"),
    ([np.zeros((1, 0))], ValueError, "empty"),
    (np.array([[[0.0, np.inf]]]), ValueError, "channel 0, step 1"),
    ({"a": 1}, TypeError, "3D array"),
    (np.zeros((2, 3), dtype=complex), ValueError, "Complex data not supported: X holds complex"),
    ([np.zeros(3), np.ones(3) * 1j], ValueError, r"X\[1\] holds complex numbers"),
    (np.zeros(3), ValueError, "Reshape your data"),
    (pd.DataFrame({"id": [1], "x": [0.0]}), ValueError, "'time' is missing"),
    (pd.DataFrame({"id": [1], "time": [0]}), ValueError, "no value column"),
    (pd.DataFrame({"id": [1], "time": [0], "x": ["a"]}), TypeError, "numeric"),
    (pd.DataFrame({"id": [1, 1], "time": [0, 0], "x": [0.0, 1.0]}), ValueError, "duplicate"),
    (pd.DataFrame({"id": [1, 1], "time": ["t1", "t2"], "x": [0.0, 1.0]}), TypeError, "'time' has dtype"),
    (pd.DataFrame({"id": [1, 1], "time": [0.0, np.nan], "x": [0.0, 1.0]}), ValueError, "'time' is missing at row 1"),
    (pd.DataFrame({"id": [1, None], "time": [0, 1], "x": [0.0, 1.0]}), ValueError, "'id' is missing at row 1"),
    (pd.DataFrame({"id": ["s", "s"], "time": [0, 1], "x": [0.0, np.nan]}), ValueError, "series 's'"),
])
def test_bad_inputs_say_what_and_where(X, error, match):
    with pytest.raises(error, match=match):
        to_sequences(X)


def test_pad_sequences_masks_the_padding():
    values, mask = pad_sequences([np.ones((2, 3)), 2 * np.ones((2, 1))])
    assert values.shape == (2, 3, 2) and values.dtype == np.float32  # (n, L, C)
    assert mask.tolist() == [[True, True, True], [True, False, False]]
    np.testing.assert_array_equal(values[1, :, 0], [2.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="at least one series"):
        pad_sequences([])


def test_align_labels_by_id_or_position():
    y = pd.Series(["x", "y"], index=["b", "a"])
    np.testing.assert_array_equal(align_labels(y, ["a", "b"], 2), ["y", "x"])
    np.testing.assert_array_equal(align_labels(["p", "q"], None, 2), ["p", "q"])
    with pytest.raises(ValueError, match="2 series but y has 3"):
        align_labels([1, 2, 3], None, 2)
    with pytest.raises(ValueError, match="1D"):
        align_labels(np.zeros((2, 2)), None, 2)
    with pytest.raises(ValueError, match="NaN label at position 1"):
        align_labels([0.0, np.nan], None, 2)
    with pytest.raises(ValueError, match="missing label at position 0"):
        align_labels(np.array([None, "a"], dtype=object), None, 2)


def test_validation_split_fraction_count_and_none(caplog):
    labels = np.repeat([0, 1], 10)
    train, val = validation_split(labels, 0.2, seed=0)
    assert len(val) == 4 and sorted(np.bincount(labels[val])) == [2, 2]  # stratified
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(20))
    again = validation_split(labels, 0.2, seed=0)
    np.testing.assert_array_equal(again[1], val)  # the seed decides the split
    assert len(validation_split(labels, 3, seed=0)[1]) == 3
    train, val = validation_split(labels, 0, seed=0)
    assert len(train) == 20 and len(val) == 0
    with pytest.raises(ValueError, match="val_size=20"):
        validation_split(labels, 20, seed=0)
    with caplog.at_level(logging.WARNING):
        train, val = validation_split(np.tile([0, 1], 3), 0.1, seed=0)  # 1 series < 2 classes
    assert len(val) == 0 and "without validation" in caplog.text


def test_sparse_input_is_refused_by_name():
    from scipy import sparse

    with pytest.raises(TypeError, match="sparse input is not supported.*toarray"):
        to_sequences(sparse.csr_matrix(np.eye(3)))


def test_labels_none_continuous_or_a_column_vector():
    with pytest.raises(ValueError, match="requires y to be passed"):
        align_labels(None, None, 3)
    with pytest.raises(ValueError, match="continuous values"):
        align_labels([0.5, 1.25, 2.0], None, 3)
    with pytest.warns(UserWarning, match="A column-vector y was passed"):
        labels = align_labels(np.array([[1], [2], [1]]), None, 3)
    np.testing.assert_array_equal(labels, [1, 2, 1])


def test_standardisation_in_float64_and_values_the_network_cannot_read():
    values, mask = pad_sequences([np.array([[1e30, -1e30, 3e30]]), np.array([[2e30, 0.0]])])
    mean, scale = channel_statistics(values, mask)  # float32 squares of 1e30 would overflow
    assert np.isfinite(scale).all() and scale[0] > 1e29
    z = standardise(values, mask, mean, scale, ["a", "b"], "X")
    assert z.dtype == np.float32 and np.isfinite(z).all() and z[1, 2, 0] == 0.0  # padding stays 0
    with pytest.raises(ValueError, match=r"X: series 'b' reaches 1e\+20 at channel 0, step 0.*divide X"):
        standardise(np.array([[[0.0]], [[1e20]]]), np.ones((2, 1), bool), np.zeros(1), np.ones(1), ["a", "b"], "X")
    with pytest.raises(ValueError, match=r"X\[0\] has 1e\+300 at channel 0, step 1, beyond float32's range"):
        to_sequences(np.array([[0.0, 1e300]]))
