"""Scaling, calendar features, input encoding and training windows (s4ts.data.windows)."""

import numpy as np
import pandas as pd
import pytest

from s4ts.data.frames import SeriesData
from s4ts.data.windows import (
    Featurizer,
    WindowDataset,
    calendar_features,
    covered_periods,
    fit_scale,
    window_index,
)


def test_standard_and_robust_scaling_ignore_nan():
    y = np.array([1.0, 2.0, np.nan, 3.0, 4.0])
    assert fit_scale(y, "standard") == pytest.approx((2.5, np.std([1, 2, 3, 4])))
    loc, scale = fit_scale(np.r_[np.arange(9.0), 1000.0], "robust")
    assert loc == pytest.approx(4.5) and scale < 10  # the outlier does not inflate the scale
    assert fit_scale(y, None) == (0.0, 1.0)
    assert fit_scale(np.full(4, 7.0), "standard") == (7.0, 1.0)  # constant series stay finite
    with pytest.raises(ValueError, match="scaler='minmax'"):
        fit_scale(y, "minmax")


def test_calendar_features_are_cyclic():
    times = pd.date_range("2021-01-04", periods=48 * 7, freq="30min")  # a Monday
    cal = calendar_features(times)
    assert cal.shape == (48 * 7, 6)
    np.testing.assert_allclose(cal[0, :2], [0.0, 1.0], atol=1e-12)  # midnight
    np.testing.assert_allclose(cal[48, :2], cal[0, :2], atol=1e-9)  # a day later, same time of day
    assert not np.allclose(cal[48, 2:4], cal[0, 2:4])  # but another day of week


def test_calendar_features_of_chosen_cycles_are_columns_of_all_three():
    times = pd.date_range("2021-01-04", periods=100, freq="7h")
    full = calendar_features(times)
    np.testing.assert_array_equal(calendar_features(times, ("week",)), full[:, 2:4])
    np.testing.assert_array_equal(calendar_features(times, ("day", "year")), full[:, [0, 1, 4, 5]])
    assert calendar_features(times, ()).shape == (100, 0)


def _series(times) -> SeriesData:
    return SeriesData("a", times, np.zeros(len(times)), np.zeros((len(times), 0)), None)


@pytest.mark.parametrize(("freq", "periods", "expected"), [
    ("h", 24 * 13, ("day",)),  # 13 days: the week is not covered twice
    ("h", 24 * 15, ("day", "week")),
    ("30min", 48 * 731, ("day", "week", "year")),
    ("D", 800, ("week", "year")),  # daily steps: no time of day
    ("W-MON", 104, ()),  # two years minus a week
    ("W-MON", 110, ("year",)),
    ("MS", 36, ("year",)),
    ("QS-JAN", 7, ()),
])
def test_auto_calendar_takes_the_cycles_the_step_and_span_cover(freq, periods, expected):
    assert covered_periods([_series(pd.date_range("2015-01-01", periods=periods, freq=freq))]) == expected


def test_auto_calendar_reads_the_longest_series_and_no_integer_time():
    short = _series(pd.date_range("2020-01-01", periods=24 * 3, freq="h"))
    long = _series(pd.date_range("2019-01-01", periods=24 * 20, freq="h"))
    assert covered_periods([short, long]) == ("day", "week")
    assert covered_periods([_series(pd.Index(np.arange(1000)))]) == ()


def featurizer_and_series():
    times = pd.date_range("2021-01-01", periods=10, freq="D")
    cov = np.column_stack([np.arange(10.0), np.arange(10.0) * 2])  # futr, hist
    s = SeriesData("a", times, np.r_[np.arange(9.0), np.nan], cov, times.freq)
    return Featurizer(n_futr=1, n_hist=1, calendar=("day", "week", "year")).fit([s]), s


def test_featurizer_layout_and_missing_values():
    feat, s = featurizer_and_series()
    x = feat.encode(s.y, s.covariates, s.times)
    assert x.shape == (10, feat.n_channels) == (10, 2 + 1 + 1 + 6)
    assert x[-1, 0] == 0.0 and x[-1, 1] == 0.0  # missing y: imputed 0, observed flag 0
    assert x[0, 1] == 1.0
    np.testing.assert_allclose(x[:, 2].mean(), 0.0, atol=1e-6)  # covariates standardized
    assert feat.hidden_channels == [0, 1, 3]


def test_window_index_keeps_validation_out_of_training():
    train, val = window_index([20], horizon=3, val_size=6)
    assert train[:, 1].min() == 4 and train[:, 1].max() == 14  # targets end before the last 6
    assert sorted(val[:, 1].tolist()) == [17, 20]
    train, val = window_index([20, 10], horizon=3, val_size=0)
    assert len(val) == 0 and set(train[:, 0]) == {0, 1}


def test_window_dataset_pads_and_hides_forecast_inputs():
    feat, s = featurizer_and_series()
    x = feat.encode(s.y, s.covariates, s.times)
    data = WindowDataset([x], [s.y.astype(np.float32)], [1.0], np.array([[0, 5], [0, 10]]),
                         context_length=4, horizon=3, hidden_channels=feat.hidden_channels)
    item = data[0]  # end 5: window starts at -2, two padded steps
    assert item["x"].shape == (7, feat.n_channels)
    assert item["valid"].tolist() == [False, False, True, True, True, True, True]
    assert (item["x"][4:, feat.hidden_channels] == 0).all()  # y, observed, hist hidden
    assert (item["x"][4:, 2] != 0).any()  # future-known covariate visible
    assert item["loss_mask"].tolist() == [True] * 3  # targets: the horizon steps only
    assert item["y"].shape == (3,) and bool(item["regular"])
    assert item["dt"].tolist() == [1.0] * 7
    last = data[1]
    assert last["loss_mask"].tolist()[-1] is False  # the missing last value is not a target


def test_window_dataset_carries_per_step_gaps():
    feat, s = featurizer_and_series()
    x = feat.encode(s.y, s.covariates, s.times)
    gaps = np.arange(1.0, 11.0, dtype=np.float32)  # (T,) Δ multiplier of each step
    data = WindowDataset([x], [s.y.astype(np.float32)], [gaps], np.array([[0, 5], [0, 10]]),
                         context_length=4, horizon=3, hidden_channels=feat.hidden_channels)
    assert data[0]["dt"].tolist() == [1.0, 1.0, 1.0, 2.0, 3.0, 4.0, 5.0]  # padding: 1
    # The window's first step has no predecessor inside it: 1, as at prediction.
    assert data[1]["dt"].tolist() == [1.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    assert not bool(data[1]["regular"])
