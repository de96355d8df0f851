"""Saving and loading S4Classifier: parameters, classes and scaling as JSON, weights apart."""

from __future__ import annotations

import json
import math
import os
from typing import TYPE_CHECKING

import numpy as np
import torch
from sklearn.exceptions import NotFittedError

from s4ts._persistence import (
    ModelFileError,
    jsonable,
    load_weights,
    read_model,
    saved_estimator,
    write_model,
)
from s4ts.classification.params import network_params
from s4ts.nn.ensemble import S4ClassifierEnsemble

if TYPE_CHECKING:
    from s4ts.classification.estimator import S4Classifier

__all__ = ["load", "save"]

# Constructor arguments renamed since earlier releases: models saved with the old names still load.
_RENAMED = {"lr": "learning_rate", "patience": "early_stopping_patience", "validation_fraction": "val_size"}
# Parameters added since earlier releases, with the behaviour models saved before them had.
_EARLIER = {"norm": "dataset", "augment": False, "label_smoothing": 0.0, "n_estimators": 1,
            "warm_start": False}


def save(model: S4Classifier, path: str | os.PathLike) -> None:
    """Write `model` to folder `path` (config.json and model.pt)."""
    if not hasattr(model, "network_"):
        raise NotFittedError("only a fitted classifier can be saved; call fit first")
    classes = model.classes_.tolist()
    try:
        json.dumps(classes)
    except TypeError:
        raise TypeError(
            "only str, int, float or bool labels can be saved; classes_ holds "
            f"{type(classes[0]).__name__}"
        ) from None
    config = {
        "params": {name: jsonable(name, value) for name, value in model.get_params().items()},
        "classes": classes,
        "classes_dtype": model.classes_.dtype.str if model.classes_.dtype != object else None,
        "n_channels": int(model.n_channels_),
        "sample_rate": model.sample_rate_,
        "mean": model.mean_.tolist(),
        "scale": model.scale_.tolist(),
        "n_epochs": int(model.n_epochs_),
        "best_epoch": model.best_epoch_,
        "temperature": model.temperature_,
        "dt_min": model.dt_min_,
        # JSON has no infinity: null means training ran without validation.
        "best_val_loss": model.best_val_loss_ if math.isfinite(model.best_val_loss_) else None,
    }
    write_model(path, type(model).__name__, config, model.network_.state_dict())


def load(cls: type[S4Classifier], path: str | os.PathLike) -> S4Classifier:
    """Read a classifier written by `save`."""
    config, state = read_model(path, cls.__name__)
    if isinstance(config["params"], dict):
        config["params"] = {**_EARLIER, **config["params"]}
    model = saved_estimator(cls, config, cls._check_params, _RENAMED, tuples=("pool", "n_layers"))
    dtype = config["classes_dtype"]
    model.classes_ = np.array(config["classes"], dtype=dtype if dtype else object)
    model.n_channels_ = config["n_channels"]
    model.sample_rate_ = config["sample_rate"]
    model.mean_ = np.array(config["mean"], dtype=np.float64)
    model.scale_ = np.array(config["scale"], dtype=np.float64)
    if not model.mean_.shape == model.scale_.shape == (model.n_channels_,):
        raise ModelFileError(
            f"{config.source}: 'mean' and 'scale' must hold one value per channel "
            f"(n_channels={model.n_channels_})"
        )
    model.n_epochs_ = config["n_epochs"]
    model.best_epoch_ = config.get("best_epoch")  # absent in files written by earlier versions
    best = config["best_val_loss"]
    model.best_val_loss_ = math.inf if best is None else float(best)
    model.temperature_ = float(config.get("temperature", 1.0))
    # Files of earlier versions: dt_min was a number (only the initial Δ depends on it).
    model.dt_min_ = float(config.get("dt_min", model.dt_min if model.dt_min is not None else 1e-3))
    n_layers = model._check_params()
    if isinstance(state, dict) and state and not any(k.startswith("members.") for k in state):
        # Files written before ensembles hold one network's weights: a one-member ensemble.
        state = {**{f"members.0.{k}": v for k, v in state.items()},
                 "temperature": torch.tensor(model.temperature_)}
    members = [model._build_network(n_layers) for _ in range(model.n_estimators)]
    net = S4ClassifierEnsemble(members, model.temperature_)
    load_weights(net, state, config)
    model.network_ = net.eval()
    model._network_params = network_params(model, n_layers)  # what a warm start must match
    return model
