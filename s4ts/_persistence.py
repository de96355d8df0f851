"""Saving and loading estimators: a JSON config beside a tensors file, nothing pickled.

Both estimators write `config.json` (their parameters, learned non-tensor state, the s4ts
version and the estimator's class name) and `model.pt` (tensors only), and read the tensors
back with `torch.load(weights_only=True)`, so a model file from elsewhere cannot run code.
A save writes both files under temporary names and renames them into place; config.json
holds the SHA-256 of model.pt, so a pair from an interrupted save is refused, never loaded.
Loading names the file and key of anything missing or invalid.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import pickle
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from lightning.pytorch.strategies import Strategy

from s4ts._distributed import is_global_zero
from s4ts._version import __version__

__all__ = [
    "CONFIG_FILE", "WEIGHTS_FILE", "ModelFileError", "SavedConfig", "jsonable", "load_weights",
    "read_model", "saved_estimator", "write_model",
]

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
    if isinstance(value, Strategy):  # a training setting: its name is enough to train again
        start = getattr(value, "_start_method", None)  # DDPStrategy: how processes start
        return {"popen": "ddp", "spawn": "ddp_spawn", "fork": "ddp_fork"}.get(start, type(value).__name__)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"{name}={value!r} cannot be saved as JSON; pass an int/str/float instead")


def _write_atomically(target: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `target`, flush it to disk, rename it over `target`."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def write_model(path: str | os.PathLike, estimator: str, config: dict[str, Any], tensors: Any) -> None:
    """Write model.pt, then config.json (version, estimator name, model.pt's SHA-256) into
    folder `path`, each renamed into place whole; other files in the folder are left alone.
    In distributed training only rank 0 writes (every rank holds the same weights)."""
    if not is_global_zero():
        logger.debug("model not written to %s: rank 0 writes it", path)
        return
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{folder} is a file; save needs a folder path")
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    weights = buffer.getvalue()
    full = {"s4ts_version": __version__, "estimator": estimator,
            "weights_sha256": hashlib.sha256(weights).hexdigest(), **config}
    text = json.dumps(full, indent=2).encode()  # serialised first: a bad value writes nothing
    _write_atomically(folder / WEIGHTS_FILE, weights)
    _write_atomically(folder / CONFIG_FILE, text)


class ModelFileError(ValueError):
    """A saved model folder that cannot be loaded: incomplete, damaged, tampered with, or
    written by another estimator."""


class SavedConfig(dict):
    """A saved config (or a part of it) whose missing keys are named with the file."""

    source: Path

    def __missing__(self, key: str) -> Any:
        raise ModelFileError(
            f"{self.source} lacks the key {key!r}: the file is damaged or was not written by s4ts"
        )


def _parse_config(config_path: Path) -> SavedConfig:
    def part(pairs: dict[str, Any]) -> SavedConfig:
        saved = SavedConfig(pairs)
        saved.source = config_path
        return saved

    try:
        config = json.loads(config_path.read_text(), object_hook=part)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelFileError(f"{config_path} is not valid JSON ({err}); the model folder is damaged") from None
    if not isinstance(config, SavedConfig):
        raise ModelFileError(f"{config_path} holds a JSON {type(config).__name__}, not a saved model's settings")
    return config


def read_model(path: str | os.PathLike, estimator: str) -> tuple[SavedConfig, Any]:
    """Config and tensors written by `write_model` for `estimator`; no code runs on load."""
    folder = Path(path)
    config_path, weights_path = folder / CONFIG_FILE, folder / WEIGHTS_FILE
    if not config_path.is_file():
        raise FileNotFoundError(f"{folder} holds no saved model: {CONFIG_FILE} is missing")
    config = _parse_config(config_path)
    found = config.get("estimator", estimator)  # files from before the name was stored
    if found != estimator:
        raise ModelFileError(f"{folder} holds a {found!r}, not a {estimator}")
    version = config.get("s4ts_version")
    if version != __version__:
        logger.warning("%s was saved with s4ts %s; this is s4ts %s", folder, version, __version__)
    if not weights_path.is_file():
        raise FileNotFoundError(f"{folder} holds {CONFIG_FILE} but not {WEIGHTS_FILE}: the model is incomplete")
    weights = weights_path.read_bytes()
    expected = config.get("weights_sha256")  # absent in files written by earlier versions
    if expected is not None and hashlib.sha256(weights).hexdigest() != expected:
        raise ModelFileError(
            f"{weights_path} does not match {config_path} (its SHA-256 differs): the file was "
            "replaced or changed, or a save was interrupted; save the model again"
        )
    try:
        tensors = torch.load(io.BytesIO(weights), weights_only=True, map_location="cpu")
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, TypeError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelFileError(
            f"{weights_path} is not an s4ts model file, or it was tampered with: it does not "
            f"load as tensors alone ({reason[:200]})"
        ) from None
    return config, tensors


def saved_estimator(
    cls: type, config: SavedConfig, check: Callable[[Any], Any],
    renamed: dict[str, str] | None = None, tuples: tuple[str, ...] = (),
) -> Any:
    """An estimator of `cls` built from `config["params"]` (keys in `renamed` under their new
    names, lists of the parameters in `tuples` as tuples, as JSON has none) and validated by
    `check` (the checks `fit` runs); errors name the file."""
    config_path, saved = config.source, config["params"]
    if not isinstance(saved, dict):
        raise ModelFileError(f"{config_path}: 'params' must be an object of constructor arguments")
    renamed = renamed or {}
    params = {renamed.get(key, key): value for key, value in saved.items()}
    for key in tuples:
        if isinstance(params.get(key), list):
            params[key] = tuple(params[key])
    unknown = sorted(set(params) - set(cls._get_param_names()))
    if unknown:
        raise ModelFileError(f"{config_path}: 'params' holds {unknown}, which {cls.__name__} does not take")
    estimator = cls(**params)
    try:
        check(estimator)
    except (TypeError, ValueError) as err:
        raise ModelFileError(f"{config_path}: the saved parameters are invalid: {err}") from None
    return estimator


def load_weights(module: torch.nn.Module, state: Any, config: SavedConfig) -> None:
    """Load a state dict into `module`, naming the weights file beside `config` when it does not fit."""
    weights_path = config.source.with_name(WEIGHTS_FILE)
    if not isinstance(state, dict):
        raise ModelFileError(f"{weights_path} holds a {type(state).__name__}, not a network's weights")
    try:
        module.load_state_dict(state)
    except (RuntimeError, TypeError, KeyError) as err:
        first = str(err).strip().splitlines()[0]
        raise ModelFileError(
            f"{weights_path} does not fit the network its config.json describes ({first[:200]}); "
            "the files are from different models or damaged"
        ) from None
