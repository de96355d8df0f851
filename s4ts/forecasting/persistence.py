"""Saving and loading S4Forecaster: settings and per-series metadata as JSON, tensors apart."""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted

from s4ts._persistence import (
    WEIGHTS_FILE,
    ModelFileError,
    SavedConfig,
    jsonable,
    load_weights,
    read_model,
    saved_estimator,
    write_model,
)
from s4ts.data.frames import SeriesData, parse_freq
from s4ts.data.windows import CALENDAR_PERIODS, Featurizer
from s4ts.forecasting.inference import SeriesState
from s4ts.forecasting.params import check_params, network_params
from s4ts.forecasting.recalibration import recent_tail
from s4ts.forecasting.training import build_net
from s4ts.nn.distributions import head_from_config

if TYPE_CHECKING:
    from s4ts.forecasting.estimator import S4Forecaster

__all__ = ["load", "save"]

_ESTIMATOR = "S4Forecaster"


def _times_to_int(times: pd.Index, integer: bool) -> torch.Tensor:
    """Timestamps as int64: integers as they are, datetimes as nanoseconds (UTC when tz-aware)."""
    return torch.from_numpy(np.asarray(times if integer else times.asi8, dtype=np.int64).copy())


def _times_from_int(values: torch.Tensor, integer: bool, tz: str | None) -> pd.Index:
    """The inverse of `_times_to_int`."""
    raw = values.numpy()
    if integer:
        return pd.Index(raw)
    times = pd.DatetimeIndex(raw.astype("datetime64[ns]"))
    return times.tz_localize("UTC").tz_convert(tz) if tz else times


def _json_id(uid: object) -> str | int | bool:
    """A series id as JSON keeps it: bools stay bools (True is not saved as 1)."""
    if isinstance(uid, (bool, np.bool_)):
        return bool(uid)
    return uid if isinstance(uid, str) else int(uid)


def _check_saved_series(config: SavedConfig, tensors: object) -> None:
    """The per-series metadata and tensors agree: one entry each per series, equal lengths."""
    where = config.source.with_name(WEIGHTS_FILE)
    keys = ("net", "times", "y", "covariates")
    if not isinstance(tensors, dict) or not set(keys) <= set(tensors):
        raise ModelFileError(f"{where} is not an S4Forecaster's weights file: it lacks {list(keys)}")
    series = config["series"]
    n = len(series) if isinstance(series, list) else -1
    if n < 1 or any(not isinstance(tensors[k], list) or len(tensors[k]) != n for k in keys[1:]):
        raise ModelFileError(
            f"{config.source} lists {max(n, 0)} series but {where} holds "
            f"{[len(tensors[k]) if isinstance(tensors[k], list) else None for k in keys[1:]]} "
            "(times, y, covariates); the files are from different models or damaged"
        )
    width = config["featurizer"]["n_futr"] + config["featurizer"]["n_hist"]
    for meta, times, y, cov in zip(series, tensors["times"], tensors["y"], tensors["covariates"]):
        uid, until = meta["id"], meta.get("trained_until")
        if not isinstance(uid, (str, int)):
            raise ModelFileError(f"{config.source}: series id {uid!r} must be a str, int or bool")
        if until is not None and (not isinstance(until, int) or isinstance(until, bool)):
            raise ModelFileError(f"{config.source}: series {uid!r} has trained_until={until!r}, "
                                 "which must be an integer time (nanoseconds for timestamps) or null")
        if not all(isinstance(t, torch.Tensor) for t in (times, y, cov)) or not (
                times.ndim == y.ndim == 1 and cov.ndim == 2 and len(times) == len(y) == len(cov)
                and cov.shape[1] == width):
            raise ModelFileError(
                f"{where}: the history of series {uid!r} has times {tuple(times.shape)}, values "
                f"{tuple(y.shape)} and covariates {tuple(cov.shape)}, which do not match "
                f"(expected T, T and (T, {width}))"
            )


def save(est: S4Forecaster, path: str | os.PathLike) -> None:
    """Write `est` to folder `path` (config.json and model.pt)."""
    check_is_fitted(est)
    integer = est.time_kind_ == "integer"
    series = []
    for uid, st in est.series_.items():
        if not isinstance(uid, (str, int, np.integer, np.bool_)):
            raise TypeError(f"series id {uid!r} must be a str, int or bool to save the model as JSON")
        tz = None if integer else st.history.times.tz
        series.append({
            "id": _json_id(uid),
            "freq": st.freq if st.freq is None or integer else st.freq.freqstr,
            "tz": None if tz is None else str(tz),
            "loc": st.loc, "scale": st.scale, "rate": st.rate,
            "trained_until": None if st.trained_until is None
            else int(_times_to_int(pd.Index([st.trained_until]), integer)[0]),
        })
    feat = est.featurizer_
    config = {
        "params": {key: jsonable(key, value) for key, value in est.get_params().items()},
        "time_kind": est.time_kind_,
        "train_step": est.train_step_,
        "rates": est.rates_,
        "context_length": est.context_length_,
        "linear": est.linear_,
        "linear_horizon": est.net_.linear.out_features if est.linear_ else None,
        "nonnegative": est.nonnegative_,
        "n_epochs": est.n_epochs_,
        "best_epoch": est.best_epoch_,
        "val_size": est.val_size_,
        "best_val_loss": est.best_val_loss_ if math.isfinite(est.best_val_loss_) else None,
        "head": est.head_.config(),
        "featurizer": {
            "n_futr": feat.n_futr, "n_hist": feat.n_hist, "calendar": list(feat.calendar),
            "cov_loc": feat.cov_loc.tolist(), "cov_scale": feat.cov_scale.tolist(),
        },
        "series": series,
    }
    # The recent tail (when the quantiles recalibrate) holds the context as its end.
    histories = [st.history if st.recent is None else st.recent for st in est.series_.values()]
    tensors = {
        "net": est.net_.state_dict(),
        "times": [_times_to_int(h.times, integer) for h in histories],
        "y": [torch.from_numpy(h.y.astype(np.float64)) for h in histories],
        "covariates": [torch.from_numpy(h.covariates.astype(np.float64)) for h in histories],
    }
    write_model(path, _ESTIMATOR, config, tensors)


def _calendar_periods(saved) -> tuple[str, ...]:
    """The featurizer's calendar cycles; files of earlier versions hold True (all) or False."""
    if isinstance(saved, bool):
        return tuple(CALENDAR_PERIODS) if saved else ()
    if not isinstance(saved, list) or not set(saved) <= set(CALENDAR_PERIODS):
        raise ModelFileError(f"config.json: featurizer.calendar={saved!r} must list calendar cycles "
                             f"among {list(CALENDAR_PERIODS)}")
    return tuple(saved)


def load(cls: type[S4Forecaster], path: str | os.PathLike) -> S4Forecaster:
    """Read a model written by `save`."""
    config, tensors = read_model(path, _ESTIMATOR)
    est = saved_estimator(cls, config, check_params)
    _check_saved_series(config, tensors)
    est.saved_with_version_ = config["s4ts_version"]
    est.time_kind_ = config["time_kind"]
    est.train_step_ = config["train_step"]
    est.rates_ = config["rates"]
    est.context_length_ = config["context_length"]
    # Files of earlier versions, whose `linear` was always True or False, lack the key.
    est.linear_ = config.get("linear", bool(est.linear))
    # Files of earlier versions forecast unfloored.
    est.nonnegative_ = config.get("nonnegative", False)
    est.n_epochs_ = config["n_epochs"]
    est.best_epoch_ = config.get("best_epoch")  # absent in files written by earlier versions
    # Earlier versions held out `val_size`, or one horizon when it was None.
    est.val_size_ = config.get("val_size", est.val_size if est.val_size is not None else est.horizon)
    best = config["best_val_loss"]
    est.best_val_loss_ = math.inf if best is None else best
    est.head_ = head_from_config(config["head"])
    feat = config["featurizer"]
    est.featurizer_ = Featurizer(
        feat["n_futr"], feat["n_hist"], _calendar_periods(feat["calendar"]),
        np.array(feat["cov_loc"], dtype=float), np.array(feat["cov_scale"], dtype=float),
    )
    # Files of earlier versions forecast the horizon with the linear path (regular grids only).
    est.net_ = build_net(
        est, est.featurizer_, est.head_, est.context_length_, est.linear_, config.get("linear_horizon")
    )
    load_weights(est.net_, tensors["net"], config)
    est.net_.eval()
    integer = est.time_kind_ == "integer"
    est.series_ = {}
    for meta, times, y, covariates in zip(config["series"], tensors["times"], tensors["y"], tensors["covariates"]):
        freq = None if meta["freq"] is None else parse_freq(meta["freq"], est.time_kind_)
        saved = SeriesData(
            meta["id"], _times_from_int(times, integer, meta["tz"]), y.numpy(), covariates.numpy(), freq
        )
        rate, until = meta["rate"], meta.get("trained_until")  # absent in earlier versions' files
        est.series_[meta["id"]] = SeriesState(
            freq, meta["loc"], meta["scale"], rate, est._context(saved, rate), recent_tail(est, saved, rate),
            None if until is None else _times_from_int(torch.tensor([until]), integer, meta["tz"])[0],
        )
    est._network_params = network_params(est)  # what a warm start must match
    return est
