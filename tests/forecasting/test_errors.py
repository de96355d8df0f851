"""Bad input to S4Forecaster: one test per case, each error naming what and where."""

import numpy as np
import pandas as pd
import pytest
from forecast_data import TINY, future_of, make_frame
from sklearn.exceptions import NotFittedError

from s4ts.forecasting import S4Forecaster


@pytest.fixture
def df():
    return make_frame()[["unique_id", "ds", "y"]]


def test_empty_frame(df):
    with pytest.raises(ValueError, match="df is empty"):
        S4Forecaster(**TINY).fit(df.iloc[:0])


def test_missing_columns(df):
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['y'\]"):
        S4Forecaster(**TINY).fit(df.rename(columns={"y": "value"}))
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['promo'\]"):
        S4Forecaster(futr_exog=["promo"], **TINY).fit(df)


def test_non_numeric_target(df):
    bad = df.astype({"y": object})
    bad.loc[5, "y"] = "high"
    with pytest.raises(TypeError, match="column 'y'.*must be numeric.*row 5.*'high'"):
        S4Forecaster(**TINY).fit(bad)


def test_time_neither_datetime_nor_integer(df):
    with pytest.raises(TypeError, match="time column 'ds' has dtype object"):
        S4Forecaster(**TINY).fit(df.assign(ds=df["ds"].astype(str)))
    with pytest.raises(TypeError, match="time column 'ds' has dtype float64"):
        S4Forecaster(**TINY).fit(df.assign(ds=np.arange(len(df)) * 1.5))


def test_duplicate_timestamps_within_a_series(df):
    bad = pd.concat([df, df.iloc[[250]]], ignore_index=True)
    with pytest.raises(ValueError, match="series 's1' has duplicate timestamp 2022-01-03 02:00:00"):
        S4Forecaster(**TINY).fit(bad)


def test_series_too_short(df):
    short = pd.concat([df, df.iloc[:10].assign(unique_id="tiny")], ignore_index=True)
    with pytest.raises(ValueError, match="series 'tiny' has 10 time steps; fitting needs at least 25"):
        S4Forecaster(**TINY).fit(short)


def test_all_nan_series(df):
    bad = df.copy()
    bad.loc[bad.unique_id == "s1", "y"] = np.nan
    with pytest.raises(ValueError, match=r"series \['s1'\] have no observed values"):
        S4Forecaster(**TINY).fit(bad)


def test_infinite_values(df):
    bad = df.copy()
    bad.loc[7, "y"] = -np.inf
    with pytest.raises(ValueError, match="column 'y' of series 's0' is infinite at row 7"):
        S4Forecaster(**TINY).fit(bad)


@pytest.mark.parametrize("horizon", [0, -3, 2.5])
def test_horizon_must_be_positive(df, horizon):
    with pytest.raises(ValueError, match=f"horizon={horizon}"):
        S4Forecaster(**{**TINY, "horizon": horizon}).fit(df)


def test_covariates_missing_for_the_horizon(fitted):
    frame = make_frame()
    with pytest.raises(ValueError, match="pass X_future with columns"):
        fitted.predict()
    future = future_of(frame).drop(index=5)
    with pytest.raises(ValueError, match="X_future lacks 'promo' for series 's0' at 2022-01-09 13:00"):
        fitted.predict(X_future=future)


def test_predict_before_fit():
    with pytest.raises(NotFittedError):
        S4Forecaster(**TINY).predict()
    with pytest.raises(NotFittedError):
        S4Forecaster(**TINY).update(make_frame())


def test_frequency_the_model_cannot_map_to(fitted):
    daily = make_frame().assign(ds=lambda d: d.groupby("unique_id").cumcount().map(
        lambda k: pd.Timestamp("2020-01-01") + pd.Timedelta(days=k)))
    # Daily data for an hourly model is rate 24: most of what the model learned aliases.
    with pytest.raises(ValueError, match="series 's0' .*is sampled at rate 24 .*max_rate.*refused"):
        fitted.predict(daily, X_future=future_of(daily))
    integer = make_frame().assign(ds=lambda d: d.groupby("unique_id").cumcount())
    with pytest.raises(ValueError, match="holds integer time but the model was fitted on datetime"):
        fitted.predict(integer)


def test_calendar_features_need_datetime(df):
    with pytest.raises(ValueError, match="calendar_features=True needs datetime"):
        S4Forecaster(calendar_features=True, **TINY).fit(df.assign(ds=df.groupby("unique_id").cumcount()))


def test_bad_settings(df):
    with pytest.raises(ValueError, match="scaler='zscore'"):
        S4Forecaster(scaler="zscore", **TINY).fit(df)
    with pytest.raises(ValueError, match="distribution='normal'"):
        S4Forecaster(distribution="normal", **TINY).fit(df)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        S4Forecaster(quantiles=(0.1, 1.5), **TINY).fit(df)
    with pytest.raises(ValueError, match="val_size=3 must be 0"):
        S4Forecaster(val_size=3, **TINY).fit(df)
    with pytest.raises(ValueError, match="appear twice"):
        S4Forecaster(futr_exog=["y"], **TINY).fit(df)
    with pytest.raises(ValueError, match="n_windows=0"):
        S4Forecaster(**TINY).cross_validation(df, n_windows=0)


def test_calendar_features_warn_under_two_years_of_history(df):
    with pytest.warns(UserWarning, match=r"at most 8 days of history.*day-of-year"):
        S4Forecaster(calendar_features=True, **TINY).fit(df)


def test_calendar_features_quiet_with_two_years_of_history(recwarn):
    two_years = make_frame(n_series=1, length=800)[["unique_id", "ds", "y"]]
    two_years["ds"] = pd.date_range("2020-01-01", periods=800, freq="D")
    S4Forecaster(calendar_features=True, **TINY).fit(two_years)
    assert not [w for w in recwarn if "day-of-year" in str(w.message)]


def test_score_with_a_flat_series_warns_and_scores_the_others():
    # Intermittent demand: one series never sold, so its MASE scale is 0 (was ZeroDivisionError).
    frame = make_frame()[["unique_id", "ds", "y"]]
    frame.loc[frame["unique_id"] == "s0", "y"] = 0.0
    model = S4Forecaster(**{**TINY, "max_epochs": 1}).fit(frame)
    with pytest.warns(UserWarning, match=r"MASE is undefined for series \['s0'\] \(1 of 2\)"):
        score = model.score(frame, season=24)
    assert np.isfinite(score)


def test_integer_timestamps_with_large_values_keep_their_grid():
    # Epoch nanoseconds of 3,000 hours: numpy's float-sized arange used to drop the last step.
    hours = pd.date_range("2020-01-01", periods=3000, freq="h").asi8
    frame = pd.DataFrame({"unique_id": "a", "ds": hours, "y": np.sin(np.arange(3000) / 5.0)})
    model = S4Forecaster(**{**TINY, "max_epochs": 1}).fit(frame)
    step = 3600 * 10**9
    assert model.series_["a"].freq == step
    forecast = model.predict()
    assert forecast["ds"].iloc[0] == hours[-1] + step
    model.update(pd.DataFrame({"unique_id": ["a"], "ds": [hours[-1] + step], "y": [0.0]}))
    assert len(model.cross_validation(frame, n_windows=2)) == 2 * TINY["horizon"]


def test_wrong_clock_in_x_future_or_update_is_named(fitted, frame):
    future = future_of(frame)
    aware = future.assign(ds=future["ds"].dt.tz_localize("UTC"))
    with pytest.raises(ValueError, match="X_future: 'ds' of series 's0' is in time zone UTC, but the series is in None"):
        fitted.predict(X_future=aware)
    integer = future.assign(ds=range(len(future)))
    with pytest.raises(ValueError, match="X_future: 'ds' of series 's0' holds integer time, but the series has datetime"):
        fitted.predict(X_future=integer)
    new = frame.groupby("unique_id").tail(1).assign(ds=lambda d: d["ds"] + pd.Timedelta("1h"))
    with pytest.raises(ValueError, match="cannot be compared with its last known time.*same kind and time zone"):
        fitted.update(new.assign(ds=new["ds"].dt.tz_localize("UTC")))
    with pytest.raises(ValueError, match="new_observations: time column 'ds' holds integer time"):
        fitted.update(new.assign(ds=[1, 2]))


def test_wide_frame_with_multiindex_or_repeated_columns_is_named(df):
    wide = df.pivot(index="ds", columns="unique_id", values="y")
    nested = wide.copy()
    nested.columns = pd.MultiIndex.from_tuples([(c, "y") for c in wide.columns])
    with pytest.raises(TypeError, match=r"MultiIndex with 2 levels, e.g. \('s0', 'y'\).*Flatten"):
        S4Forecaster(**TINY).fit(nested)
    twice = wide.set_axis(["s0"] * wide.shape[1], axis=1)
    with pytest.raises(ValueError, match="two columns named 's0'"):
        S4Forecaster(**TINY).fit(twice)


def test_timestamps_of_several_offsets_get_the_utc_hint(df):
    mixed = df.assign(ds=[t.tz_localize("UTC") if i % 2 else t.tz_localize("Europe/Berlin")
                          for i, t in enumerate(df["ds"])])
    with pytest.raises(TypeError, match=r"more than one UTC offset.*pd.to_datetime\(df\['ds'\], utc=True\)"):
        S4Forecaster(**TINY).fit(mixed)


def test_values_near_the_float64_limit_are_scaled_without_overflow(df):
    unit = S4Forecaster(**TINY).fit(df).predict()
    huge = S4Forecaster(**TINY).fit(df.assign(y=df["y"] * 1e300)).predict()
    assert np.isfinite(huge["y_pred"]).all()
    np.testing.assert_allclose(huge["y_pred"] / 1e300, unit["y_pred"], rtol=1e-4)


def test_inputs_the_float32_network_cannot_read_are_named(df, fitted, frame):
    with pytest.raises(ValueError, match=r"df: series 's0', column 'y' at .* reaches .*e\+30 .*scaler=None.*scaler='standard'"):
        S4Forecaster(scaler=None, **TINY).fit(df.assign(y=df["y"] * 1e30))
    new = frame.groupby("unique_id").tail(1).assign(ds=lambda d: d["ds"] + pd.Timedelta("1h"), y=1e300)
    before = fitted.series_["s0"].history.y.copy()
    with pytest.raises(ValueError, match="new_observations: series 's0', column 'y'.*divide 'y' by a constant"):
        fitted.update(new)
    np.testing.assert_array_equal(fitted.series_["s0"].history.y, before)  # nothing applied
    future = future_of(frame).assign(promo=1e300)
    with pytest.raises(ValueError, match="X_future: series 's0', column 'promo'"):
        fitted.predict(X_future=future)


def test_unscaled_series_flatter_than_the_window_scale_warns(df):
    with pytest.warns(UserWarning, match="series 's0' varies by .*scaler=None its windows read as flat"):
        S4Forecaster(scaler=None, **TINY).fit(df.assign(y=df["y"] * 1e-12))
