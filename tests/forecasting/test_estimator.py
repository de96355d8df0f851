"""End-to-end behaviour of S4Forecaster on small synthetic and real data."""

import copy
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from forecast_data import HORIZON, TINY, future_of, make_frame
from matplotlib.figure import Figure
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import s4ts
from s4ts import metrics
from s4ts.forecasting import S4Forecaster

QUANTILE_COLS = ["y_q0.1", "y_q0.5", "y_q0.9"]


def test_predict_after_training_data(fitted, frame):
    forecast = fitted.predict(X_future=future_of(frame))
    assert list(forecast.columns) == ["unique_id", "ds", "y_pred", *QUANTILE_COLS]
    assert len(forecast) == 2 * HORIZON
    for uid, group in forecast.groupby("unique_id"):
        last = frame.loc[frame.unique_id == uid, "ds"].max()
        expected = pd.date_range(last, periods=HORIZON + 1, freq="h")[1:]
        assert group["ds"].tolist() == expected.tolist()
    q = forecast[QUANTILE_COLS].to_numpy()
    assert np.isfinite(q).all() and (np.diff(q, axis=1) >= 0).all()
    np.testing.assert_allclose(forecast["y_pred"], forecast["y_q0.5"])


def test_predict_on_new_history_and_unseen_series(fitted, frame):
    future = future_of(frame)
    from_state = fitted.predict(X_future=future)
    from_history = fitted.predict(frame, X_future=future)
    pd.testing.assert_frame_equal(from_state, from_history)

    unseen = make_frame(n_series=1, seed=5).assign(unique_id="new")
    forecast = fitted.predict(unseen, X_future=future_of(unseen))
    assert forecast["unique_id"].unique().tolist() == ["new"] and len(forecast) == HORIZON
    # The unseen series is scaled by its own history: forecasts sit at its level.
    assert abs(forecast["y_pred"].mean() - unseen["y"].mean()) < 3 * unseen["y"].std()


def test_update_equals_predict_on_extended_history(frame):
    head = frame.groupby("unique_id").head(180)
    tail = frame.groupby("unique_id").tail(20)
    model = S4Forecaster(futr_exog=["promo"], hist_exog=["temp"], calendar_features=True, **TINY).fit(head)
    future = future_of(frame)
    expected = model.predict(frame, X_future=future)
    model.update(tail.iloc[:7])  # first 7 rows of series s0 only
    model.update(tail.iloc[7:])
    updated = model.predict(X_future=future)
    assert updated["ds"].tolist() == expected["ds"].tolist()
    np.testing.assert_allclose(updated["y_pred"], expected["y_pred"], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(updated[QUANTILE_COLS], expected[QUANTILE_COLS], rtol=1e-4, atol=1e-4)


def test_update_errors(fitted, frame):
    later = future_of(frame).assign(y=1.0, temp=0.0)
    with pytest.raises(ValueError, match="series 'zz' was not seen in fit"):
        copy.deepcopy(fitted).update(later[later.unique_id == "s0"].assign(unique_id="zz"))
    with pytest.raises(ValueError, match="not after its last known time"):
        copy.deepcopy(fitted).update(frame.tail(3))


def test_wide_frame_series_and_integer_time():
    wide = make_frame().pivot(index="ds", columns="unique_id", values="y")
    model = S4Forecaster(**TINY).fit(wide)
    assert set(model.predict()["unique_id"]) == {"s0", "s1"}
    series = pd.Series(wide["s0"].to_numpy(), name="load")  # RangeIndex time
    forecast = S4Forecaster(**TINY).fit(series).predict()
    assert forecast["ds"].tolist() == list(range(200, 200 + HORIZON))
    assert forecast["unique_id"].unique().tolist() == ["load"]


def test_custom_columns_missing_values_and_robust_scaling():
    df = make_frame().rename(columns={"unique_id": "sid", "ds": "when", "y": "load"})
    df.loc[df.index[::7], "load"] = np.nan
    df = df.drop(index=[10, 11, 12])  # missing time steps are masked too
    model = S4Forecaster(id_col="sid", time_col="when", target_col="load", scaler="robust", **TINY)
    forecast = model.fit(df).predict()
    assert list(forecast.columns) == ["sid", "when", "load_pred", "load_q0.1", "load_q0.5", "load_q0.9"]
    assert np.isfinite(forecast["load_pred"]).all()


def test_unsorted_input_gives_same_model(frame):
    model = S4Forecaster(**TINY).fit(frame[["unique_id", "ds", "y"]])
    shuffled = frame[["unique_id", "ds", "y"]].sample(frac=1.0, random_state=3)
    other = S4Forecaster(**TINY).fit(shuffled)
    pd.testing.assert_frame_equal(model.predict(), other.predict())


def test_random_state_makes_runs_reproducible(frame):
    first = S4Forecaster(**TINY).fit(frame[["unique_id", "ds", "y"]]).predict()
    second = S4Forecaster(**TINY).fit(frame[["unique_id", "ds", "y"]]).predict()
    pd.testing.assert_frame_equal(first, second)


def test_student_t_quantiles_and_sample_paths(frame):
    model = S4Forecaster(distribution="student_t", quantiles=(0.05, 0.95), **TINY)
    model.fit(frame[["unique_id", "ds", "y"]])
    forecast = model.predict()
    assert list(forecast.columns) == ["unique_id", "ds", "y_pred", "y_q0.05", "y_q0.95"]
    assert (forecast["y_q0.05"] < forecast["y_pred"]).all() and (forecast["y_pred"] < forecast["y_q0.95"]).all()
    paths = model.predict(num_samples=50)
    assert list(paths.columns) == ["unique_id", "ds", "sample", "y"] and len(paths) == 50 * 2 * HORIZON
    pd.testing.assert_frame_equal(paths, model.predict(num_samples=50))  # seeded by random_state
    spread = paths.groupby(["unique_id", "ds"])["y"].quantile(0.95).to_numpy()
    np.testing.assert_allclose(spread, forecast["y_q0.95"], rtol=0.2)


def test_point_head_forecasts_the_mean_by_squared_error(frame, tmp_path):
    df = frame[["unique_id", "ds", "y"]]
    model = S4Forecaster(distribution="point", **TINY).fit(df)
    forecast = model.predict()
    assert list(forecast.columns) == ["unique_id", "ds", "y_pred"] and forecast["y_pred"].notna().all()
    scores = model.evaluate(df)
    assert np.isfinite(scores["mse"]) and "coverage" not in scores
    backtest = model.historical_forecasts(df, n_windows=2)
    assert list(backtest.columns) == ["unique_id", "ds", "cutoff", "y", "y_pred"]
    model.plot(path=tmp_path / "point.png")  # no quantile band to draw
    model.save(tmp_path / "point")
    pd.testing.assert_frame_equal(S4Forecaster.load(tmp_path / "point").predict(), forecast)
    with pytest.raises(ValueError, match="the point head has no density"):
        model.predict(num_samples=3)


def test_num_samples_needs_parametric_head(fitted, frame):
    with pytest.raises(ValueError, match="num_samples needs distribution='student_t'"):
        fitted.predict(X_future=future_of(frame), num_samples=3)


def test_sklearn_conventions(fitted):
    model = S4Forecaster(horizon=5, hist_exog=["temp"])
    assert model.get_params()["horizon"] == 5 and model.get_params()["hist_exog"] == ["temp"]
    assert model.set_params(max_epochs=3) is model and model.max_epochs == 3
    twin = clone(fitted)
    assert twin.get_params() == fitted.get_params()
    assert not hasattr(twin, "backbone_")
    with pytest.raises(NotFittedError):
        twin.predict()


def test_pickle_round_trip(fitted, frame):
    future = future_of(frame)
    restored = pickle.loads(pickle.dumps(fitted))
    pd.testing.assert_frame_equal(restored.predict(X_future=future), fitted.predict(X_future=future))


def test_save_load_gives_identical_predictions(fitted, frame, tmp_path):
    fitted.save(tmp_path / "model")
    loaded = S4Forecaster.load(tmp_path / "model")
    future = future_of(frame)
    pd.testing.assert_frame_equal(loaded.predict(X_future=future), fitted.predict(X_future=future))
    pd.testing.assert_frame_equal(loaded.predict(frame, X_future=future), fitted.predict(frame, X_future=future))
    assert loaded.saved_with_version_ == s4ts.__version__
    # The tensors load without unpickling code; the config is plain JSON.
    torch.load(tmp_path / "model" / "model.pt", weights_only=True)
    assert '"s4ts_version"' in (tmp_path / "model" / "config.json").read_text()


def test_cross_validation_and_score(frame):
    model = S4Forecaster(futr_exog=["promo"], **TINY)
    data = frame.drop(columns="temp")
    cv = model.cross_validation(data, n_windows=3, step=6)
    assert not hasattr(model, "net_")  # a clone was fitted; the estimator itself is untouched
    assert list(cv.columns) == ["unique_id", "ds", "cutoff", "y", "y_pred", *QUANTILE_COLS]
    assert len(cv) == 2 * 3 * HORIZON
    cutoffs = sorted(cv["cutoff"].unique())
    assert len(cutoffs) == 3 and cutoffs[-1] == frame["ds"].max() - pd.Timedelta(hours=HORIZON)
    assert (cv["ds"] > cv["cutoff"]).all() and np.isfinite(cv["y"]).all()
    # The clone was fitted up to the first cutoff; every origin forecasts from its own context.
    model.fit(data[data["ds"] <= cutoffs[0]])
    last = cv[cv["cutoff"] == cutoffs[-1]].reset_index(drop=True)
    direct = model.predict(data[data["ds"] <= cutoffs[-1]], X_future=frame[["unique_id", "ds", "promo"]])
    np.testing.assert_allclose(last["y_pred"], direct["y_pred"], rtol=1e-4, atol=1e-4)
    # The same fit backtested without training gives the same frame.
    pd.testing.assert_frame_equal(model.historical_forecasts(data, n_windows=3, step=6), cv)

    scores = model.evaluate(data, season=24)
    assert set(scores) == {"mae", "mse", "mase", "smape", "quantile_loss", "crps", "coverage"}
    assert all(np.isfinite(v) for v in scores.values())
    assert model.score(data, season=24) == -scores["mase"]


def test_cross_validation_never_refits_a_fitted_model(fitted, frame):
    future = future_of(frame)
    before = fitted.predict(X_future=future)
    fitted.cross_validation(frame, n_windows=2)
    pd.testing.assert_frame_equal(fitted.predict(X_future=future), before)


def test_plot_returns_and_saves_figure(fitted, frame, tmp_path):
    forecast = fitted.predict(X_future=future_of(frame))
    fig = fitted.plot(forecast, path=tmp_path / "forecast.png")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert (tmp_path / "forecast.png").stat().st_size > 0
    assert isinstance(fitted.plot(forecast, frame, ids=["s1"]), Figure)


def test_user_frames_are_never_modified(frame, tmp_path):
    df = frame.sample(frac=1.0, random_state=0)
    future = future_of(frame)
    df_copy, future_copy = df.copy(deep=True), future.copy(deep=True)
    model = S4Forecaster(futr_exog=["promo"], hist_exog=["temp"], **TINY)
    model.fit(df)
    model.predict(df, X_future=future)
    model.score(df)
    model.cross_validation(df, n_windows=2)
    pd.testing.assert_frame_equal(df, df_copy)
    pd.testing.assert_frame_equal(future, future_copy)


def test_beats_seasonal_naive_on_a_seasonal_series():
    df = make_frame(n_series=3, length=400, noise=0.5)[["unique_id", "ds", "y"]]
    model = S4Forecaster(
        horizon=24, context_length=72, d_model=32, n_layers=2, d_state=16, max_epochs=8,
        batches_per_epoch=12, batch_size=32, learning_rate=1e-2, verbose=False,
    )
    cv = model.cross_validation(df, n_windows=4, step=24)
    naive = []
    for (uid, cutoff), group in cv.groupby(["unique_id", "cutoff"], sort=False):
        history = df[(df.unique_id == uid) & (df.ds <= cutoff)]["y"]
        naive.append(metrics.seasonal_naive(history, 24, season=24))
    model_mae = metrics.mae(cv["y"], cv["y_pred"])
    naive_mae = metrics.mae(cv["y"], np.concatenate(naive))
    assert model_mae < naive_mae, (model_mae, naive_mae)


def test_vic_elec_slice_end_to_end():
    from s4ts.datasets.vic_elec import load_vic_elec

    df = load_vic_elec().iloc[-48 * 21 :]  # three weeks, half-hourly
    model = S4Forecaster(
        horizon=48, context_length=96, futr_exog=["holiday"], hist_exog=["temperature"],
        calendar_features=True, d_model=16, n_layers=2, d_state=8, max_epochs=1,
        batches_per_epoch=4, batch_size=16, verbose=False,
    )
    scores = model.fit(df.iloc[:-48]).evaluate(df, season=48)
    assert np.isfinite(scores["mase"]) and 0 <= scores["coverage"] <= 1
    forecast = model.predict(X_future=df.iloc[-48:][["unique_id", "ds", "holiday"]])
    assert str(forecast["ds"].dt.tz) == "Australia/Melbourne"
    assert forecast["ds"].tolist() == df["ds"].iloc[-48:].tolist()


@pytest.mark.parametrize("norm", ["mean", "last"])
def test_window_normalisation_makes_forecasts_follow_level_and_scale(norm):
    df = make_frame(n_series=2, length=160)[["unique_id", "ds", "y"]]
    model = S4Forecaster(**{**TINY, "norm": norm, "scaler": None}).fit(df)
    base = model.predict(df)
    shifted = model.predict(df.assign(y=df["y"] + 1000.0))
    scaled = model.predict(df.assign(y=df["y"] * 7.0))
    cols = ["y_pred", *QUANTILE_COLS]
    np.testing.assert_allclose(shifted[cols], base[cols] + 1000.0, rtol=1e-5, atol=1e-2)
    np.testing.assert_allclose(scaled[cols], base[cols] * 7.0, rtol=1e-4, atol=1e-3)


def test_forecast_follows_a_level_above_everything_in_training():
    # A trend: the future lies above every training value, where global scaling fell back.
    t = np.arange(600)
    df = pd.DataFrame({"unique_id": "trend", "ds": pd.date_range("2020-01-01", periods=600, freq="h"),
                       "y": 0.05 * t + np.sin(2 * np.pi * t / 24)})
    model = S4Forecaster(**{**TINY, "horizon": 24, "context_length": 72}).fit(df.iloc[:-24])
    forecast = model.predict()
    assert forecast["y_pred"].mean() > df["y"].iloc[:-24].max() - 2.0


def test_linear_path_starts_at_least_squares_and_keeps_it_when_training_cannot_help():
    # Sinusoids that a linear map of the context forecasts exactly: the least-squares start is
    # already right, and a learning rate this large only makes it worse, so validation keeps it.
    t = np.arange(400)
    y = np.sin(2 * np.pi * t / 24) + 0.5 * np.sin(2 * np.pi * t / 7)
    df = pd.DataFrame({"unique_id": "s", "ds": pd.date_range("2020-01-01", periods=400, freq="h"), "y": y})
    params = {**TINY, "horizon": 12, "context_length": 48, "linear": True, "max_epochs": 2}
    kept = S4Forecaster(**params, learning_rate=5.0).fit(df.iloc[:-12])
    assert kept.best_epoch_ == 0 and kept.n_epochs_ == 2
    forecast = kept.predict()["y_pred"].to_numpy()
    np.testing.assert_allclose(forecast, y[-12:], atol=0.05)
    # Without validation there is no choice to make: the trained weights are the model.
    assert S4Forecaster(**params, val_size=0).fit(df.iloc[:-12]).best_epoch_ is None


def test_linear_path_stays_at_its_least_squares_fit_while_s4_trains(frame):
    # The map is fixed after its fit: two runs that train S4 differently share it exactly.
    slow = S4Forecaster(**{**TINY, "linear": True, "learning_rate": 1e-4}).fit(frame)
    fast = S4Forecaster(**{**TINY, "linear": True, "learning_rate": 1e-2}).fit(frame)
    torch.testing.assert_close(slow.net_.linear.weight, fast.net_.linear.weight, rtol=0, atol=0)
    assert not torch.equal(slow.net_.backbone.encoder.weight, fast.net_.backbone.encoder.weight)
    # train_linear=True trains it on from the same start.
    trained = S4Forecaster(**{**TINY, "linear": True, "train_linear": True, "learning_rate": 1e-2}).fit(frame)
    assert not torch.equal(trained.net_.linear.weight, fast.net_.linear.weight)


def test_quantiles_are_calibrated_on_the_validation_windows_and_the_median_stays(frame):
    calibrated = S4Forecaster(**{**TINY, "calibrate_quantiles": True}).fit(frame)
    trained = S4Forecaster(**TINY).fit(frame)  # the default keeps the trained quantiles
    assert trained.head_.widths == [1.0, 1.0, 1.0]
    assert calibrated.head_.widths != [1.0, 1.0, 1.0] and calibrated.head_.widths[1] == 1.0
    # The last horizon steps of each series are fit's validation window: forecast them from
    # what precedes them, as calibration did; the band holds the 0.1-0.9 share of them.
    history = frame.groupby("unique_id").head(len(frame) // 2 - HORIZON)
    future = frame.groupby("unique_id").tail(HORIZON)
    forecasts = calibrated.predict(history)
    y = future["y"].to_numpy()
    below = [np.mean(y < forecasts[c].to_numpy()) for c in ("y_q0.1", "y_q0.9")]
    assert below[0] == pytest.approx(0.1, abs=0.05) and below[1] == pytest.approx(0.9, abs=0.05)
    same = trained.predict(history)
    np.testing.assert_allclose(forecasts["y_pred"], same["y_pred"])


def test_nonnegative_targets_get_nonnegative_forecasts_unless_asked_otherwise(tmp_path):
    rng = np.random.default_rng(0)
    times = pd.date_range("2022-01-01", periods=240, freq="h")
    counts = rng.poisson(0.3, size=240).astype(float)  # mostly zeros: a band around 0
    frame = pd.DataFrame({"unique_id": "a", "ds": times, "y": counts})
    floored = S4Forecaster(**TINY).fit(frame)
    free = S4Forecaster(**{**TINY, "nonnegative": False}).fit(frame)
    assert floored.nonnegative_ and not free.nonnegative_
    low, kept = floored.predict(), free.predict()
    assert (kept["y_q0.1"] < 0).any(), "the test needs a lower quantile below 0"
    assert (low[["y_pred", *QUANTILE_COLS]] >= 0).all().all()
    np.testing.assert_allclose(low["y_q0.9"], kept["y_q0.9"].clip(lower=0))
    floored.save(tmp_path / "model")
    pd.testing.assert_frame_equal(S4Forecaster.load(tmp_path / "model").predict(), low)
    negative = frame.assign(y=frame["y"] - 0.1)  # one negative value is enough
    assert not S4Forecaster(**TINY).fit(negative).nonnegative_


def test_auto_calendar_reads_what_the_history_covers_and_saves_it(frame, tmp_path):
    hourly = S4Forecaster(**TINY).fit(frame)  # 200 hours: a day is covered twice, a week is not
    assert hourly.featurizer_.calendar == ("day",)
    integer = frame.assign(ds=frame.groupby("unique_id").cumcount())
    assert S4Forecaster(**TINY).fit(integer).featurizer_.calendar == ()
    assert S4Forecaster(**{**TINY, "calendar_features": False}).fit(frame).featurizer_.calendar == ()
    hourly.save(tmp_path / "model")
    assert S4Forecaster.load(tmp_path / "model").featurizer_.calendar == ("day",)
