"""S4Forecaster(warm_start=True): a fit continues the fitted network, or says why it cannot."""

import numpy as np
import pandas as pd
import pytest
from forecast_data import TINY, future_of, make_frame

from s4ts.forecasting import S4Forecaster

COVARIATES = {"futr_exog": ["promo"], "hist_exog": ["temp"]}
FROZEN = {"learning_rate": 0.0, "ssm_lr": 0.0, "weight_decay": 0.0, "max_epochs": 1}


@pytest.fixture
def model(frame):
    return S4Forecaster(**COVARIATES, **TINY).fit(frame)


def forecast(model, frame):
    return model.predict(X_future=future_of(frame)).drop(columns=["unique_id", "ds"]).to_numpy()


def test_warm_start_continues_from_the_fitted_weights(model, frame):
    before = forecast(model, frame)
    # With nothing to learn (learning rates 0) a warm fit keeps the fitted network exactly...
    model.set_params(warm_start=True, **FROZEN).fit(frame)
    np.testing.assert_allclose(forecast(model, frame), before, rtol=1e-5, atol=1e-5)
    assert model.n_epochs_ == 2 + 1
    # ... where a cold one starts from new weights.
    model.set_params(warm_start=False).fit(frame)
    assert not np.allclose(forecast(model, frame), before, rtol=1e-3)
    assert model.n_epochs_ == 1


def test_warm_start_on_newer_data_and_new_series(frame):
    older = frame[frame["ds"] < frame["ds"].max() - pd.Timedelta(hours=48)]
    model = S4Forecaster(**COVARIATES, **TINY).fit(older)
    settings = [p._optim for p in model.net_.parameters() if hasattr(p, "_optim")]
    more = make_frame(n_series=3, seed=2)
    model.set_params(warm_start=True).fit(more)
    # Forecasts start after the new data, for every series in it; the SSM parameters keep
    # their own optimizer settings in the continued network.
    assert list(model.series_) == ["s0", "s1", "s2"]
    future = model.predict(X_future=future_of(more))
    assert (future.groupby("unique_id")["ds"].min() > more["ds"].max()).all()
    assert [p._optim for p in model.net_.parameters() if hasattr(p, "_optim")] == settings
    assert np.isfinite(future.drop(columns=["unique_id", "ds"]).to_numpy()).all()


@pytest.mark.parametrize("change, message", [
    ({"d_model": 8}, "d_model=8 (fitted with 16)"),
    ({"context_length": 48}, "context_length=48 (fitted with 36)"),
    ({"futr_exog": []}, "futr_exog=() (fitted with ('promo',))"),
    ({"distribution": "student_t"}, "distribution='student_t' (fitted with 'quantile')"),
])
def test_warm_start_refuses_another_architecture(model, frame, change, message):
    before, params = forecast(model, frame), model.get_params()
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        model.set_params(warm_start=True, **change).fit(frame)
    model.set_params(**params)  # nothing fitted was lost
    np.testing.assert_allclose(forecast(model, frame), before, rtol=1e-6)


def test_warm_start_refuses_other_times(model, frame):
    integer = frame.assign(ds=frame.groupby("unique_id").cumcount())
    with pytest.raises(ValueError, match="df's times are integers but the forecaster was fitted on datetimes"):
        model.set_params(warm_start=True).fit(integer)
    # Jittered timestamps read as irregular: the linear path fitted on steps cannot read them.
    rng = np.random.default_rng(0)
    jittered = frame.assign(ds=frame["ds"] + pd.to_timedelta(rng.integers(0, 1800, len(frame)), unit="s"))
    with pytest.raises(ValueError, match="linear path was fitted on regular series, and series 's0' is irregular"):
        model.fit(jittered)
    with pytest.raises(ValueError, match="time_grid='irregular' \\(fitted with 'auto'\\)"):
        model.set_params(time_grid="irregular").fit(frame)


def test_warm_start_with_cross_series_needs_the_fitted_series(frame):
    model = S4Forecaster(cross_series=True, **TINY).fit(frame)
    model.set_params(warm_start=True, **FROZEN).fit(frame)  # the same series: fine
    with pytest.raises(ValueError, match="values of the 2 fitted series.*it holds 3"):
        model.fit(make_frame(n_series=3))


def test_warm_start_after_load(model, frame, tmp_path):
    model.save(tmp_path / "model")
    loaded = S4Forecaster.load(tmp_path / "model")
    assert loaded.warm_start is False
    loaded.set_params(warm_start=True, **FROZEN).fit(frame)
    np.testing.assert_allclose(forecast(loaded, frame), forecast(model, frame), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="n_layers=3 \\(fitted with 2\\)"):
        S4Forecaster.load(tmp_path / "model").set_params(warm_start=True, n_layers=3).fit(frame)


def test_warm_start_on_a_model_without_its_recorded_arguments(model, frame):
    # a model pickled by an earlier version has no record of the arguments it was fitted with
    del model._network_params
    with pytest.raises(ValueError, match="does not record the arguments it was fitted with"):
        model.set_params(warm_start=True).fit(frame)
