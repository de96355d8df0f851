"""Property: fit, predict and update on generated frames succeed correctly or fail by name."""

import warnings

import numpy as np
import pandas as pd
from contract_cases import FORECASTER, check_error, frame_names, long_frames
from hypothesis import HealthCheck, event, given, settings

from s4ts import S4Forecaster


def next_rows(model: S4Forecaster, forecast: pd.DataFrame) -> pd.DataFrame:
    """One new observation per series, at its first forecast time."""
    first = forecast.groupby("unique_id", sort=False).head(1)
    return first[["unique_id", "ds"]].assign(y=1.0)


def check_forecast(model: S4Forecaster, forecast: pd.DataFrame) -> None:
    """Finite forecasts at each regular series' next `horizon` steps after its last time."""
    assert np.isfinite(forecast["y_pred"]).all()
    for uid, rows in forecast.groupby("unique_id", sort=False):
        state = model.series_[uid]
        assert len(rows) == model.horizon and (rows["ds"] > state.last_time).all()
        if state.freq is not None:
            expected = [state.last_time + (k + 1) * state.freq for k in range(model.horizon)]
            assert list(rows["ds"]) == expected


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(frame=long_frames())
def test_fit_predict_update_keep_the_data_contract(frame):
    before = frame.copy(deep=True)
    model = S4Forecaster(**FORECASTER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model.fit(frame)
            forecast = model.predict()
        except Exception as err:  # noqa: BLE001 - the property is about which exceptions
            check_error(err, frame_names(frame))
            event(f"refused: {type(err).__name__}")
            return
        finally:
            pd.testing.assert_frame_equal(frame, before)
        check_forecast(model, forecast)
        new = next_rows(model, forecast)
        try:
            model.update(new)
        except Exception as err:  # noqa: BLE001
            check_error(err, frame_names(new, ("new_observations",)))
            return
        check_forecast(model, model.predict())
        event("fitted, forecast and updated")
