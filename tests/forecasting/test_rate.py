"""Sampling rate as a parameter: zero-shot frequency change and irregular timestamps."""

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
from forecast_data import TINY, make_frame

from s4ts.forecasting import RateWarning, S4Forecaster

HISTORY, AHEAD = 360, 24


def smooth_frame(n_series: int = 4, length: int = 400, seed: int = 0) -> pd.DataFrame:
    """Hourly sums of a daily and a half-daily sine with small noise: smooth at 1-2 h steps."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    ds = pd.date_range("2023-01-01", periods=length, freq="h")
    return pd.concat(
        [
            pd.DataFrame({
                "unique_id": f"s{i}",
                "ds": ds,
                "y": np.sin(2 * np.pi * t / 24 + i) + 0.5 * np.sin(2 * np.pi * t / 12 + 2 * i)
                + rng.normal(0, 0.05, length),
            })
            for i in range(n_series)
        ],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def smooth():
    return smooth_frame()


@pytest.fixture(scope="module")
def smooth_model(smooth):
    """Fitted on the regular hourly grid; a few seconds on two cores. The SSM alone (no linear
    path), so that irregular histories can be forecast and Δ is all that changes with rate; no
    calendar, which would tell the phase of the daily cycle whatever Δ."""
    settings = {**TINY, "horizon": AHEAD, "context_length": 72, "d_state": 16, "max_epochs": 8,
                "batches_per_epoch": 10, "learning_rate": 1e-2, "val_size": 0, "linear": False,
                "calendar_features": False}
    return S4Forecaster(**settings).fit(smooth)


def history_and_truth(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """First HISTORY hours of each series, the AHEAD hours after them (id, ds) and their truth."""
    ahead = frame.groupby("unique_id").nth(slice(HISTORY, HISTORY + AHEAD))
    truth = ahead["y"].to_numpy().reshape(-1, AHEAD)
    return frame.groupby("unique_id").head(HISTORY), ahead[["unique_id", "ds"]], truth


def mse(forecast: pd.DataFrame, truth: np.ndarray) -> float:
    pred = forecast.sort_values(["unique_id", "ds"])["y_pred"].to_numpy().reshape(truth.shape)
    return float(np.mean((pred - truth) ** 2))


@pytest.mark.parametrize("linear", [False, True])
def test_irregular_grid_on_regular_data_equals_regular_prediction(frame, linear):
    # Irregular series always run the per-step scan; with every gap one training step the
    # scan must reproduce the convolution + recurrence path of the regular grid, and the
    # linear path read over time its map over steps. The trained quantiles on both grids:
    # "recent" recalibrates regular series only.
    fitted = S4Forecaster(futr_exog=["promo"], hist_exog=["temp"], calendar_features=True,
                          linear=linear, calibrate_quantiles=False, **TINY).fit(frame)
    futr = ["promo"]
    history = frame.groupby("unique_id").head(180)
    future = frame.groupby("unique_id").nth(slice(180, 180 + TINY["horizon"]))[["unique_id", "ds", *futr]]
    regular = fitted.predict(history, X_future=future)
    irregular = copy.deepcopy(fitted).set_params(time_grid="irregular").predict(history, X_future=future)
    assert irregular["ds"].tolist() == regular["ds"].tolist()
    # float32 scan vs float32 FFT over 180 steps: rounding differences of ~1e-6 relative,
    # amplified through two layers; 1e-4 of the series' level (10-20) is far above that and far
    # below any modelling difference (one wrong Δ shifts forecasts by O(0.1)).
    cols = ["y_pred", "y_q0.1", "y_q0.9"]
    np.testing.assert_allclose(irregular[cols], regular[cols], rtol=1e-4, atol=1e-4)


def test_points_removed_at_random_keep_the_error_of_the_full_grid(smooth_model, smooth):
    history, ahead, truth = history_and_truth(smooth)
    regular = mse(smooth_model.predict(history), truth)
    rng = np.random.default_rng(1)
    kept = []
    for _, group in history.groupby("unique_id"):
        keep = rng.random(len(group)) >= 0.3
        keep[[0, -1]] = True  # the forecast origin stays the same
        kept.append(group[keep])
    kept = pd.concat(kept, ignore_index=True)
    model = copy.deepcopy(smooth_model).set_params(time_grid="auto")
    # 30% of random hours missing: gaps are whole hours, so "auto" would call it regular with
    # NaN steps; "irregular" takes each gap as its own Δ.
    irregular = mse(model.set_params(time_grid="irregular").predict(kept, X_future=ahead), truth)
    # The kept points read as consecutive hours (rate 1): the phase of the cycles is lost.
    consecutive = pd.concat(
        [g.assign(ds=pd.date_range(end=g["ds"].iloc[-1], periods=len(g), freq="h"))
         for _, g in kept.groupby("unique_id")],
        ignore_index=True,
    )
    naive = mse(smooth_model.predict(consecutive), truth)
    # Measured: regular 0.17, irregular 0.20, consecutive 0.64 (series variance 0.62). Losing
    # 30% of the points may cost some accuracy, but the error must stay near the full grid's
    # and far below the consecutive reading.
    assert irregular < 1.5 * regular + 0.02, (irregular, regular)
    assert naive > 2.5 * irregular, (naive, irregular)


def test_rate_two_on_decimated_data_matches_rate_one_on_full_data(smooth_model, smooth):
    history, _, _ = history_and_truth(smooth)
    full = smooth_model.predict(history)
    decimated = decimate(history)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RateWarning)  # rate 2 must stay within the model's range
        zero_shot = smooth_model.predict(decimated, horizon="24h")
    naive = smooth_model.predict(decimated, horizon=12, rate=1.0)
    assert len(zero_shot) == 4 * 12
    assert pd.infer_freq(zero_shot[zero_shot.unique_id == "s0"]["ds"]) == "2h"
    matched = zero_shot.merge(full, on=["unique_id", "ds"], suffixes=("_2", "_1"))
    assert len(matched) == len(zero_shot)
    gap = np.sqrt(np.mean((matched["y_pred_2"] - matched["y_pred_1"]) ** 2))
    naive_gap = np.sqrt(np.mean((naive["y_pred"].to_numpy() - matched["y_pred_1"].to_numpy()) ** 2))
    # Measured: 0.17 against 0.95 for the naive reading (signal RMS 0.79). Two samples per
    # half-day cycle lose detail, so not equality; but well under a third of the signal RMS
    # and of the naive gap.
    assert gap < 0.3 and gap < 0.35 * naive_gap, (gap, naive_gap)


def decimate(history: pd.DataFrame) -> pd.DataFrame:
    """Every other hour of each series, keeping the last one (the same forecast origin)."""
    return history.groupby("unique_id", group_keys=False)[history.columns].apply(
        lambda g: g.iloc[(len(g) - 1) % 2 :: 2]
    )


def test_linear_path_forecasts_other_rates_within_its_trained_span(smooth):
    settings = {**TINY, "horizon": AHEAD, "context_length": 72, "d_state": 16, "max_epochs": 8,
                "batches_per_epoch": 10, "learning_rate": 1e-2, "val_size": 0, "linear": True}
    model = S4Forecaster(**settings).fit(smooth)
    history, _, _ = history_and_truth(smooth)
    full = model.predict(history)
    decimated = decimate(history)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RateWarning)
        zero_shot = model.predict(decimated)  # default: the trained 24 hours, 12 steps of 2 h
        naive = model.predict(decimated, horizon=12, rate=1.0)
        with pytest.raises(ValueError, match="13 steps of series 's0'.*linear path.*at most 12"):
            model.predict(decimated, horizon=13)
    assert len(zero_shot) == 4 * 12
    matched = zero_shot.merge(full, on=["unique_id", "ds"], suffixes=("_2", "_1"))
    assert len(matched) == len(zero_shot)
    gap = np.sqrt(np.mean((matched["y_pred_2"] - matched["y_pred_1"]) ** 2))
    naive_gap = np.sqrt(np.mean((naive["y_pred"].to_numpy() - matched["y_pred_1"].to_numpy()) ** 2))
    assert gap < 0.3 and gap < 0.35 * naive_gap, (gap, naive_gap)


def test_aliasing_policy_warns_then_refuses(smooth_model, smooth):
    history, _, _ = history_and_truth(smooth)
    backbone = smooth_model.net_.backbone
    rates = 2.0 ** (np.arange(1, 97) / 8)
    fractions = np.array([backbone.aliased_fraction(r) for r in rates])
    warn_rate = rates[np.argmax((fractions > 0.2) & (fractions <= 0.5))]
    error_rate = rates[np.argmax(fractions > 0.5)]
    assert backbone.aliased_fraction(warn_rate) > 0.2 and backbone.aliased_fraction(error_rate) > 0.5
    max_rate = f"max_rate\\(0.2\\) = {backbone.max_rate(0.2):g}"
    with pytest.warns(RateWarning, match=f"series 's0' \\(and 3 more series\\) is sampled at rate {warn_rate:g}.*{max_rate}"):
        smooth_model.predict(history, rate=warn_rate)
    with pytest.raises(ValueError, match=f"rate {error_rate:g} .*% of the SSM energy.*{max_rate}.*refused"):
        smooth_model.predict(history, rate=error_rate)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RateWarning)
        smooth_model.predict(history, rate=0.25)  # finer sampling never aliases


def test_horizon_as_steps_span_or_default_span(smooth_model, smooth):
    history, _, _ = history_and_truth(smooth)
    assert len(smooth_model.predict(history, horizon="6h")) == 4 * 6
    assert len(smooth_model.predict(history, horizon=pd.Timedelta(hours=3))) == 4 * 3
    assert len(smooth_model.predict(history, horizon=5)) == 4 * 5
    # At 30-minute steps the default horizon spans the trained 24 hours: 48 steps.
    half_hourly = pd.concat(
        [g.assign(ds=pd.date_range("2023-01-01", periods=len(g), freq="30min")) for _, g in history.groupby("unique_id")]
    )
    forecast = smooth_model.predict(half_hourly)
    assert len(forecast) == 4 * 48 and forecast["ds"].iloc[1] - forecast["ds"].iloc[0] == pd.Timedelta("30min")
    with pytest.raises(ValueError, match="horizon='90min' is not a whole number of steps of series 's0'"):
        smooth_model.predict(history, horizon="90min")
    with pytest.raises(ValueError, match="rate= re-reads a history"):
        smooth_model.predict(rate=2.0)
    with pytest.raises(ValueError, match="rate=-1.0 must be a positive number"):
        smooth_model.predict(history, rate=-1.0)


def jittered_frame(length: int = 200, seed: int = 0) -> pd.DataFrame:
    """Two series observed at jittered times (gaps 30-90 minutes): no regular grid fits them."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(2):
        gaps = rng.integers(30, 91, length) * pd.Timedelta("1min")
        ds = pd.Timestamp("2023-01-01") + gaps.cumsum()
        hours = (ds - ds[0]) / pd.Timedelta("1h")
        frames.append(pd.DataFrame({"unique_id": f"j{i}", "ds": ds, "y": np.sin(2 * np.pi * hours / 24 + i)}))
    return pd.concat(frames, ignore_index=True)


def test_irregular_fit_predict_update_save_load(tmp_path):
    frame = jittered_frame()
    head = frame.groupby("unique_id").head(180)
    tail = frame.groupby("unique_id").tail(20)
    model = S4Forecaster(**{**TINY, "val_size": 0}).fit(head)  # time_grid="auto" finds it irregular
    assert model.series_["j0"].freq is None
    # linear="auto": a path read over time, forecasting the span most training horizons cover.
    assert model.linear_ is True and model.net_.linear.out_features >= TINY["horizon"]
    # The training step is the median gap: about an hour.
    assert 50 * 60 < model.train_step_ < 70 * 60
    future = pd.DataFrame({"unique_id": ["j0", "j0", "j1"], "ds": pd.to_datetime(
        ["2023-02-01 00:00", "2023-02-01 00:07", "2023-02-01 03:00"])})
    expected = model.predict(frame, X_future=future)
    assert expected["ds"].tolist() == future["ds"].tolist()
    assert np.isfinite(expected["y_pred"]).all()
    with pytest.raises(ValueError, match="X_future has no rows for series 'j0', which has irregular"):
        model.predict(X_future=future[future.unique_id == "j1"])
    last = model.series_["j0"].last_time
    early = pd.DataFrame({"unique_id": ["j0", "j0", "j1"], "ds": [last, last + pd.Timedelta("1h"), future.ds[2]]})
    with pytest.raises(ValueError, match=r"series 'j0' asks for a forecast at .* \(1 such row\), not after its last"):
        model.predict(X_future=early)
    with pytest.raises(ValueError, match="X_future: series 'j0' has duplicate timestamp"):
        model.predict(X_future=pd.concat([future, future.iloc[:1]]))
    with pytest.raises(ValueError, match="pass X_future.*irregular timestamps"):
        model.predict()
    with pytest.raises(ValueError, match="horizon=3 does not apply to series 'j0'"):
        model.predict(X_future=future, horizon=3)
    model.update(tail)
    np.testing.assert_allclose(model.predict(X_future=future)["y_pred"], expected["y_pred"], rtol=1e-4, atol=1e-4)
    model.save(tmp_path / "m")
    loaded = S4Forecaster.load(tmp_path / "m")
    assert loaded.linear_ is True and loaded.net_.linear.out_features == model.net_.linear.out_features
    pd.testing.assert_frame_equal(loaded.predict(X_future=future), model.predict(X_future=future))
    assert loaded.series_["j1"].history.times.equals(model.series_["j1"].history.times)
    backtest = S4Forecaster(**{**TINY, "val_size": 0}).cross_validation(frame, n_windows=2)
    assert len(backtest) == 2 * 2 * TINY["horizon"] and np.isfinite(backtest["y_pred"]).all()


def test_irregular_timestamps_need_the_diagonal_ssm():
    with pytest.raises(ValueError, match="series 'j0' has irregular timestamps .*need mode='diag'"):
        S4Forecaster(**{**TINY, "mode": "dplr", "time_grid": "irregular"}).fit(jittered_frame())
    regular = make_frame()[["unique_id", "ds", "y"]]
    dplr = S4Forecaster(**{**TINY, "mode": "dplr"}).fit(regular)
    with pytest.raises(ValueError, match="series 'j0' has irregular timestamps .*need mode='diag'"):
        dplr.predict(jittered_frame())
    # linear="auto" fitted a path on regular data; it reads irregular histories over time.
    diag = S4Forecaster(**TINY).fit(regular)
    assert diag.linear_ is True and diag.net_.linear is not None
    jittered = jittered_frame()
    future = pd.DataFrame({"unique_id": ["j0", "j1"], "ds": jittered.groupby("unique_id")["ds"].max()
                           + pd.Timedelta("2h")})
    assert np.isfinite(diag.predict(jittered, X_future=future)["y_pred"]).all()
    # One path reads steps or time: a fit mixing the two with linear=True is refused.
    mixed = pd.concat([regular[regular.unique_id == regular.unique_id.iloc[0]], jittered[jittered.unique_id == "j0"]])
    with pytest.raises(ValueError, match="series 'j0' has irregular timestamps and series .* a regular grid"):
        S4Forecaster(**{**TINY, "linear": True}).fit(mixed)
    assert S4Forecaster(**TINY).fit(mixed).linear_ is False
    with pytest.raises(ValueError, match="time_grid='sometimes' must be one of"):
        S4Forecaster(**{**TINY, "time_grid": "sometimes"}).fit(regular)
