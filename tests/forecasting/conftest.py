"""Fixtures for the forecasting tests."""

import pytest
from forecast_data import TINY, make_frame

from s4ts.forecasting import S4Forecaster


@pytest.fixture(scope="module")
def frame():
    return make_frame()


@pytest.fixture(scope="module")
def fitted(frame):
    """A tiny model with both kinds of covariates and calendar features, fitted once per module."""
    model = S4Forecaster(futr_exog=["promo"], hist_exog=["temp"], calendar_features=True, **TINY)
    return model.fit(frame)
