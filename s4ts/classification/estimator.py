"""S4Classifier: scikit-learn style sequence classification with S4 layers."""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split

import s4ts
from s4ts.classification.module import S4ClassifierModule
from s4ts.nn.classifier import S4ClassifierNet
from s4ts.nn.frontend import S4Filterbank

__all__ = ["S4Classifier"]

log = logging.getLogger(__name__)

_POOLINGS = ("mean", "max", "last")
_CONFIG = "config.json"
_WEIGHTS = "model.pt"
# Parameters that are tuples in __init__ but come back from JSON as lists.
_TUPLE_PARAMS = ("pool",)
_LIGHTNING_LOGGERS = ("lightning", "lightning.pytorch", "lightning.fabric")


@contextlib.contextmanager
def _quiet_lightning(quiet: bool):
    """Raise Lightning's loggers to WARNING for the duration (its INFO lines are not ours to print)."""
    loggers = [logging.getLogger(name) for name in _LIGHTNING_LOGGERS] if quiet else []
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _series_from_frame(df: pd.DataFrame) -> tuple[list[np.ndarray], list[Any]]:
    """Long frame (id, time, value columns) -> one (C, L_i) array per id, in order of first appearance."""
    for col in ("id", "time"):
        if col not in df.columns:
            raise ValueError(
                f"a long DataFrame needs columns 'id', 'time' and one or more value columns; "
                f"column {col!r} is missing (got {list(df.columns)})"
            )
    value_cols = [c for c in df.columns if c not in ("id", "time")]
    if not value_cols:
        raise ValueError("the DataFrame has no value column besides 'id' and 'time'")
    bad = [c for c in value_cols if not pd.api.types.is_numeric_dtype(df[c])]
    if bad:
        raise TypeError(f"value columns must be numeric; columns {bad} are not")
    dup = df.duplicated(["id", "time"])
    if dup.any():
        row = df.index[dup.to_numpy().argmax()]
        raise ValueError(
            f"duplicate (id, time) at row {row!r} (id={df.loc[row, 'id']!r}, "
            f"time={df.loc[row, 'time']!r}); each series needs one row per time stamp"
        )
    ids = list(pd.unique(df["id"]))
    # sort_values returns a copy: the user's frame is never reordered.
    ordered = df.sort_values(["id", "time"], kind="stable")
    groups = {k: g[value_cols].to_numpy(dtype=np.float64).T for k, g in ordered.groupby("id", sort=False)}
    return [groups[i] for i in ids], ids  # each (C, L_i)


def _to_series(X: Any) -> tuple[list[np.ndarray], list[Any] | None]:
    """Accepted inputs -> list of float (C, L_i) arrays, plus the series ids of a DataFrame."""
    if isinstance(X, pd.DataFrame):
        series, ids = _series_from_frame(X)
    elif isinstance(X, (list, tuple)):
        series, ids = [], None
        for i, s in enumerate(X):
            a = np.asarray(s, dtype=np.float64)
            if a.ndim == 1:
                a = a[None, :]
            if a.ndim != 2:
                raise ValueError(
                    f"X[{i}] has shape {a.shape}; each series must be (length,) or (channels, length)"
                )
            series.append(a)
    else:
        try:
            a = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(
                "X must be a 3D array (n, channels, length), a 2D array (n, length), a list of "
                f"(channels, length) arrays or a long DataFrame; got {type(X).__name__} ({err})"
            ) from None
        if a.ndim == 2:
            a = a[:, None, :]
        if a.ndim != 3:
            raise ValueError(
                f"X has {a.ndim} dimension(s) (shape {a.shape}); expected (n, channels, length) "
                "or (n, length)"
            )
        series, ids = list(a), None
    if not series:
        raise ValueError("X holds no series")
    n_channels = series[0].shape[0]
    for i, s in enumerate(series):
        where = f"series {ids[i]!r}" if ids is not None else f"X[{i}]"
        if s.shape[0] != n_channels:
            raise ValueError(f"{where} has {s.shape[0]} channels but X[0] has {n_channels}")
        if s.shape[1] == 0:
            raise ValueError(f"{where} is empty; every series needs at least one step")
        if not np.isfinite(s).all():
            c, t = np.argwhere(~np.isfinite(s))[0]
            raise ValueError(
                f"{where} has a NaN or infinite value at channel {c}, step {t}; fill or drop "
                "missing values before fitting (trailing NaN padding: pass a list of arrays "
                "of their true lengths instead)"
            )
    return series, ids


def _pad(series: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Zero-pad at the end to a common length: values (n, L, C) float32 and mask (n, L) bool."""
    n, c = len(series), series[0].shape[0]
    length = max(s.shape[1] for s in series)
    values = np.zeros((n, length, c), dtype=np.float32)  # (n, L, C)
    mask = np.zeros((n, length), dtype=bool)  # (n, L)
    for i, s in enumerate(series):
        values[i, : s.shape[1]] = s.T
        mask[i, : s.shape[1]] = True
    return values, mask


def _align_labels(y: Any, ids: list[Any] | None, n: int) -> np.ndarray:
    """Labels as a 1D array in the order of the series; a Series indexed by id is aligned by id."""
    if ids is not None and isinstance(y, pd.Series) and set(ids) <= set(y.index):
        y = y.loc[ids]
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be one label per series (1D); got shape {y.shape}")
    if len(y) != n:
        raise ValueError(f"X holds {n} series but y has {len(y)} labels; they must match")
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(f"y has a NaN label at position {int(np.isnan(y).argmax())}")
    if y.dtype == object and pd.isna(y).any():
        raise ValueError(f"y has a missing label at position {int(pd.isna(y).argmax())}")
    return y


class S4Classifier(ClassifierMixin, BaseEstimator):
    """Sequence classifier: stacked (optionally pooled) S4 stages, a pooling head over time, softmax.

    `n_layers` S4 blocks per stage; `pool` lists the downsampling factors between stages
    (each multiplies the width by `expand`). Inputs are standardised per channel.

    For audio-rate signals, `filterbank=F` puts a learned S4 filterbank in front
    (`s4ts.nn.S4Filterbank`): F band filters per channel, log energies over frames of
    `frame_length` samples, filters kept below `bandlimit` times the training Nyquist
    frequency. The stages then run on frames (100 per second for 16 kHz audio and
    frames of 160), and at another sample rate the frames keep their duration.
    """

    def __init__(
        self,
        d_model: int = 64,
        n_layers: int | Sequence[int] = 4,
        d_state: int = 64,
        mode: str = "diag",
        init: str | None = None,
        bidirectional: bool = True,
        dropout: float = 0.1,
        pool: Sequence[int] = (),
        expand: int = 2,
        pooling: str = "mean",
        filterbank: int | None = None,
        frame_length: int = 160,
        bandlimit: float | None = 0.4,
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
        lr: float = 3e-3,
        ssm_lr: float = 1e-3,
        weight_decay: float = 0.01,
        batch_size: int = 32,
        max_epochs: int = 100,
        max_time: float | None = None,
        patience: int = 10,
        validation_fraction: float = 0.1,
        random_state: int | None = None,
        accelerator: str = "auto",
        verbose: bool = False,
    ) -> None:
        self.d_model = d_model
        self.n_layers = n_layers
        self.d_state = d_state
        self.mode = mode
        self.init = init
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.pool = pool
        self.expand = expand
        self.pooling = pooling
        self.filterbank = filterbank
        self.frame_length = frame_length
        self.bandlimit = bandlimit
        self.dt_min = dt_min
        self.dt_max = dt_max
        self.lr = lr
        self.ssm_lr = ssm_lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.max_time = max_time
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.accelerator = accelerator
        self.verbose = verbose

    # ------------------------------------------------------------------ validation

    def _check_params(self) -> tuple[int, ...]:
        """Validate hyperparameters; returns the number of S4 blocks of each stage."""
        pool = tuple(self.pool)
        if any(not isinstance(p, (int, np.integer)) or p < 1 for p in pool):
            raise ValueError(f"pool must be a sequence of positive integers; got {self.pool!r}")
        n_stages = len(pool) + 1
        if isinstance(self.n_layers, (int, np.integer)):
            n_layers = (int(self.n_layers),) * n_stages
        else:
            n_layers = tuple(int(n) for n in self.n_layers)
            if len(n_layers) != n_stages:
                raise ValueError(
                    f"n_layers={self.n_layers!r} gives {len(n_layers)} stages but pool={pool!r} "
                    f"needs {n_stages}; pass one count per stage or a single int"
                )
        if any(n < 1 for n in n_layers):
            raise ValueError(f"n_layers must be positive; got {self.n_layers!r}")
        if self.pooling not in _POOLINGS:
            raise ValueError(f"pooling must be one of {_POOLINGS}; got {self.pooling!r}")
        for name in ("d_model", "d_state", "expand", "batch_size", "max_epochs", "frame_length"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        if self.filterbank is not None and (
            not isinstance(self.filterbank, (int, np.integer)) or self.filterbank < 1
        ):
            raise ValueError(f"filterbank must be None or a positive number of filters; got {self.filterbank!r}")
        if self.bandlimit is not None and not 0.0 < self.bandlimit <= 1.0:
            raise ValueError(f"bandlimit must be None or in (0, 1]; got {self.bandlimit!r}")
        if not 0.0 <= self.validation_fraction < 1.0:
            raise ValueError(
                f"validation_fraction must be in [0, 1); got {self.validation_fraction!r}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1); got {self.dropout!r}")
        return n_layers

    def _rate(self, sample_rate: float | None) -> float:
        """Δ multiplier for data at `sample_rate`: data step / training step."""
        if sample_rate is None:
            return 1.0
        if not np.isfinite(sample_rate) or sample_rate <= 0:
            raise ValueError(f"sample_rate must be a positive number; got {sample_rate!r}")
        if self.sample_rate_ is None:
            raise ValueError(
                "this classifier was fitted without sample_rate, so predictions cannot change "
                "the rate; pass sample_rate to fit as well"
            )
        # Step Δt = 1 / sample_rate, so (1 / new) / (1 / train) = train / new.
        return self.sample_rate_ / float(sample_rate)

    def _prepare(self, X: Any) -> tuple[np.ndarray, np.ndarray, list[Any] | None]:
        """Validate X and return standardised padded values (n, L, C), mask (n, L) and ids."""
        series, ids = _to_series(X)
        if series[0].shape[0] != self.n_channels_:
            raise ValueError(
                f"X has {series[0].shape[0]} channels but the classifier was fitted on "
                f"{self.n_channels_}"
            )
        values, mask = _pad(series)
        values = (values - self.mean_) / self.scale_ * mask[..., None]  # (n, L, C)
        return values.astype(np.float32), mask, ids

    # ------------------------------------------------------------------ training

    def _build_network(self, n_layers: tuple[int, ...]) -> torch.nn.Module:
        frontend = None
        if self.filterbank is not None:
            frontend = S4Filterbank(
                self.n_channels_, int(self.filterbank), int(self.frame_length),
                bandlimit=self.bandlimit, ssm_lr=self.ssm_lr,
            )
        return S4ClassifierNet(
            d_input=self.n_channels_,
            n_classes=len(self.classes_),
            d_model=self.d_model,
            n_layers=n_layers,
            pool=tuple(int(p) for p in self.pool),
            expand=self.expand,
            pooling=self.pooling,
            frontend=frontend,
            d_state=self.d_state,
            mode=self.mode,
            init=self.init,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
            dt_min=self.dt_min,
            dt_max=self.dt_max,
            ssm_lr=self.ssm_lr,
        )

    def fit(
        self,
        X: Any,
        y: Any,
        sample_rate: float | None = None,
        validation_data: tuple[Any, Any] | None = None,
    ) -> S4Classifier:
        """Train on series X with labels y; sample_rate (Hz) fixes the time unit for later rate changes.

        `validation_data=(X_val, y_val)` replaces the random validation split.
        """
        n_layers = self._check_params()
        if sample_rate is not None and (not np.isfinite(sample_rate) or sample_rate <= 0):
            raise ValueError(f"sample_rate must be a positive number; got {sample_rate!r}")
        series, ids = _to_series(X)
        y = _align_labels(y, ids, len(series))
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has a single class ({self.classes_[0]!r}); a classifier needs at least two"
            )
        self.n_channels_ = series[0].shape[0]
        self.sample_rate_ = None if sample_rate is None else float(sample_rate)
        values, mask = _pad(series)
        # Per-channel standardisation over valid steps only, so padding does not bias it.
        valid = values[mask]  # (n_valid, C)
        self.mean_ = valid.mean(axis=0).astype(np.float32)  # (C,)
        self.scale_ = np.maximum(valid.std(axis=0), 1e-8).astype(np.float32)  # (C,)

        train_idx, val_idx = np.arange(len(series)), np.array([], dtype=int)
        if validation_data is None and self.validation_fraction > 0:
            counts = np.bincount(y_idx)
            n_val = round(self.validation_fraction * len(series))
            if n_val >= len(self.classes_) and len(series) - n_val >= len(self.classes_):
                train_idx, val_idx = train_test_split(
                    train_idx,
                    test_size=n_val,
                    random_state=self.random_state,
                    stratify=y_idx if counts.min() >= 2 else None,
                )
            else:
                log.warning(
                    "too few series (%d) for a validation split of %.2f; training without "
                    "early stopping", len(series), self.validation_fraction,
                )

        values = (values - self.mean_) / self.scale_ * mask[..., None]  # (n, L, C)

        def tensors(v: np.ndarray, m: np.ndarray, t: np.ndarray) -> torch.utils.data.TensorDataset:
            return torch.utils.data.TensorDataset(
                torch.from_numpy(v.astype(np.float32)), torch.from_numpy(m),
                torch.from_numpy(t.astype(np.int64)),
            )

        train_set = tensors(values[train_idx], mask[train_idx], y_idx[train_idx])
        val_set = None
        if validation_data is not None:
            X_val, y_val = validation_data
            v_val, m_val, val_ids = self._prepare(X_val)
            y_val = _align_labels(y_val, val_ids, len(v_val))
            unknown = set(np.unique(y_val)) - set(self.classes_.tolist())
            if unknown:
                raise ValueError(f"validation labels {sorted(unknown)} do not occur in y")
            val_set = tensors(v_val, m_val, np.searchsorted(self.classes_, y_val))
        elif len(val_idx):
            val_set = tensors(values[val_idx], mask[val_idx], y_idx[val_idx])

        seed = self.random_state
        with torch.random.fork_rng(devices=[]), _quiet_lightning(not self.verbose):
            # fork_rng keeps the user's global torch RNG untouched by seeding and training.
            if seed is not None:
                torch.manual_seed(seed)
            net = self._build_network(n_layers)
            generator = torch.Generator()
            generator.manual_seed(seed if seed is not None else int(torch.randint(2**31, ()).item()))
            train_loader = torch.utils.data.DataLoader(
                train_set, batch_size=self.batch_size, shuffle=True, generator=generator,
                drop_last=len(train_set) > self.batch_size,
            )
            val_loader = (
                None if val_set is None
                else torch.utils.data.DataLoader(val_set, batch_size=self.batch_size)
            )
            module = S4ClassifierModule(
                net, lr=self.lr, weight_decay=self.weight_decay,
                total_steps=self.max_epochs * len(train_loader),
            )
            callbacks: list[L.Callback] = []
            if val_loader is not None:
                best = _KeepBest()
                callbacks += [
                    best,
                    L.pytorch.callbacks.EarlyStopping("val_loss", patience=self.patience),
                ]
            trainer = L.Trainer(
                max_epochs=self.max_epochs,
                max_time=None if self.max_time is None else {"seconds": self.max_time},
                accelerator=self.accelerator,
                devices=1,
                logger=False,
                enable_checkpointing=False,
                enable_progress_bar=self.verbose,
                enable_model_summary=self.verbose,
                callbacks=callbacks,
                num_sanity_val_steps=0,
            )
            with warnings.catch_warnings():
                # Without validation data the module's validation_step simply goes unused.
                warnings.filterwarnings("ignore", message=".*no `val_dataloader`")
                trainer.fit(module, train_loader, val_loader)
            if val_loader is not None and best.state is not None:
                net.load_state_dict(best.state)
        self.network_ = net.cpu().eval()
        self.n_epochs_ = trainer.current_epoch
        self.best_val_loss_ = None if val_loader is None else best.score
        return self

    # ------------------------------------------------------------------ prediction

    def _device(self) -> torch.device:
        if self.accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("cpu")

    def _logits(self, X: Any, sample_rate: float | None) -> np.ndarray:
        """Logits (n, n_classes) for X at `sample_rate`."""
        if not hasattr(self, "network_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit first")
        rate = self._rate(sample_rate)
        if self.network_.frontend is not None:
            self.network_.frontend.frame_steps(rate)  # a rate that splits frames fails here, before any work
        values, mask, _ = self._prepare(X)
        device = self._device()
        net = self.network_.to(device).eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(values), self.batch_size):
                m = torch.from_numpy(mask[start : start + self.batch_size])  # (B, L)
                # Trimming to the longest series of the batch saves work; masks make it exact.
                length = int(m.sum(dim=1).max())
                v = torch.from_numpy(values[start : start + self.batch_size, :length])
                m = m[:, :length]
                # Without padding in the batch the unmasked path is exact and cheaper.
                m = None if bool(m.all()) else m.to(device)
                out.append(net(v.to(device), m, rate=rate).float().cpu())
        self.network_ = net.cpu()
        return torch.cat(out).numpy()

    def predict_proba(self, X: Any, sample_rate: float | None = None) -> np.ndarray:
        """Class probabilities (n, n_classes), columns ordered as classes_."""
        logits = torch.from_numpy(self._logits(X, sample_rate))
        return torch.softmax(logits, dim=-1).numpy()

    def decision_function(self, X: Any, sample_rate: float | None = None) -> np.ndarray:
        """Unnormalised class scores (logits), shape (n, n_classes)."""
        return self._logits(X, sample_rate)

    def predict(self, X: Any, sample_rate: float | None = None) -> np.ndarray:
        """Predicted labels (n,), in the order of the series of X."""
        best = self._logits(X, sample_rate).argmax(axis=1)
        return self.classes_[best]

    def score(self, X: Any, y: Any, sample_weight: Any = None, sample_rate: float | None = None) -> float:
        """Accuracy of predict(X, sample_rate) against y."""
        from sklearn.metrics import accuracy_score

        _, ids = _to_series(X) if isinstance(X, pd.DataFrame) else (None, None)
        y = _align_labels(y, ids, len(y) if ids is None else len(ids))
        return float(accuracy_score(y, self.predict(X, sample_rate), sample_weight=sample_weight))

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | os.PathLike) -> None:
        """Save to directory `path`: config.json (parameters, classes, scaling) and model.pt."""
        if not hasattr(self, "network_"):
            raise NotFittedError("only a fitted classifier can be saved; call fit first")
        classes = self.classes_.tolist()
        try:
            json.dumps(classes)
        except TypeError:
            raise TypeError(
                "only str, int, float or bool labels can be saved; classes_ holds "
                f"{type(classes[0]).__name__}"
            ) from None
        params = self.get_params()
        params["pool"] = [int(p) for p in params["pool"]]
        if not isinstance(params["n_layers"], (int, np.integer)):
            params["n_layers"] = [int(n) for n in params["n_layers"]]
        config = {
            "s4ts_version": s4ts.__version__,
            "estimator": type(self).__name__,
            "params": params,
            "classes": classes,
            "classes_dtype": self.classes_.dtype.str if self.classes_.dtype != object else None,
            "n_channels": int(self.n_channels_),
            "sample_rate": self.sample_rate_,
            "mean": self.mean_.tolist(),
            "scale": self.scale_.tolist(),
            "n_epochs": int(self.n_epochs_),
            "best_val_loss": self.best_val_loss_,
        }
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        (out / _CONFIG).write_text(json.dumps(config, indent=2))
        torch.save(self.network_.state_dict(), out / _WEIGHTS)

    @classmethod
    def load(cls, path: str | os.PathLike) -> S4Classifier:
        """Load a classifier written by save (weights loaded with weights_only=True)."""
        src = Path(path)
        config = json.loads((src / _CONFIG).read_text())
        if config.get("estimator") != cls.__name__:
            raise ValueError(f"{src} holds a {config.get('estimator')!r}, not a {cls.__name__}")
        if config["s4ts_version"] != s4ts.__version__:
            log.warning(
                "%s was saved by s4ts %s; this is s4ts %s",
                src, config["s4ts_version"], s4ts.__version__,
            )
        params = config["params"]
        for name in _TUPLE_PARAMS:
            params[name] = tuple(params[name])
        if isinstance(params["n_layers"], list):
            params["n_layers"] = tuple(params["n_layers"])
        model = cls(**params)
        dtype = config["classes_dtype"]
        model.classes_ = np.array(config["classes"], dtype=dtype if dtype else object)
        model.n_channels_ = config["n_channels"]
        model.sample_rate_ = config["sample_rate"]
        model.mean_ = np.array(config["mean"], dtype=np.float32)
        model.scale_ = np.array(config["scale"], dtype=np.float32)
        model.n_epochs_ = config["n_epochs"]
        model.best_val_loss_ = config["best_val_loss"]
        net = model._build_network(model._check_params())
        net.load_state_dict(torch.load(src / _WEIGHTS, weights_only=True, map_location="cpu"))
        model.network_ = net.eval()
        return model


class _KeepBest(L.Callback):
    """Keeps an in-memory copy of the weights with the lowest validation loss."""

    def __init__(self) -> None:
        self.score: float | None = None
        self.state: dict[str, torch.Tensor] | None = None

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        loss = trainer.callback_metrics.get("val_loss")
        if loss is None:
            return
        loss = float(loss)
        if self.score is None or loss < self.score:
            self.score = loss
            self.state = copy.deepcopy({k: v.detach().cpu() for k, v in pl_module.net.state_dict().items()})
