"""S4Forecaster: a scikit-learn-style forecaster on pandas frames, built on an S4 backbone.

Model: every time step is encoded as [y, observed, future-known covariates, past-only
covariates, calendar features]. A window is the context followed by `horizon` forecast
positions whose y and past-only inputs are hidden; a causal S4 backbone reads it in one
pass and the head turns its outputs at the forecast positions into quantiles or a Student-t.
Because the backbone is causal, a forecast depends on the whole history only through the
recurrent state at its end: `predict` computes that state with one convolution pass over
the history and then steps through the horizon, and `update` advances the stored state by
the new observations only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import warnings
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from torch import Tensor
from torch.utils.data import DataLoader, RandomSampler

import s4ts
from s4ts import metrics
from s4ts.data.frames import (
    Freq,
    SeriesData,
    freq_name,
    future_times,
    parse_freq,
    split_series,
    step_size,
    time_kind,
    to_long,
)
from s4ts.data.windows import SCALERS, Featurizer, WindowDataset, fit_scale, window_index
from s4ts.forecasting.module import ForecastingModule, run_backbone
from s4ts.nn import S4Backbone
from s4ts.nn.distributions import QuantileHead, StudentTHead, head_from_config

__all__ = ["S4Forecaster"]

logger = logging.getLogger(__name__)

DISTRIBUTIONS = ("quantile", "student_t")
_CONFIG_FILE = "config.json"
_WEIGHTS_FILE = "model.pt"
# Histories are run through the backbone in chunks of about this many (series x steps).
_MAX_BATCH_STEPS = 2**20


@dataclasses.dataclass
class _SeriesState:
    """What forecasting a series after its last observation needs."""

    freq: Freq
    last_time: Any  # pd.Timestamp or int
    loc: float  # target scaling: y_scaled = (y - loc) / scale
    scale: float
    rate: float  # step of the series in training steps
    state: Any  # backbone recurrent state after the last observation, batch size 1
    tail: np.ndarray  # last observed target values (for plots), (n,)


def _tree_map(fn, *trees):
    """Apply fn leafwise to tensors in matching nested lists/tuples/dicts (recurrent states)."""
    first = trees[0]
    if isinstance(first, Tensor):
        return fn(*trees)
    if isinstance(first, (list, tuple)):
        return type(first)(_tree_map(fn, *parts) for parts in zip(*trees))
    if isinstance(first, dict):
        return {key: _tree_map(fn, *(tree[key] for tree in trees)) for key in first}
    if first is None:
        return None
    raise TypeError(f"unexpected recurrent state element of type {type(first).__name__}")


def _truncate(series: SeriesData, last: int) -> SeriesData:
    """The series up to and including position `last`; it must keep an observed value."""
    if np.isnan(series.y[: last + 1]).all():
        raise ValueError(
            f"series {series.uid!r} has no observed values up to {series.times[last]}; "
            f"a forecast from there has no history to start from"
        )
    return dataclasses.replace(
        series,
        times=series.times[: last + 1],
        y=series.y[: last + 1],
        covariates=series.covariates[: last + 1],
    )


def _groups(keys: Sequence[Hashable]) -> dict[Hashable, list[int]]:
    """Positions of each distinct key, in first-appearance order."""
    groups: dict[Hashable, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        groups[key].append(i)
    return groups


@contextlib.contextmanager
def _quiet_lightning(quiet: bool) -> Iterator[None]:
    """Silence Lightning's informational logs while training when the user asked for quiet."""
    names = ("lightning.pytorch", "lightning.fabric")
    saved = {name: logging.getLogger(name).level for name in names}
    with warnings.catch_warnings():
        # Windows come from in-memory arrays: worker processes would only add start-up time.
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        # Lightning 2.6 still builds torch's deprecated LeafSpec; nothing a user can act on.
        warnings.filterwarnings("ignore", message=".*isinstance.treespec, LeafSpec.*")
        if quiet:
            for name in names:
                logging.getLogger(name).setLevel(logging.WARNING)
        try:
            yield
        finally:
            for name, level in saved.items():
                logging.getLogger(name).setLevel(level)


class _KeepBest(L.Callback):
    """Keep the weights of the epoch with the lowest validation loss and restore them at the end."""

    def __init__(self) -> None:
        self.best_loss = math.inf
        self.best_state: dict[str, Tensor] | None = None

    def on_validation_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        loss = trainer.callback_metrics.get("val_loss")
        if loss is not None and float(loss) < self.best_loss:
            self.best_loss = float(loss)
            self.best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}

    def on_fit_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if self.best_state is not None:
            module.load_state_dict(self.best_state)


class S4Forecaster(BaseEstimator):
    """Global probabilistic forecaster for one or many series, with an S4 state-space backbone.

    Data: `fit`, `predict`, `update`, `cross_validation` and `score` accept a long DataFrame
    (columns `id_col`, `time_col`, `target_col` and covariates), a wide DataFrame with a
    DatetimeIndex or integer index (one series per column), or a Series. Time is datetimes or
    integers. Each series keeps its own step (inferred, or `freq=`); missing steps and NaN
    targets are masked.

    Forecast frames have the input's id and time columns, `{target_col}_pred` (the median)
    and one column per requested quantile named `{target_col}_q{level}`, e.g. `y_q0.1`.

    Parameters
    ----------
    horizon: number of steps to forecast.
    context_length: steps of history in each training window (default 4 * horizon). At
        prediction the model reads the whole history through its recurrent state.
    freq: pandas offset alias or integer step for all series; None infers it per series.
    futr_exog: covariate columns known in advance (given for the horizon in `X_future`).
    hist_exog: covariate columns known only up to the forecast origin.
    calendar_features: add time of day, day of week and day of year (datetime time only).
    scaler: per-series target scaling, "standard", "robust" (median/IQR) or None.
    distribution: "quantile" (pinball loss on `quantiles`) or "student_t" (likelihood).
    quantiles: levels reported as columns; the quantile head also always learns the median.
    d_model, n_layers, d_state, mode, init, dropout, dt_min, dt_max, ssm_lr: backbone settings
        (see `s4ts.nn.S4Backbone`); the backbone is always causal.
    learning_rate, weight_decay, batch_size, max_epochs, gradient_clip_val: training settings.
    max_time: training time limit in seconds (or a timedelta); None for no limit.
    batches_per_epoch: batches drawn at random per epoch; None uses every window once.
    val_size: steps at the end of each series held out for validation and early stopping
        (default `horizon`; 0 trains on everything without early stopping).
    early_stopping_patience: epochs without validation improvement before stopping.
    accelerator: Lightning accelerator ("auto", "cpu", "gpu", ...).
    random_state: seed for weights, window order, dropout and samples (int, RandomState or None).
    verbose: show Lightning's progress bar and messages.
    """

    def __init__(
        self,
        horizon: int = 24,
        context_length: int | None = None,
        *,
        freq: str | int | None = None,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str = "y",
        futr_exog: Sequence[str] = (),
        hist_exog: Sequence[str] = (),
        calendar_features: bool = False,
        scaler: str | None = "standard",
        distribution: str = "quantile",
        quantiles: Sequence[float] = (0.1, 0.5, 0.9),
        d_model: int = 64,
        n_layers: int = 4,
        d_state: int = 64,
        mode: str = "diag",
        init: str = "legs",
        dropout: float = 0.1,
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
        ssm_lr: float = 1e-3,
        learning_rate: float = 3e-3,
        weight_decay: float = 0.01,
        batch_size: int = 32,
        max_epochs: int = 20,
        max_time: float | timedelta | None = None,
        batches_per_epoch: int | None = None,
        val_size: int | None = None,
        early_stopping_patience: int = 5,
        gradient_clip_val: float | None = 1.0,
        accelerator: str = "auto",
        random_state: int | np.random.RandomState | None = 0,
        verbose: bool = True,
    ) -> None:
        self.horizon = horizon
        self.context_length = context_length
        self.freq = freq
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col
        self.futr_exog = futr_exog
        self.hist_exog = hist_exog
        self.calendar_features = calendar_features
        self.scaler = scaler
        self.distribution = distribution
        self.quantiles = quantiles
        self.d_model = d_model
        self.n_layers = n_layers
        self.d_state = d_state
        self.mode = mode
        self.init = init
        self.dropout = dropout
        self.dt_min = dt_min
        self.dt_max = dt_max
        self.ssm_lr = ssm_lr
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.max_time = max_time
        self.batches_per_epoch = batches_per_epoch
        self.val_size = val_size
        self.early_stopping_patience = early_stopping_patience
        self.gradient_clip_val = gradient_clip_val
        self.accelerator = accelerator
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ parameters and data

    def _check_params(self) -> None:
        """Validate constructor arguments (scikit-learn convention: at fit, not in __init__)."""

        def positive_int(name: str, value: Any, allow_none: bool = False) -> None:
            if value is None and allow_none:
                return
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer")

        positive_int("horizon", self.horizon)
        positive_int("context_length", self.context_length, allow_none=True)
        positive_int("batch_size", self.batch_size)
        positive_int("max_epochs", self.max_epochs)
        positive_int("batches_per_epoch", self.batches_per_epoch, allow_none=True)
        positive_int("early_stopping_patience", self.early_stopping_patience)
        if self.val_size is not None and (
            not isinstance(self.val_size, (int, np.integer))
            or (self.val_size != 0 and self.val_size < self.horizon)
        ):
            raise ValueError(
                f"val_size={self.val_size!r} must be 0 (no validation) or at least horizon={self.horizon}"
            )
        if self.scaler not in SCALERS:
            raise ValueError(f"scaler={self.scaler!r} must be one of {SCALERS}")
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(f"distribution={self.distribution!r} must be one of {DISTRIBUTIONS}")
        QuantileHead(self.quantiles)  # validates the levels
        for name in ("futr_exog", "hist_exog"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(c, str) for c in value):
                raise TypeError(f"{name}={value!r} must be a list of column names")
        clash = set(self.futr_exog) & set(self.hist_exog)
        reserved = set(self._covariates) & {
            self.id_col,
            self.time_col,
            self.target_col,
        }
        if clash or reserved:
            raise ValueError(
                f"covariate columns {sorted(clash | reserved)} appear twice among futr_exog, "
                f"hist_exog and the id/time/target columns; list each column once"
            )
        if self.max_time is not None and not isinstance(self.max_time, (int, float, timedelta)):
            raise TypeError(f"max_time={self.max_time!r} must be seconds or a timedelta")

    @property
    def _covariates(self) -> list[str]:
        return [*self.futr_exog, *self.hist_exog]

    def _columns(self) -> dict[str, str]:
        return {"id_col": self.id_col, "time_col": self.time_col, "target_col": self.target_col}

    def _series(
        self, data: pd.DataFrame | pd.Series, name: str, kind: str | None = None
    ) -> tuple[pd.DataFrame, list[SeriesData]]:
        """Validated long frame and regular series; `kind` is the time kind the model expects."""
        long = to_long(data, covariates=self._covariates, name=name, **self._columns())
        found = time_kind(long[self.time_col])
        if kind is not None and found != kind:
            raise ValueError(
                f"{name}: time column {self.time_col!r} holds {found} time but the model was "
                f"fitted on {kind} time; give timestamps of the same kind"
            )
        if self.calendar_features and found != "datetime":
            raise ValueError(
                f"{name}: calendar_features=True needs datetime timestamps, but {self.time_col!r} "
                f"holds integers; set calendar_features=False"
            )
        freq = parse_freq(self.freq, found) if self.freq is not None else None
        series = split_series(long, freq=freq, covariates=self._covariates, **self._columns())
        return long, series

    # ------------------------------------------------------------------ model pieces

    def _make_head(self) -> QuantileHead | StudentTHead:
        if self.distribution == "student_t":
            return StudentTHead()
        return QuantileHead([*self.quantiles, 0.5])

    def _make_backbone(self, n_channels: int, n_outputs: int) -> S4Backbone:
        return S4Backbone(
            n_channels,
            n_outputs,
            d_model=self.d_model,
            n_layers=self.n_layers,
            d_state=self.d_state,
            mode=self.mode,
            init=self.init,
            dropout=self.dropout,
            prenorm=True,
            # Causal: forecasts then depend on the history only through the recurrent state.
            bidirectional=False,
            dt_min=self.dt_min,
            dt_max=self.dt_max,
            ssm_lr=self.ssm_lr,
        )

    def _seed(self) -> int:
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    # ------------------------------------------------------------------ fit

    def fit(self, df: pd.DataFrame | pd.Series) -> S4Forecaster:
        """Train on the history in `df` and keep each series' state for forecasting after it."""
        self._check_params()
        _, series = self._series(df, "df")
        return self._fit_series(series)

    def _fit_series(self, series: list[SeriesData]) -> S4Forecaster:
        """Train on regular series and keep the state at the end of each."""
        horizon = self.horizon
        context_length = self.context_length or 4 * horizon
        val_size = horizon if self.val_size is None else self.val_size
        needed = horizon + 1 + val_size
        for s in series:
            if len(s.times) < needed:
                raise ValueError(
                    f"series {s.uid!r} has {len(s.times)} time steps; fitting needs at least "
                    f"{needed} (1 step of context + horizon {horizon} + validation {val_size}). "
                    f"Drop the series, lower horizon, or set val_size=0"
                )
        steps = [step_size(s.freq) for s in series]
        # The model's time unit (one training step) is the most common step among the series.
        train_step = Counter(steps).most_common(1)[0][0]
        rates = [step / train_step for step in steps]
        scaling = [fit_scale(s.y, self.scaler) for s in series]
        featurizer = Featurizer(len(self.futr_exog), len(self.hist_exog), self.calendar_features)
        featurizer.fit(series)
        targets = [((s.y - loc) / scale).astype(np.float32) for s, (loc, scale) in zip(series, scaling)]
        inputs = [featurizer.encode(y, s.covariates, s.times) for y, s in zip(targets, series)]

        head = self._make_head()
        seed = self._seed()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            backbone = self._make_backbone(featurizer.n_channels, head.n_outputs)
            n_epochs, best_val_loss = self._train(
                backbone, head, inputs, targets, rates, featurizer, context_length, val_size, seed
            )
        backbone.cpu().eval()

        self.n_epochs_ = n_epochs
        self.best_val_loss_ = best_val_loss
        self.train_step_ = train_step
        self.time_kind_ = time_kind(series[0].times)
        self.context_length_ = context_length
        self.featurizer_ = featurizer
        self.head_ = head
        self.backbone_ = backbone
        self.rates_ = sorted(set(rates))
        states = self._states(series, inputs, scaling, rates)
        self.series_ = {s.uid: st for s, st in zip(series, states)}
        return self

    def _train(
        self,
        backbone: S4Backbone,
        head: QuantileHead | StudentTHead,
        inputs: list[np.ndarray],
        targets: list[np.ndarray],
        rates: list[float],
        featurizer: Featurizer,
        context_length: int,
        val_size: int,
        seed: int,
    ) -> tuple[int, float]:
        """Fit backbone + head with Lightning; returns epochs run and best validation loss."""
        train_index, val_index = window_index([len(y) for y in targets], self.horizon, val_size)

        def loader(index: np.ndarray, sampler: RandomSampler | None = None) -> DataLoader:
            dataset = WindowDataset(
                inputs, targets, rates, index, context_length, self.horizon, featurizer.hidden_channels
            )
            return DataLoader(dataset, batch_size=self.batch_size, sampler=sampler)

        n_samples = len(train_index)
        if self.batches_per_epoch is not None:
            n_samples = min(n_samples, self.batches_per_epoch * self.batch_size)
        generator = torch.Generator().manual_seed(seed)
        sampler = RandomSampler(range(len(train_index)), num_samples=n_samples, generator=generator)
        train_loader = loader(train_index, sampler)
        val_loader = loader(val_index) if len(val_index) else None
        callbacks: list[L.Callback] = []
        keep_best = _KeepBest()
        if val_loader is not None:
            callbacks = [
                L.pytorch.callbacks.EarlyStopping("val_loss", patience=self.early_stopping_patience),
                keep_best,
            ]
        max_time = self.max_time
        if isinstance(max_time, (int, float)):
            max_time = timedelta(seconds=max_time)
        module = ForecastingModule(backbone, head, self.learning_rate, self.weight_decay)
        with _quiet_lightning(not self.verbose):
            trainer = L.Trainer(
                accelerator=self.accelerator,
                devices=1,
                max_epochs=self.max_epochs,
                max_time=max_time,
                gradient_clip_val=self.gradient_clip_val,
                callbacks=callbacks,
                enable_progress_bar=self.verbose,
                enable_model_summary=self.verbose,
                logger=False,
                enable_checkpointing=False,
                num_sanity_val_steps=0,
            )
            trainer.fit(module, train_loader, val_loader)
        logger.info(
            "trained %d epochs on %d windows; best validation loss %.4f",
            trainer.current_epoch,
            len(train_index),
            keep_best.best_loss,
        )
        return int(trainer.current_epoch), float(keep_best.best_loss)

    # ------------------------------------------------------------------ recurrent state

    @torch.no_grad()
    def _run_histories(self, inputs: list[np.ndarray], rates: list[float]) -> list[Any]:
        """Recurrent state after each history (T_i, C): one convolution pass per batch of series
        with equal length and rate."""
        states: list[Any] = [None] * len(inputs)
        for (length, rate), members in _groups([(len(x), r) for x, r in zip(inputs, rates)]).items():
            chunk = max(1, _MAX_BATCH_STEPS // length)
            for first in range(0, len(members), chunk):
                rows = members[first : first + chunk]
                x = torch.from_numpy(np.stack([inputs[i] for i in rows]))  # (B, T, C)
                dt = torch.full((len(rows), length), rate)  # (B, T)
                _, state = run_backbone(self.backbone_, x, dt, return_state=True)
                for j, i in enumerate(rows):
                    states[i] = _tree_map(lambda t, j=j: t[j : j + 1], state)
        return states

    @torch.no_grad()
    def _run_steps(
        self, states: list[Any], x: np.ndarray, rates: list[float]
    ) -> tuple[np.ndarray, list[Any]]:
        """Advance states through inputs x (S, T, C) by the recurrence: outputs (S, T, n_out), new states."""
        raw = np.zeros((len(states), x.shape[1], self.head_.n_outputs))
        new_states: list[Any] = [None] * len(states)
        # The recurrence discretizes once per rate, so series advance in batches of equal rate.
        for rate, rows in _groups(rates).items():
            state = _tree_map(lambda *parts: torch.cat(parts, 0), *(states[i] for i in rows))
            inputs = torch.from_numpy(x[rows])  # (B, T, C)
            for t in range(inputs.shape[1]):
                y_t, state = self.backbone_.step(inputs[:, t], state, rate=rate)  # (B, n_out)
                raw[rows, t] = y_t.double().numpy()
            for j, i in enumerate(rows):
                new_states[i] = _tree_map(lambda t, j=j: t[j : j + 1], state)
        return raw, new_states

    def _states(
        self,
        series: list[SeriesData],
        inputs: list[np.ndarray],
        scaling: list[tuple[float, float]],
        rates: list[float],
    ) -> list[_SeriesState]:
        """Forecasting state at the end of each history."""
        states = self._run_histories(inputs, rates)
        return [
            _SeriesState(
                freq=s.freq,
                last_time=s.times[-1],
                loc=loc,
                scale=scale,
                rate=rate,
                state=state,
                tail=s.y[-self.context_length_ :].copy(),
            )
            for s, (loc, scale), rate, state in zip(series, scaling, rates, states)
        ]

    def _check_rate(self, uid: Hashable, freq: Freq, name: str) -> float:
        """Step of a series in training steps; only steps seen in training are supported yet."""
        rate = step_size(freq) / self.train_step_
        if not any(math.isclose(rate, known, rel_tol=1e-9) for known in self.rates_):
            raise ValueError(
                f"{name}: series {uid!r} has step {freq_name(freq)} ({rate:g} training steps), but "
                f"the model was fitted on steps of {sorted(self.rates_)} training steps; "
                f"forecasting at another sampling rate is not supported yet, so resample the series "
                f"or pass freq="
            )
        return rate

    def _series_states(self, series: list[SeriesData], name: str) -> list[_SeriesState]:
        """Forecasting states after new histories (known series keep their fitted scaling)."""
        scaling, rates, inputs = [], [], []
        for s in series:
            rates.append(self._check_rate(s.uid, s.freq, name))
            known = self.series_.get(s.uid)
            loc, scale = (known.loc, known.scale) if known else fit_scale(s.y, self.scaler)
            scaling.append((loc, scale))
            inputs.append(self.featurizer_.encode((s.y - loc) / scale, s.covariates, s.times))
        return self._states(series, inputs, scaling, rates)

    # ------------------------------------------------------------------ predict

    def _check_future(self, uid: Hashable, values: np.ndarray, times: pd.Index, source: str) -> None:
        """Future-known covariates (H, n_futr) must be complete over the horizon."""
        missing = np.isnan(values)
        if missing.any():
            step, column = np.argwhere(missing)[0]
            raise ValueError(
                f"{source} lacks {self.futr_exog[column]!r} for series {uid!r} at {times[step]} "
                f"({int(missing.any(axis=1).sum())} of {self.horizon} horizon steps incomplete); "
                f"give every futr_exog column for all {self.horizon} steps after the forecast origin"
            )

    def _future_covariates(
        self, uids: list[Hashable], states: list[_SeriesState], X_future: pd.DataFrame | None
    ) -> list[np.ndarray]:
        """Future-known covariates (H, n_futr) per series from X_future."""
        futr = list(self.futr_exog)
        if not futr:
            if X_future is not None:
                raise ValueError("X_future was given but the model has no futr_exog columns to read from it")
            return [np.zeros((self.horizon, 0)) for _ in uids]
        if X_future is None:
            raise ValueError(
                f"the model uses future-known covariates {futr}: pass X_future with columns "
                f"{self.id_col!r}, {self.time_col!r} and {futr} for the {self.horizon} steps after "
                f"the end of each series"
            )
        frame = to_long(
            X_future, covariates=futr, name="X_future", require_target=False, **self._columns()
        )
        groups = {uid: g.set_index(self.time_col)[futr] for uid, g in frame.groupby(self.id_col, sort=False)}
        out = []
        for uid, st in zip(uids, states):
            times = future_times(st.last_time, st.freq, self.horizon)
            given = groups.get(uid)
            values = (
                given.reindex(times).to_numpy(float)
                if given is not None
                else np.full((self.horizon, len(futr)), np.nan)
            )
            self._check_future(uid, values, times, "X_future")
            out.append(values)
        return out

    def _forecast(
        self,
        uids: list[Hashable],
        states: list[_SeriesState],
        futures: list[np.ndarray],
        num_samples: int | None,
    ) -> pd.DataFrame:
        """Forecast frame for the `horizon` steps after each state, given future-known covariates."""
        horizon, n_hist = self.horizon, len(self.hist_exog)
        inputs, times = [], []
        for st, futr in zip(states, futures):
            future = future_times(st.last_time, st.freq, horizon)
            # Forecast positions: y and past-only covariates unknown (NaN -> hidden).
            covariates = np.concatenate([futr, np.full((horizon, n_hist), np.nan)], axis=1)
            inputs.append(self.featurizer_.encode(np.full(horizon, np.nan), covariates, future))
            times.append(future)
        raw, _ = self._run_steps(
            [st.state for st in states], np.stack(inputs), [st.rate for st in states]
        )  # (S, H, n_out)
        loc = np.array([st.loc for st in states])[:, None]  # (S, 1)
        scale = np.array([st.scale for st in states])[:, None]
        frame = pd.DataFrame(
            {self.id_col: pd.Index(uids).repeat(horizon), self.time_col: times[0].append(times[1:])}
        )
        if num_samples is not None:
            return self._samples(frame, raw, loc, scale, num_samples)
        frame[self._pred_col] = (self.head_.point(raw) * scale + loc).ravel()
        quantiles = self.head_.quantile(raw, list(self.quantiles))  # (S, H, Q)
        quantiles = quantiles * scale[..., None] + loc[..., None]
        for k, column in enumerate(self._quantile_cols.values()):
            frame[column] = quantiles[..., k].ravel()
        return frame

    def _samples(
        self, frame: pd.DataFrame, raw: np.ndarray, loc: np.ndarray, scale: np.ndarray, n: int
    ) -> pd.DataFrame:
        """Long frame of sample paths: one row per series, time step and sample."""
        if self.distribution != "student_t":
            raise ValueError("num_samples needs distribution='student_t'; the quantile head has no density")
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"num_samples={n!r} must be a positive integer")
        draws = self.head_.sample(raw, n, check_random_state(self.random_state)) * scale + loc  # (n, S, H)
        out = frame.loc[np.tile(np.arange(len(frame)), n)].reset_index(drop=True)
        out.insert(2, "sample", np.repeat(np.arange(n), len(frame)))
        out[self.target_col] = draws.reshape(n, -1).ravel()
        return out

    @property
    def _pred_col(self) -> str:
        return f"{self.target_col}_pred"

    @property
    def _quantile_cols(self) -> dict[float, str]:
        return {float(q): f"{self.target_col}_q{float(q):g}" for q in self.quantiles}

    def predict(
        self,
        df: pd.DataFrame | pd.Series | None = None,
        X_future: pd.DataFrame | None = None,
        num_samples: int | None = None,
    ) -> pd.DataFrame:
        """Forecast `horizon` steps after the training data, or after the histories in `df`.

        `df` may hold series never seen in training. `X_future` gives the futr_exog columns for
        the horizon. With `num_samples`, returns sample paths (column "sample") instead of
        point and quantile columns (Student-t head; steps are drawn independently).
        """
        check_is_fitted(self)
        if df is None:
            uids, states = list(self.series_), list(self.series_.values())
        else:
            _, series = self._series(df, "df", kind=self.time_kind_)
            uids, states = [s.uid for s in series], self._series_states(series, "df")
        futures = self._future_covariates(uids, states, X_future)
        return self._forecast(uids, states, futures, num_samples)

    def update(self, new_observations: pd.DataFrame | pd.Series) -> S4Forecaster:
        """Append observations after the end of known series, advancing their recurrent state.

        No retraining and no pass over the old history: only the new steps run through the
        backbone's recurrence. Afterwards `predict()` forecasts after the new observations,
        exactly as `predict(df=old + new)` would.
        """
        check_is_fitted(self)
        long = to_long(new_observations, covariates=self._covariates, name="new_observations", **self._columns())
        updated = {}
        for uid, group in long.groupby(self.id_col, sort=False):
            st = self.series_.get(uid)
            if st is None:
                raise ValueError(
                    f"new_observations: series {uid!r} was not seen in fit; forecast it with "
                    f"predict(df=its history) instead"
                )
            first = group[self.time_col].iloc[0]
            if first <= st.last_time:
                raise ValueError(
                    f"new_observations: series {uid!r} has a row at {first}, not after its last "
                    f"known time {st.last_time}; pass only newer observations"
                )
            (s,) = split_series(
                group,
                freq=st.freq,
                start=future_times(st.last_time, st.freq, 1)[0],
                covariates=self._covariates,
                **self._columns(),
            )
            x = self.featurizer_.encode((s.y - st.loc) / st.scale, s.covariates, s.times)
            updated[uid] = (s, x)
        for uid, (s, x) in updated.items():
            st = self.series_[uid]
            _, (st.state,) = self._run_steps([st.state], x[None], [st.rate])
            st.last_time = s.times[-1]
            st.tail = np.concatenate([st.tail, s.y])[-self.context_length_ :]
        return self

    # ------------------------------------------------------------------ evaluation

    def _backtest(
        self, series: list[SeriesData], cuts: list[int], states: list[_SeriesState]
    ) -> pd.DataFrame:
        """Forecasts after position cuts[i] of series[i] from states[i], with the cutoff and the truth."""
        horizon, n_futr = self.horizon, len(self.futr_exog)
        futures = []
        for s, cut in zip(series, cuts):
            ahead = slice(cut + 1, cut + 1 + horizon)
            futures.append(s.covariates[ahead, :n_futr])
            self._check_future(s.uid, futures[-1], s.times[ahead], "df")
        forecast = self._forecast([s.uid for s in series], states, futures, None)
        forecast.insert(2, "cutoff", pd.Index([s.times[c] for s, c in zip(series, cuts)]).repeat(horizon))
        truth = [s.y[cut + 1 : cut + 1 + horizon] for s, cut in zip(series, cuts)]
        forecast.insert(3, self.target_col, np.concatenate(truth))
        return forecast

    def cross_validation(
        self, df: pd.DataFrame | pd.Series, n_windows: int = 1, step: int | None = None
    ) -> pd.DataFrame:
        """Rolling-origin backtest: fit once up to the first cutoff, forecast from every cutoff.

        Cutoffs are the last `n_windows` forecast origins of each series, `step` steps apart
        (default `horizon`), the last one `horizon` steps before the series' end. Returns the
        forecasts with columns id, time, "cutoff", the true target, prediction and quantiles.
        The estimator stays fitted on the data up to the first cutoff.
        """
        self._check_params()
        step = self.horizon if step is None else step
        for name, value in (("n_windows", n_windows), ("step", step)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer")
        _, series = self._series(df, "df")
        back = self.horizon + step * (n_windows - 1)  # steps from the first cutoff to the end
        for s in series:
            if len(s.times) <= back:
                raise ValueError(
                    f"series {s.uid!r} has {len(s.times)} time steps, too few for {n_windows} "
                    f"windows of horizon {self.horizon} every {step} steps (needs more than {back})"
                )
        first_cuts = [len(s.times) - 1 - back for s in series]
        self._fit_series([_truncate(s, cut) for s, cut in zip(series, first_cuts)])
        states = [self.series_[s.uid] for s in series]
        # From one cutoff to the next the states advance by the recurrence over the `step` new
        # steps only; this equals a pass over each longer history, at a fraction of the cost.
        inputs = [
            self.featurizer_.encode((s.y - st.loc) / st.scale, s.covariates, s.times)
            for s, st in zip(series, states)
        ]
        all_series, all_cuts, all_states = [], [], []
        for k in range(n_windows):
            cuts = [cut + step * k for cut in first_cuts]
            if k:
                x = np.stack([x_s[cut - step + 1 : cut + 1] for x_s, cut in zip(inputs, cuts)])
                _, advanced = self._run_steps([st.state for st in states], x, [st.rate for st in states])
                states = [
                    dataclasses.replace(st, state=state, last_time=s.times[cut])
                    for st, state, s, cut in zip(states, advanced, series, cuts)
                ]
            all_series += series
            all_cuts += cuts
            all_states += states
        # One batched pass over the horizon for every window and series.
        return self._backtest(all_series, all_cuts, all_states)

    def score(self, df: pd.DataFrame | pd.Series, season: int = 1) -> dict[str, float]:
        """Metrics of forecasts of the last `horizon` steps of each series in `df` from what precedes them.

        Returns mae, mse, mase (scaled by the in-sample error of the seasonal-naive forecast
        with `season`), smape, and quantile_loss, crps and coverage of the outer quantile band.
        """
        check_is_fitted(self)
        _, series = self._series(df, "df", kind=self.time_kind_)
        for s in series:
            if len(s.times) <= self.horizon + season:
                raise ValueError(
                    f"series {s.uid!r} has {len(s.times)} time steps; scoring needs more than "
                    f"horizon + season = {self.horizon + season}"
                )
        cuts = [len(s.times) - 1 - self.horizon for s in series]
        history = [_truncate(s, cut) for s, cut in zip(series, cuts)]
        forecasts = self._backtest(series, cuts, self._series_states(history, "df"))
        train = pd.DataFrame(
            {
                self.id_col: pd.Index([s.uid for s in history]).repeat([len(s.y) for s in history]),
                self.target_col: np.concatenate([s.y for s in history]),
            }
        )
        return metrics.evaluate(
            forecasts,
            train,
            id_col=self.id_col,
            target_col=self.target_col,
            pred_col=self._pred_col,
            quantile_cols=self._quantile_cols,
            season=season,
        )

    # ------------------------------------------------------------------ plot

    def plot(
        self,
        forecasts: pd.DataFrame | None = None,
        df: pd.DataFrame | pd.Series | None = None,
        *,
        ids: Sequence[Hashable] | None = None,
        n_history: int | None = None,
        path: str | os.PathLike | None = None,
    ):
        """Plot history, forecast and outer quantile band per series; save to `path` if given.

        `forecasts` defaults to `predict(df)`; the history shown is `df` (or the end of the
        training data). Returns the matplotlib Figure.
        """
        from matplotlib.figure import Figure

        check_is_fitted(self)
        if forecasts is None:
            forecasts = self.predict(df)
        if df is None:
            history = {uid: (self._tail_times(st), st.tail) for uid, st in self.series_.items()}
        else:
            _, series = self._series(df, "df", kind=self.time_kind_)
            history = {s.uid: (s.times, s.y) for s in series}
        ids = list(dict.fromkeys(forecasts[self.id_col])) if ids is None else list(ids)
        n_history = n_history or self.context_length_
        fig = Figure(figsize=(10, 2.8 * len(ids)), layout="constrained")
        axes = fig.subplots(len(ids), 1, squeeze=False)[:, 0]
        levels = sorted(self._quantile_cols)
        for ax, uid in zip(axes, ids):
            if uid in history:
                times, values = history[uid]
                ax.plot(times[-n_history:], values[-n_history:], color="0.3", lw=1, label="history")
            part = forecasts[forecasts[self.id_col] == uid]
            if self.target_col in part and part[self.target_col].notna().any():
                ax.plot(part[self.time_col], part[self.target_col], color="0.3", lw=1, ls=":", label="actual")
            ax.plot(part[self.time_col], part[self._pred_col], color="C0", lw=1.5, label="forecast")
            if len(levels) >= 2:
                low, high = self._quantile_cols[levels[0]], self._quantile_cols[levels[-1]]
                ax.fill_between(
                    part[self.time_col], part[low], part[high], color="C0", alpha=0.25,
                    label=f"{levels[0]:g}-{levels[-1]:g} quantiles",
                )
            ax.set_title(str(uid))
            ax.set_ylabel(self.target_col)
            ax.legend(loc="upper left", fontsize="small")
        if path is not None:
            fig.savefig(path, dpi=120)
        return fig

    def _tail_times(self, st: _SeriesState) -> pd.Index:
        """Timestamps of a stored history tail, which ends at `st.last_time`."""
        n = len(st.tail)
        if isinstance(st.freq, int):
            return pd.Index(st.last_time - st.freq * np.arange(n - 1, -1, -1))
        return pd.date_range(end=st.last_time, periods=n, freq=st.freq)

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | os.PathLike) -> None:
        """Save to directory `path`: config.json (settings, scaling, series) and model.pt (tensors)."""
        check_is_fitted(self)
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        params = {key: _jsonable(key, value) for key, value in self.get_params().items()}
        series = []
        for uid, st in self.series_.items():
            if not isinstance(uid, (str, int, np.integer)):
                raise TypeError(f"series id {uid!r} must be a str or int to save the model as JSON")
            series.append(
                {
                    "id": uid if isinstance(uid, str) else int(uid),
                    "freq": st.freq if isinstance(st.freq, int) else st.freq.freqstr,
                    "last_time": int(st.last_time) if isinstance(st.freq, int) else st.last_time.value,
                    "tz": None if isinstance(st.freq, int) or st.last_time.tz is None else str(st.last_time.tz),
                    "loc": st.loc,
                    "scale": st.scale,
                    "rate": st.rate,
                }
            )
        config = {
            "s4ts_version": s4ts.__version__,
            "params": params,
            "time_kind": self.time_kind_,
            "train_step": self.train_step_,
            "rates": self.rates_,
            "context_length": self.context_length_,
            "n_epochs": self.n_epochs_,
            "best_val_loss": self.best_val_loss_ if math.isfinite(self.best_val_loss_) else None,
            "head": self.head_.config(),
            "featurizer": {
                "n_futr": self.featurizer_.n_futr,
                "n_hist": self.featurizer_.n_hist,
                "calendar": self.featurizer_.calendar,
                "cov_loc": self.featurizer_.cov_loc.tolist(),
                "cov_scale": self.featurizer_.cov_scale.tolist(),
            },
            "series": series,
        }
        (path / _CONFIG_FILE).write_text(json.dumps(config, indent=2))
        tensors = {
            "backbone": self.backbone_.state_dict(),
            "states": [st.state for st in self.series_.values()],
            "tails": [torch.from_numpy(st.tail) for st in self.series_.values()],
        }
        torch.save(tensors, path / _WEIGHTS_FILE)

    @classmethod
    def load(cls, path: str | os.PathLike) -> S4Forecaster:
        """Load a model saved with `save`; reads JSON and tensors only (no code runs on load)."""
        path = Path(path)
        config = json.loads((path / _CONFIG_FILE).read_text())
        tensors = torch.load(path / _WEIGHTS_FILE, weights_only=True, map_location="cpu")
        version = config["s4ts_version"]
        if version != s4ts.__version__:
            logger.warning("model was saved with s4ts %s; this is s4ts %s", version, s4ts.__version__)
        est = cls(**config["params"])
        est.saved_with_version_ = version
        est.time_kind_ = config["time_kind"]
        est.train_step_ = config["train_step"]
        est.rates_ = config["rates"]
        est.context_length_ = config["context_length"]
        est.n_epochs_ = config["n_epochs"]
        best = config["best_val_loss"]
        est.best_val_loss_ = math.inf if best is None else best
        est.head_ = head_from_config(config["head"])
        feat = config["featurizer"]
        est.featurizer_ = Featurizer(
            feat["n_futr"], feat["n_hist"], feat["calendar"],
            np.array(feat["cov_loc"], dtype=float), np.array(feat["cov_scale"], dtype=float),
        )
        est.backbone_ = est._make_backbone(est.featurizer_.n_channels, est.head_.n_outputs)
        est.backbone_.load_state_dict(tensors["backbone"])
        est.backbone_.eval()
        est.series_ = {}
        for meta, state, tail in zip(config["series"], tensors["states"], tensors["tails"]):
            if est.time_kind_ == "integer":
                freq, last = meta["freq"], meta["last_time"]
            else:
                freq = parse_freq(meta["freq"], "datetime")
                last = pd.Timestamp(meta["last_time"], tz="UTC")
                last = last.tz_convert(meta["tz"]) if meta["tz"] else last.tz_localize(None)
            est.series_[meta["id"]] = _SeriesState(
                freq=freq, last_time=last, loc=meta["loc"], scale=meta["scale"],
                rate=meta["rate"], state=state, tail=tail.numpy(),
            )
        return est


def _jsonable(name: str, value: Any) -> Any:
    """A constructor argument as JSON (tuples become lists, offsets aliases, timedeltas seconds)."""
    if isinstance(value, pd.DateOffset):
        return value.freqstr
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (tuple, list)):
        return [_jsonable(name, v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"{name}={value!r} cannot be saved as JSON; pass an int/str/float instead")
