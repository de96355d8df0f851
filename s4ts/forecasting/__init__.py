"""Forecasting with S4: the S4Forecaster estimator and its LightningModule."""

from s4ts.forecasting.estimator import RateWarning, S4Forecaster
from s4ts.forecasting.module import ForecastingModule

__all__ = ["ForecastingModule", "RateWarning", "S4Forecaster"]
