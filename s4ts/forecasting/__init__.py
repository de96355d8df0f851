"""Forecasting with S4: the S4Forecaster estimator and its LightningModule."""

from s4ts.forecasting.estimator import S4Forecaster
from s4ts.forecasting.lightning_module import ForecastingModule
from s4ts.forecasting.rates import RateWarning

__all__ = ["ForecastingModule", "RateWarning", "S4Forecaster"]
