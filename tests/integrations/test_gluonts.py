"""S4Estimator inside GluonTS (train, predict, evaluate, serialize) and the frame conversions."""

import subprocess
import sys

import lightning
import numpy as np
import pandas as pd
import pytest
from gluonts.dataset.common import ListDataset
from gluonts.dataset.pandas import PandasDataset
from gluonts.evaluation import Evaluator, make_evaluation_predictions
from gluonts.model.forecast import QuantileForecast
from gluonts.model.predictor import Predictor

from s4ts import S4Forecaster
from s4ts.integrations.gluonts import S4Estimator, from_gluonts, to_gluonts

H = 12
T = 240
N_SERIES = 3


def _trainer(tmp_path, epochs=4):
    return {"max_epochs": epochs, "enable_progress_bar": False, "enable_model_summary": False,
            "logger": False, "default_root_dir": str(tmp_path)}


def _estimator(tmp_path, **kwargs):
    settings = {"d_model": 16, "n_layers": 2, "d_state": 16, "num_batches_per_epoch": 10,
                "trainer_kwargs": _trainer(tmp_path)}
    return S4Estimator(prediction_length=H, **{**settings, **kwargs})


def _entries(with_feature=True):
    """Daily-cycle hourly series whose amplitude follows a known future feature; each entry's
    feature runs H steps beyond its target (what a predictor reads)."""
    rng = np.random.default_rng(0)
    t = np.arange(T + H)
    feature = 1.0 + 0.5 * (t // 48 % 2)  # a known schedule: amplitude switches every 2 days
    entries = []
    for i in range(N_SERIES):
        y = 10.0 * (i + 1) + (i + 1) * feature * np.sin(2 * np.pi * t / 24) + 0.05 * rng.normal(size=len(t))
        entry = {"item_id": f"s{i}", "start": pd.Period("2021-01-01 00:00", freq="h"), "target": y}
        if with_feature:
            entry["feat_dynamic_real"] = feature[None, :]
        entries.append(entry)
    return entries


def _dataset(entries, target_end, feature_end=None):
    out = []
    for e in entries:
        entry = {**e, "target": e["target"][:target_end]}
        if "feat_dynamic_real" in e:
            entry["feat_dynamic_real"] = e["feat_dynamic_real"][:, :feature_end]
        out.append(entry)
    return ListDataset(out, freq="h")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small predictor trained on all but the last H steps, with the future feature."""
    lightning.seed_everything(0, verbose=False)
    entries = _entries()
    estimator = _estimator(tmp_path_factory.mktemp("ckpt"), num_feat_dynamic_real=1,
                           trainer_kwargs=_trainer(tmp_path_factory.mktemp("ckpt"), 15))
    predictor = estimator.train(_dataset(entries, T, T), validation_data=_dataset(entries, T + H, T + H))
    return entries, predictor


def test_train_predict_evaluate_on_a_list_dataset(trained):
    entries, predictor = trained
    test = _dataset(entries, T + H, T + H)  # make_evaluation_predictions cuts the last H targets
    forecasts, series = make_evaluation_predictions(test, predictor)
    forecasts, series = list(forecasts), list(series)
    assert len(forecasts) == N_SERIES and all(isinstance(f, QuantileForecast) for f in forecasts)
    assert forecasts[0].forecast_array.shape == (9, H)  # 0.1, ..., 0.9
    assert forecasts[0].start_date == pd.Period("2021-01-11 00:00", freq="h")
    assert forecasts[1].item_id == "s1"
    metrics, _ = Evaluator()(series, forecasts)
    # Better than a seasonal naive forecast (MASE < 1; 0.28-0.48 over seeds 0-2) and quantiles
    # in order; the band's width over 36 points varies with the seed (0.36-0.69), so it is
    # only required to hold a real share of them.
    assert metrics["MASE"] < 1.0, metrics["MASE"]
    coverage = [metrics[f"Coverage[{q}]"] for q in (0.1, 0.5, 0.9)]
    assert coverage == sorted(coverage) and coverage[2] - coverage[0] > 0.2, coverage
    assert np.isfinite(metrics["mean_wQuantileLoss"])


def test_linear_path_is_fitted_then_fixed(trained):
    net = trained[1].prediction_net
    assert bool(net.linear_ready)
    assert net.net.linear.weight.abs().sum() > 0 and not net.net.linear.weight.requires_grad


def test_serialize_and_deserialize_give_equal_forecasts(trained, tmp_path):
    entries, predictor = trained
    data = _dataset(entries, T, T + H)
    predictor.serialize(tmp_path)
    loaded = Predictor.deserialize(tmp_path)
    for a, b in zip(predictor.predict(data), loaded.predict(data)):
        np.testing.assert_array_equal(a.forecast_array, b.forecast_array)


def test_pandas_dataset_with_a_dynamic_feature(tmp_path):
    entries = _entries()
    rows = []
    for e in entries:
        times = pd.date_range("2021-01-01", periods=T + H, freq="h")
        target = e["target"].copy()
        target[T:] = np.nan  # the future: feature known, target not
        rows.append(pd.DataFrame({"item": e["item_id"], "time": times, "y": target,
                                  "schedule": e["feat_dynamic_real"][0]}))
    long = pd.concat(rows, ignore_index=True)
    train = PandasDataset.from_long_dataframe(
        long[long.time < long.time.iloc[T]], target="y", item_id="item", timestamp="time", freq="h",
        feat_dynamic_real=["schedule"])
    future = PandasDataset.from_long_dataframe(
        long, target="y", item_id="item", timestamp="time", freq="h", feat_dynamic_real=["schedule"],
        future_length=H)
    predictor = _estimator(tmp_path, num_feat_dynamic_real=1, trainer_kwargs=_trainer(tmp_path, 1)).train(train)
    forecasts = list(predictor.predict(future))
    assert [f.item_id for f in forecasts] == ["s0", "s1", "s2"]
    assert forecasts[0].start_date == pd.Period(long.time.iloc[T], freq="h")
    assert np.isfinite(forecasts[0].forecast_array).all()


def test_past_only_features_and_no_time_features(tmp_path):
    entries = _entries(with_feature=False)
    for e in entries:
        e["past_feat_dynamic_real"] = np.stack([e["target"] * 2, np.cos(np.arange(T + H))])
    estimator = _estimator(tmp_path, num_past_feat_dynamic_real=2, time_features=False, linear=False,
                           trainer_kwargs=_trainer(tmp_path, 1))
    predictor = estimator.train(_dataset(entries, T))
    forecasts = list(predictor.predict(_dataset(entries, T)))
    assert np.isfinite(forecasts[0].forecast_array).all()


def test_dataset_without_frequency_is_refused(tmp_path):
    plain = [{"start": pd.Timestamp("2021-01-01"), "target": np.arange(50.0)}]
    with pytest.raises(TypeError, match=r"entry 0 .*has no frequency.*freq="):
        _estimator(tmp_path).train(plain)


def test_missing_or_short_dynamic_feature_at_prediction(trained):
    entries, predictor = trained
    missing = ListDataset([{k: v for k, v in entries[1].items() if k != "feat_dynamic_real"}], freq="h")
    with pytest.raises(ValueError, match=r"item_id 's1'.*no feat_dynamic_real.*num_feat_dynamic_real=1"):
        list(predictor.predict(missing))
    short = _dataset(entries[:1], T, T)  # the feature stops where the target does
    with pytest.raises(ValueError, match=r"item_id 's0'.*feat_dynamic_real has 240 steps.*needs 252.*prediction_length"):
        list(predictor.predict(short))


def test_other_frequency_at_prediction_is_refused(trained):
    entries, predictor = trained
    daily = ListDataset([{**entries[0], "start": pd.Period("2021-01-01", freq="D")}], freq="D")
    with pytest.raises(ValueError, match=r"frequency 'D'.*trained at 'h'"):
        list(predictor.predict(daily))


def test_parameters_are_checked(tmp_path):
    with pytest.raises(ValueError, match="prediction_length=0"):
        S4Estimator(prediction_length=0)
    with pytest.raises(ValueError, match="quantiles"):
        S4Estimator(prediction_length=4, quantiles=[0.0, 0.5])
    with pytest.raises(ValueError, match=r"freq='D', but the training data's frequency is 'h'"):
        _estimator(tmp_path, freq="D").train(_dataset(_entries(False), T))


def _frame():
    times = pd.date_range("2022-03-01", periods=30, freq="30min")
    rows = []
    for uid, level in (("a", 1.0), ("b", 5.0)):
        frame = pd.DataFrame({"unique_id": uid, "ds": times, "y": level + np.arange(30.0),
                              "temp": np.linspace(0, 1, 30), "load": level * np.ones(30)})
        rows.append(frame.drop(index=[7, 8]) if uid == "a" else frame)  # a gap: two missing steps
    return pd.concat(rows, ignore_index=True)


def test_frames_round_trip_through_a_gluonts_dataset():
    df = _frame()
    future = pd.DataFrame({"unique_id": ["a", "a", "b", "b"],
                           "ds": pd.to_datetime(["2022-03-01 15:00", "2022-03-01 15:30"] * 2),
                           "temp": [2.0, 3.0, 4.0, 5.0]})
    original = df.copy()
    dataset = to_gluonts(df, future, futr_exog=["temp"], hist_exog=["load"])
    pd.testing.assert_frame_equal(df, original)  # the user's frame is untouched
    entry = next(iter(dataset))
    assert entry["start"] == pd.Period("2022-03-01 00:00", freq="30min")
    assert entry["feat_dynamic_real"].shape == (1, 32) and entry["past_feat_dynamic_real"].shape == (1, 30)
    assert np.isnan(entry["target"][7:9]).all()  # missing steps are NaN on the grid
    back, back_future = from_gluonts(dataset, futr_names=["temp"], hist_names=["load"])
    complete = back.dropna(subset=["y"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(complete, df[complete.columns].reset_index(drop=True), check_dtype=False)
    pd.testing.assert_frame_equal(back_future, future, check_dtype=False)
    again = list(to_gluonts(back, back_future, futr_exog=["temp"], hist_exog=["load"]))
    for a, b in zip(again, dataset):
        np.testing.assert_array_equal(a["target"], b["target"])
        np.testing.assert_array_equal(a["feat_dynamic_real"], b["feat_dynamic_real"])


def test_monthly_periods_round_trip_at_month_ends():
    df = pd.DataFrame({"unique_id": "m", "ds": pd.date_range("2020-01-31", periods=24, freq="ME"),
                       "y": np.arange(24.0)})
    dataset = to_gluonts(df)
    assert next(iter(dataset))["start"] == pd.Period("2020-01", freq="M")
    back, future = from_gluonts(dataset, how="end")
    pd.testing.assert_frame_equal(back, df)
    assert future is None
    starts = pd.DataFrame({"unique_id": "q", "ds": pd.date_range("2020-10-01", periods=8, freq="QS-OCT"),
                           "y": np.arange(8.0)})
    assert next(iter(to_gluonts(starts)))["start"] == pd.Period("2021Q1", freq="Q-SEP")
    pd.testing.assert_frame_equal(from_gluonts(to_gluonts(starts))[0], starts)


def test_conversion_errors_name_the_problem():
    df = _frame()
    with pytest.raises(ValueError, match="holds integers"):
        to_gluonts(pd.DataFrame({"unique_id": "a", "ds": range(10), "y": np.arange(10.0)}))
    with pytest.raises(ValueError, match=r"series 'b' .*one frequency"):
        mixed = df.copy()
        mixed.loc[mixed.unique_id == "b", "ds"] = pd.date_range("2022-03-01", periods=30, freq="h")
        to_gluonts(mixed)
    late = pd.DataFrame({"unique_id": ["a", "b"], "ds": pd.to_datetime(["2022-03-01 16:00"] * 2), "temp": [1.0, 2.0]})
    with pytest.raises(ValueError, match=r"X_future: series 'a' row 0 is at 2022-03-01 16:00.*expected 2022-03-01 15:00"):
        to_gluonts(df, late, futr_exog=["temp"])
    with pytest.raises(TypeError, match=r"entry 0 \(item_id 'x'\).*has no frequency"):
        from_gluonts([{"item_id": "x", "start": pd.Timestamp("2020-01-01"), "target": [1.0]}])
    with pytest.raises(ValueError, match="univariate"):
        from_gluonts(ListDataset([{"start": "2020-01-01", "target": np.ones((2, 5))}], freq="D", one_dim_target=False))


def test_s4forecaster_reads_a_gluonts_dataset():
    entries = _entries()
    df, X_future = from_gluonts(_dataset(entries, T, T + H), futr_names=["schedule"])
    model = S4Forecaster(horizon=H, futr_exog=["schedule"], d_model=16, n_layers=1, d_state=8,
                         max_epochs=2, batches_per_epoch=5).fit(df)
    forecast = model.predict(X_future=X_future)
    assert len(forecast) == N_SERIES * H and forecast["y_pred"].notna().all()


def test_import_without_gluonts_names_the_extra():
    code = ("import sys; sys.modules['gluonts'] = None; import s4ts\n"
            "try:\n    import s4ts.integrations.gluonts\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 's4ts[gluonts]'" in out


def test_transformation_before_training_says_to_train_first():
    with pytest.raises(RuntimeError, match=r"call train\(training_data\)"):
        S4Estimator(prediction_length=4).create_transformation()


def test_entries_without_a_target_are_named(tmp_path):
    plain = [{"item_id": "x", "start": pd.Period("2021-01-01", freq="D")}]
    with pytest.raises(ValueError, match=r"entry 0 \(item_id 'x'\): no target"):
        _estimator(tmp_path).train(plain)
    with pytest.raises(ValueError, match=r"entry 0 \(item_id 'x'\): no target"):
        from_gluonts(plain)
