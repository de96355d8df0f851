"""Point and probabilistic forecast metrics (s4ts.metrics)."""

import numpy as np
import pandas as pd
import pytest

from s4ts import metrics


def test_point_metrics_ignore_missing_truth():
    y = np.array([1.0, 2.0, np.nan, 4.0])
    p = np.array([2.0, 2.0, 100.0, 2.0])
    assert metrics.mae(y, p) == pytest.approx(1.0)
    assert metrics.mse(y, p) == pytest.approx(5 / 3)
    assert metrics.smape([0.0, 1.0], [0.0, 1.0]) == 0.0
    assert metrics.smape([1.0], [3.0]) == pytest.approx(100.0)


def test_mase_scales_by_seasonal_naive():
    train = np.array([1.0, 3.0, 1.0, 3.0, 1.0])
    assert metrics.mase([2.0], [3.0], train, season=1) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="longer than the season"):
        metrics.mase([1.0], [1.0], train, season=5)


def test_quantile_loss_and_crps():
    levels = [0.1, 0.5, 0.9]
    q = np.array([[0.0, 1.0, 2.0]])
    assert metrics.quantile_loss([1.0], q, levels) == pytest.approx((0.1 + 0 + 0.1) / 3)
    assert metrics.crps_from_quantiles([1.0], q, levels) == pytest.approx(2 * 0.2 / 3)
    # CRPS of a point mass is the absolute error; of N(0,1) at 0 it is (sqrt(2) - 1) / sqrt(pi).
    assert metrics.crps_from_samples([1.0], np.full((5, 1), 3.0)) == pytest.approx(2.0)
    draws = np.random.default_rng(0).normal(size=(20000, 1))
    assert metrics.crps_from_samples([0.0], draws) == pytest.approx(0.2337, abs=0.01)


def test_coverage_and_seasonal_naive():
    assert metrics.coverage([1.0, 5.0, np.nan], [0.0, 0.0, 0.0], [2.0, 2.0, 2.0]) == 0.5
    np.testing.assert_array_equal(metrics.seasonal_naive([1, 2, 3, 4, 5], 4, season=2), [4, 5, 4, 5])


def test_evaluate_frame():
    forecasts = pd.DataFrame({"id": ["a", "a"], "y": [1.0, 2.0], "p": [1.0, 3.0],
                              "lo": [0.0, 0.0], "hi": [2.0, 2.5]})
    train = pd.DataFrame({"id": ["a"] * 3, "y": [0.0, 1.0, 2.0]})
    scores = metrics.evaluate(forecasts, train, id_col="id", target_col="y", pred_col="p",
                              quantile_cols={0.1: "lo", 0.9: "hi"})
    assert scores["mae"] == pytest.approx(0.5) and scores["mase"] == pytest.approx(0.5)
    assert scores["coverage"] == 1.0
    assert set(scores) == {"mae", "mse", "smape", "mase", "quantile_loss", "crps", "coverage"}


def test_mase_of_a_flat_history_is_nan_with_a_warning():
    with pytest.warns(UserWarning, match="MASE is undefined for the training history"):
        assert np.isnan(metrics.mase([1.0, 2.0], [1.0, 1.0], np.zeros(10), season=2))
    forecasts = pd.DataFrame({"id": ["flat"] * 2 + ["busy"] * 2, "y": [0.0, 1.0, 3.0, 5.0],
                              "y_pred": [0.0, 0.0, 4.0, 4.0]})
    train = pd.DataFrame({"id": ["flat"] * 4 + ["busy"] * 4, "y": [0.0] * 4 + [1.0, 3.0, 1.0, 3.0]})
    with pytest.warns(UserWarning, match=r"series \['flat'\] \(1 of 2\).*mean is over the other"):
        scores = metrics.evaluate(forecasts, train, id_col="id", target_col="y", pred_col="y_pred")
    assert scores["mase"] == pytest.approx(1.0 / 2.0)  # busy: MAE 1 over its naive error 2
