"""Validation of S4Forecaster's constructor arguments, before any data is read."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from s4ts import _training
from s4ts.data.frames import TIME_GRIDS
from s4ts.data.windows import SCALERS
from s4ts.nn.distributions import QuantileHead
from s4ts.nn.forecast_net import NORMS

if TYPE_CHECKING:
    from s4ts.forecasting.estimator import S4Forecaster

__all__ = ["DISTRIBUTIONS", "check_params", "network_params"]

DISTRIBUTIONS = ("quantile", "student_t", "point")
# Arguments that shape the network or what it reads: a warm start continues the fitted
# network, so these must be the ones it was fitted with (those of the initial weights, such
# as init and dt_min, and of training, such as learning_rate or max_epochs, may change).
_NETWORK_PARAMS = ("horizon", "time_grid", "futr_exog", "hist_exog", "cross_series", "calendar_features",
                   "norm", "linear", "scaler", "distribution", "quantiles", "d_model", "n_layers",
                   "d_state", "mode")


def network_params(est: S4Forecaster) -> dict:
    """The arguments that shape the network (lists as tuples; `context_length` resolved), to
    compare a warm start's with those of the fit it continues."""
    params = {name: getattr(est, name) for name in _NETWORK_PARAMS}
    params.update({name: tuple(params[name]) for name in ("futr_exog", "hist_exog", "quantiles")})
    return {**params, "context_length": est.context_length or 4 * est.horizon}


def check_params(est: S4Forecaster) -> None:
    """Raise ValueError/TypeError naming the first invalid constructor argument of `est`."""
    _training.check_training_params(est)
    for name in ("horizon", "context_length", "batches_per_epoch", "d_model", "n_layers", "d_state"):
        value = getattr(est, name)
        if value is None and name in ("context_length", "batches_per_epoch"):
            continue
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name}={value!r} must be a positive integer")
    if est.val_size is not None and (
        not isinstance(est.val_size, (int, np.integer))
        or isinstance(est.val_size, bool)
        or (est.val_size != 0 and est.val_size < est.horizon)
    ):
        raise ValueError(
            f"val_size={est.val_size!r} must be 0 (no validation) or at least horizon={est.horizon}"
        )
    choices = (("time_grid", TIME_GRIDS), ("scaler", SCALERS), ("distribution", DISTRIBUTIONS),
               ("norm", NORMS), ("mode", ("diag", "dplr")))
    for name, allowed in choices:
        if getattr(est, name) not in allowed:
            raise ValueError(f"{name}={getattr(est, name)!r} must be one of {allowed}")
    for name in ("linear", "nonnegative", "calendar_features"):
        value = getattr(est, name)
        if not (isinstance(value, str) and value == "auto") and not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name}={value!r} must be True, False or 'auto'")
    for name in ("train_linear", "cross_series", "warm_start"):
        if not isinstance(getattr(est, name), (bool, np.bool_)):
            raise TypeError(f"{name}={getattr(est, name)!r} must be True or False")
    calibrate = est.calibrate_quantiles
    if not (isinstance(calibrate, (bool, np.bool_)) or (isinstance(calibrate, str) and calibrate == "recent")):
        raise TypeError(f"calibrate_quantiles={calibrate!r} must be 'recent', True or False")
    QuantileHead(est.quantiles)  # validates the levels
    for name in ("futr_exog", "hist_exog"):
        value = getattr(est, name)
        if isinstance(value, str) or not all(isinstance(c, str) for c in value):
            raise TypeError(f"{name}={value!r} must be a list of column names")
    clash = set(est.futr_exog) & set(est.hist_exog)
    reserved = set(est._covariates) & {est.id_col, est.time_col, est.target_col}
    if clash or reserved:
        raise ValueError(
            f"covariate columns {sorted(clash | reserved)} appear twice among futr_exog, "
            f"hist_exog and the id/time/target columns; list each column once"
        )
