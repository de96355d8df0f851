"""cross_series=True: every series reads all fitted series' values (the joint multivariate option)."""

import numpy as np
import pandas as pd
import pytest

from s4ts.forecasting import S4Forecaster

SMALL = {"horizon": 3, "context_length": 12, "d_model": 16, "n_layers": 1, "batches_per_epoch": 30,
         "distribution": "point", "val_size": 30, "random_state": 0}


def lead_lag(n: int = 400) -> pd.DataFrame:
    """White noise 'lagging' and its copy 'leading', 3 steps ahead of it (wide, hourly)."""
    x = np.random.default_rng(0).normal(size=n + 3)
    return pd.DataFrame({"lagging": x[:n], "leading": x[3:]}, index=pd.date_range("2020", periods=n, freq="h"))


def lagging_mae(forecasts: pd.DataFrame) -> float:
    rows = forecasts[forecasts["unique_id"] == "lagging"]
    return float(np.abs(rows["y"] - rows["y_pred"]).mean())


def test_joint_inputs_forecast_what_one_series_alone_cannot():
    # 'lagging' is unpredictable from its own past (MAE about 0.8-0.9 of noise with unit scale),
    # but its next 3 values are the last 3 of 'leading'.
    wide = lead_lag()
    independent = S4Forecaster(max_epochs=10, **SMALL).cross_validation(wide, n_windows=20, step=3)
    joint = S4Forecaster(cross_series=True, max_epochs=10, **SMALL).cross_validation(wide, n_windows=20, step=3)
    assert lagging_mae(independent) > 0.8
    assert lagging_mae(joint) < 0.6 * lagging_mae(independent)


@pytest.fixture(scope="module")
def joint():
    return S4Forecaster(cross_series=True, max_epochs=1, **SMALL).fit(lead_lag(200))


def test_update_equals_predicting_from_the_longer_history(joint, tmp_path):
    wide = lead_lag(203)
    old, new = wide.iloc[:200], wide.iloc[200:]
    before = old.copy()
    expected = joint.predict(df=wide)
    joint.save(tmp_path / "m")
    loaded = S4Forecaster.load(tmp_path / "m")
    loaded.update(new)
    pd.testing.assert_frame_equal(loaded.predict(), expected)
    pd.testing.assert_frame_equal(old, before)


def test_every_fitted_series_is_needed(joint):
    wide = lead_lag(203)
    with pytest.raises(ValueError, match=r"df: series \['leading'\].*cross_series=True"):
        joint.predict(df=wide[["lagging"]])
    with pytest.raises(ValueError, match=r"new_observations: series \['leading'\]"):
        joint.update(wide[["lagging"]].iloc[200:])


def test_irregular_series_are_refused():
    rng = np.random.default_rng(0)
    stamps = pd.Timestamp("2020-01-01") + pd.to_timedelta(np.cumsum(rng.uniform(0.5, 1.5, 120)), unit="h")
    frame = pd.DataFrame({"unique_id": "a", "ds": stamps, "y": rng.normal(size=120)})
    model = S4Forecaster(cross_series=True, time_grid="irregular", max_epochs=1, **SMALL)
    with pytest.raises(ValueError, match="irregular timestamps; cross_series=True"):
        model.fit(frame)


def test_cross_series_must_be_a_bool():
    with pytest.raises(TypeError, match="cross_series='yes'"):
        S4Forecaster(cross_series="yes").fit(lead_lag(100))
