"""Saving and loading estimators: a JSON config beside a tensors file, nothing pickled.

Both estimators write `config.json` (their parameters, learned non-tensor state, the s4ts
version and the estimator's class name) and `model.pt` (tensors only), and read the tensors
back with `torch.load(weights_only=True)`, so a model file from elsewhere cannot run code.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from s4ts._version import __version__

__all__ = ["jsonable", "read_model", "write_model"]

logger = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.pt"


def jsonable(name: str, value: Any) -> Any:
    """A constructor argument as JSON (tuples become lists, offsets aliases, timedeltas seconds)."""
    if isinstance(value, pd.DateOffset):
        return value.freqstr
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (tuple, list)):
        return [jsonable(name, v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"{name}={value!r} cannot be saved as JSON; pass an int/str/float instead")


def write_model(path: str | os.PathLike, estimator: str, config: dict[str, Any], tensors: Any) -> None:
    """Write config.json (with version and estimator name) and model.pt into folder `path`."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    full = {"s4ts_version": __version__, "estimator": estimator, **config}
    (folder / CONFIG_FILE).write_text(json.dumps(full, indent=2))
    torch.save(tensors, folder / WEIGHTS_FILE)


def read_model(path: str | os.PathLike, estimator: str) -> tuple[dict[str, Any], Any]:
    """Config and tensors written by `write_model` for `estimator`; no code runs on load."""
    folder = Path(path)
    config_path = folder / CONFIG_FILE
    if not config_path.is_file():
        raise FileNotFoundError(f"{folder} holds no saved model: {CONFIG_FILE} is missing")
    try:
        config = json.loads(config_path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{config_path} is not valid JSON ({err}); the model folder is damaged") from None
    found = config.get("estimator", estimator)  # files from before the name was stored
    if found != estimator:
        raise ValueError(f"{folder} holds a {found!r}, not a {estimator}")
    version = config.get("s4ts_version")
    if version != __version__:
        logger.warning("%s was saved with s4ts %s; this is s4ts %s", folder, version, __version__)
    tensors = torch.load(folder / WEIGHTS_FILE, weights_only=True, map_location="cpu")
    return config, tensors
