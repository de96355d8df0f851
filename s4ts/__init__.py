"""s4ts: time-series forecasting and classification with structured state space models."""

__version__ = "0.1.0"
