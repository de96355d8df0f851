"""QuantileHead.calibrate: width factors that give held-out coverage at each level."""

from __future__ import annotations

import numpy as np
import pytest

from s4ts.nn.distributions import QuantileHead, head_from_config

LEVELS = [0.1, 0.5, 0.9]
Z90 = 1.2815515655446004  # standard normal 0.9 quantile


def _forecasts(n: int, spread: float, seed: int = 0):
    """Quantile outputs (n, 3) of N(0, 1) truths claimed with standard deviation `spread`."""
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    raw = np.stack([np.full(n, -Z90 * spread), np.zeros(n), np.full(n, Z90 * spread)], axis=1)
    return raw, y


@pytest.mark.parametrize("spread", [0.5, 1.0, 2.0])
def test_widths_correct_a_band_that_is_too_narrow_or_too_wide(spread):
    head = QuantileHead(LEVELS)
    raw, y = _forecasts(20_000, spread)
    assert head.calibrate(raw, y) == 20_000
    assert head.widths[1] == 1.0
    np.testing.assert_allclose(head.widths, [1 / spread, 1.0, 1 / spread], rtol=0.05)
    fresh_raw, fresh_y = _forecasts(20_000, spread, seed=1)
    q = head.quantile(fresh_raw, LEVELS)
    assert np.mean(fresh_y < q[:, 0]) == pytest.approx(0.1, abs=0.01)
    assert np.mean(fresh_y < q[:, 2]) == pytest.approx(0.9, abs=0.01)
    np.testing.assert_array_equal(head.point(fresh_raw), 0.0)  # the median stays


def test_skewed_errors_keep_half_their_skew_and_the_band_its_coverage():
    head = QuantileHead(LEVELS)
    raw, y = _forecasts(20_000, 1.0)
    head.calibrate(raw, np.where(y > 0, 2 * y, y))  # the upper tail is twice as wide
    # Own widths alone would be 1 and 2; their geometric means with the band's common
    # factor keep half the skew in log: a ratio of sqrt(2), both wider than 1.
    assert head.widths[2] / head.widths[0] == pytest.approx(np.sqrt(2.0), rel=0.05)
    assert head.widths[0] > 1.1
    fresh_raw, fresh_y = _forecasts(20_000, 1.0, seed=1)
    fresh_y = np.where(fresh_y > 0, 2 * fresh_y, fresh_y)
    q = head.quantile(fresh_raw, LEVELS)
    assert np.mean((fresh_y > q[:, 0]) & (fresh_y < q[:, 2])) == pytest.approx(0.8, abs=0.02)


def test_a_level_without_a_mirror_keeps_its_own_width():
    levels = [0.1, 0.5, 0.8]
    rng = np.random.default_rng(0)
    y = rng.normal(size=20_000)
    raw = np.stack([np.full(len(y), -Z90), np.zeros(len(y)), np.full(len(y), 0.8416 / 2)], axis=1)
    head = QuantileHead(levels)
    head.calibrate(raw, y)  # the 0.8 level claimed at half its true distance: width 2
    assert head.widths[2] == pytest.approx(2.0, rel=0.05)
    assert head.widths[0] == pytest.approx(1.0, rel=0.05)


def test_too_few_observed_points_leave_the_widths_alone():
    head = QuantileHead(LEVELS)
    raw, y = _forecasts(30, 0.5)
    y[:15] = np.nan  # 15 observed: fewer than 20
    assert head.calibrate(raw, y) == 0
    assert head.widths == [1.0, 1.0, 1.0]


def test_widths_are_bounded_and_keep_quantiles_ordered():
    head = QuantileHead(LEVELS)
    raw, y = _forecasts(1_000, 1e-3)  # a band 1,000 times too narrow
    head.calibrate(raw, y)
    assert head.widths[0] == head.widths[2] == 5.0
    crossing = np.array([[0.3, 0.0, -0.2]])  # raw outputs that cross
    q = head.quantile(crossing, LEVELS)
    assert np.all(np.diff(q, axis=-1) >= 0)


def test_widths_survive_the_config_round_trip():
    head = QuantileHead(LEVELS)
    head.calibrate(*_forecasts(500, 0.5))
    again = head_from_config(head.config())
    assert again.widths == head.widths
    assert head_from_config({"kind": "quantile", "quantiles": LEVELS}).widths == [1.0] * 3
