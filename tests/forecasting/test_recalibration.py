"""calibrate_quantiles="recent": quantile widths from each series' latest windows, at every forecast."""

import copy

import numpy as np
import pandas as pd
import pytest
from forecast_data import HORIZON, TINY, future_of, make_frame

from s4ts.forecasting import S4Forecaster, recalibration
from s4ts.forecasting.recalibration import RECENT_WINDOWS
from s4ts.nn.distributions import quantile_widths

RECENT = {**TINY, "calibrate_quantiles": "recent", "futr_exog": ["promo"]}
LEVELS = [0.1, 0.5, 0.9]
QUANTILE_COLS = ["y_q0.1", "y_q0.5", "y_q0.9"]


@pytest.fixture(scope="module")
def frame():
    return make_frame(length=300)


@pytest.fixture(scope="module")
def recent(frame):
    return S4Forecaster(**RECENT).fit(frame)


def _trained(model: S4Forecaster) -> S4Forecaster:
    """The same fitted network forecasting with its trained widths."""
    return copy.copy(model).set_params(calibrate_quantiles=False)


def _hand_widths(model: S4Forecaster, frame: pd.DataFrame, n_windows: int) -> list[float]:
    """The widths of the trained quantiles on the `n_windows` horizon-long windows that end
    at each series' last observation, pooled over the series (their histories end together)."""
    windows = _trained(model).historical_forecasts(frame, n_windows=n_windows, step=HORIZON)
    return quantile_widths(windows[QUANTILE_COLS].to_numpy(), windows["y"].to_numpy(), LEVELS)


def _assert_widths(model: S4Forecaster, expected: list[float], future: pd.DataFrame, df=None) -> None:
    """`model`'s forecast is its trained one with each quantile's distance from the median scaled by `expected`."""
    got, trained = model.predict(df, X_future=future), _trained(model).predict(df, X_future=future)
    median = trained["y_q0.5"].to_numpy()
    for width, column in zip(expected, QUANTILE_COLS):
        np.testing.assert_allclose(got[column], median + width * (trained[column] - median), rtol=1e-6)
    np.testing.assert_array_equal(got["y_pred"], trained["y_pred"])  # the median stays


def test_widths_are_those_of_the_held_out_windows(recent, frame):
    # val_size=None held out the last 2 horizons of each 300-step series: the network trained
    # on the values before them, whose errors would understate a forecast's.
    assert recent.val_size_ == 2 * HORIZON
    assert recent.series_["s0"].trained_until == frame["ds"].iloc[300 - 2 * HORIZON - 1]
    expected = _hand_widths(recent, frame, 2)
    assert expected != [1.0, 1.0, 1.0] and expected[1] == 1.0
    assert expected != _hand_widths(recent, frame, RECENT_WINDOWS)
    _assert_widths(recent, expected, future_of(frame))


def test_without_skipping_trained_values_the_latest_whole_windows_count(recent, frame, monkeypatch):
    monkeypatch.setattr(recalibration, "SKIP_TRAINED", False)  # calibration v4's "recent"
    _assert_widths(recent, _hand_widths(recent, frame, RECENT_WINDOWS), future_of(frame))


def test_a_series_the_network_never_saw_calibrates_on_all_its_windows(recent):
    other = make_frame(length=300, seed=5)
    other["unique_id"] = other["unique_id"].map({"s0": "new0", "s1": "new1"})
    _assert_widths(recent, _hand_widths(recent, other, RECENT_WINDOWS), future_of(other), other)


def test_after_training_on_everything_only_new_observations_calibrate(frame):
    model = S4Forecaster(**{**RECENT, "val_size": 0}).fit(frame.groupby("unique_id").head(276))
    future = future_of(frame)
    _assert_widths(model, [1.0, 1.0, 1.0], future_of(frame.groupby("unique_id").head(276)))
    model.update(frame.groupby("unique_id").tail(24))  # two horizons the network never trained on
    expected = _hand_widths(model, frame, 2)
    assert expected != [1.0, 1.0, 1.0]
    _assert_widths(model, expected, future)


def test_a_warm_start_on_earlier_data_keeps_the_later_training_end(frame):
    model = S4Forecaster(**RECENT).fit(frame)
    until = model.series_["s0"].trained_until
    model.set_params(warm_start=True, max_epochs=1).fit(frame.groupby("unique_id").head(200))
    assert model.series_["s0"].trained_until == until


def test_stored_update_and_given_history_forecast_alike(frame):
    old = frame.groupby("unique_id").head(280)
    new = frame.groupby("unique_id").tail(20)
    model = S4Forecaster(**RECENT).fit(old)
    model.update(new)
    pd.testing.assert_frame_equal(model.predict(X_future=future_of(frame)),
                                  model.predict(frame, X_future=future_of(frame)))


def test_save_and_load_keep_the_recent_windows(recent, frame, tmp_path):
    recent.save(tmp_path / "model")
    loaded = S4Forecaster.load(tmp_path / "model")
    future = future_of(frame)
    pd.testing.assert_frame_equal(loaded.predict(X_future=future), recent.predict(X_future=future))
    state = loaded.series_["s0"]
    assert state.trained_until == recent.series_["s0"].trained_until
    assert len(state.recent.times) == TINY["context_length"] + RECENT_WINDOWS * HORIZON
    assert len(state.history.times) == TINY["context_length"]


def test_a_backtest_window_reads_nothing_after_its_cutoff(frame):
    model = S4Forecaster(**RECENT).fit(frame.groupby("unique_id").head(200))
    changed = frame.copy()
    late = changed.groupby("unique_id").cumcount() >= 276  # after the second of three cutoffs
    changed.loc[late, "y"] += 50.0
    before = model.historical_forecasts(frame, n_windows=3, step=HORIZON)
    after = model.historical_forecasts(changed, n_windows=3, step=HORIZON)
    first_two = before["cutoff"] < before["cutoff"].max()
    cols = ["y_pred", *QUANTILE_COLS]
    pd.testing.assert_frame_equal(before.loc[first_two, cols], after.loc[first_two, cols])
    assert not np.allclose(before.loc[~first_two, "y_q0.9"], after.loc[~first_two, "y_q0.9"])


def test_a_noisier_recent_period_widens_the_band():
    rng = np.random.default_rng(3)
    calm = make_frame(n_series=3, length=400, noise=0.2)
    noisy = calm.copy()
    tail = noisy.groupby("unique_id").cumcount() >= 260
    noisy.loc[tail, "y"] += rng.normal(0, 1.5, tail.sum())  # the last 140 hours 7x noisier
    model = S4Forecaster(**RECENT).fit(calm.groupby("unique_id").head(260))
    plain = _trained(model)
    future = future_of(noisy)
    wide = model.predict(noisy, X_future=future)
    narrow = plain.predict(noisy, X_future=future)
    assert (wide["y_q0.9"] - wide["y_q0.1"]).mean() > 2 * (narrow["y_q0.9"] - narrow["y_q0.1"]).mean()


def test_a_student_t_head_keeps_its_quantiles(frame):
    t = S4Forecaster(**{**RECENT, "distribution": "student_t"}).fit(frame)
    assert all(state.recent is None for state in t.series_.values())
    both = t.predict(X_future=future_of(frame))
    plain = S4Forecaster(**{**RECENT, "distribution": "student_t", "calibrate_quantiles": False}).fit(frame)
    pd.testing.assert_frame_equal(both, plain.predict(X_future=future_of(frame)))


def test_only_recent_true_or_false_are_accepted(frame):
    with pytest.raises(TypeError, match="calibrate_quantiles='latest' must be 'recent', True or False"):
        S4Forecaster(**{**RECENT, "calibrate_quantiles": "latest"}).fit(frame)


def test_irregular_histories_keep_the_trained_quantiles(recent, frame):
    # Series the network never saw: as regular series every recent window would count.
    renamed = frame.assign(unique_id=frame["unique_id"].map({"s0": "new0", "s1": "new1"}))
    history = renamed.groupby("unique_id").head(250)
    future = renamed.groupby("unique_id").nth(slice(250, 250 + HORIZON))[["unique_id", "ds", "promo"]]
    irregular = copy.deepcopy(recent).set_params(time_grid="irregular")
    plain = _trained(irregular)
    pd.testing.assert_frame_equal(irregular.predict(history, X_future=future),
                                  plain.predict(history, X_future=future))
    assert not np.allclose(recent.predict(history, X_future=future)["y_q0.9"],
                           plain.predict(history, X_future=future)["y_q0.9"])


def test_origins_a_fraction_of_a_horizon_apart_count_partly_observed_windows(recent, monkeypatch):
    state = recent.series_["s0"]
    n = len(state.recent.times)
    # The two held-out windows; the ones before them the network trained on.
    assert recalibration._windows(state, HORIZON) == [n - 1 - k * HORIZON for k in (1, 2)]
    monkeypatch.setattr(recalibration, "SKIP_TRAINED", False)
    assert recalibration._windows(state, HORIZON) == [n - 1 - k * HORIZON for k in range(1, RECENT_WINDOWS + 1)]
    monkeypatch.setattr(recalibration, "WINDOW_STRIDE", 0.5)
    cuts = recalibration._windows(state, HORIZON)
    assert cuts == [n - 1 - k * HORIZON // 2 for k in range(1, RECENT_WINDOWS + 1)]
    # The latest window reaches past the end: it is scored on its observed half.
    assert cuts[0] + HORIZON > n - 1
