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
    TIME_GRIDS,
    Freq,
    SeriesData,
    freq_name,
    future_times,
    parse_freq,
    split_series,
    step_size,
    time_gaps,
    time_kind,
    to_long,
)
from s4ts.data.windows import SCALERS, Featurizer, WindowDataset, fit_scale, window_index
from s4ts.forecasting.module import ForecastingModule, run_backbone
from s4ts.nn import S4Backbone
from s4ts.nn.distributions import QuantileHead, StudentTHead, head_from_config

__all__ = ["RateWarning", "S4Forecaster"]

logger = logging.getLogger(__name__)

DISTRIBUTIONS = ("quantile", "student_t")
_CONFIG_FILE = "config.json"
_WEIGHTS_FILE = "model.pt"
# Histories are run through the backbone in chunks of about this many (series x steps).
_MAX_BATCH_STEPS = 2**20
# Aliasing policy for sampling rates not seen in training (share of the SSM energy resolved
# at the training rate that aliases at the new rate): warn above the first, refuse above the second.
_ALIAS_WARN = 0.2
_ALIAS_ERROR = 0.5


def _warn_short_calendar(series: list[SeriesData]) -> None:
    """Warn when no series spans two years: the day-of-year inputs then see each day once."""
    span = max(s.times[-1] - s.times[0] for s in series)
    if span < pd.Timedelta(days=730):
        warnings.warn(
            f"calendar_features=True with at most {span.days} days of history per series: each "
            f"day of the year occurs at most once in training, so the day-of-year inputs can "
            f"learn that one year instead of a yearly pattern (Prophet turns yearly seasonality "
            f"off below two years). Check forecasts on a season the training data does not "
            f"repeat, or set calendar_features=False",
            UserWarning, stacklevel=4,
        )


class RateWarning(UserWarning):
    """A series is sampled so coarsely that part of what the model learned aliases."""


@dataclasses.dataclass
class _SeriesState:
    """What forecasting a series after its last observation needs."""

    freq: Freq | None  # None: irregular timestamps
    last_time: Any  # pd.Timestamp or int
    loc: float  # target scaling: y_scaled = (y - loc) / scale
    scale: float
    rate: float | None  # step of the series in training steps; None for irregular timestamps
    state: Any  # backbone recurrent state after the last observation, batch size 1
    tail: np.ndarray  # last observed target values (for plots), (n,)
    tail_times: pd.Index | None = None  # timestamps of `tail` for irregular series


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
        # val_size=0 trains without validation on purpose.
        warnings.filterwarnings("ignore", message=".*validation_step. but have no .val_dataloader.*")
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

    Sampling rate: the SSM is a continuous-time model, so one step of a series is a step
    size Δ in the model's time unit, one *training step* (`train_step_`: `freq=` when given,
    else the most common step of the training series, or their median gap when every series
    is irregular). A series sampled at another frequency than in training is forecast
    zero-shot with Δ rescaled by rate = its step / training step (or `predict(rate=)`), and
    its forecasts come at its own frequency. Coarser sampling (rate > 1) can alias the
    model's fast modes: when `S4Backbone.aliased_fraction(rate)` exceeds 0.2, `predict`
    warns with `RateWarning`, above 0.5 it raises ValueError; both name the coarsest rate
    within 0.2 (`max_rate(0.2)`). Finer sampling (rate < 1) never aliases.

    Irregular timestamps (`time_grid="irregular"`, or "auto" when a series' gaps are not
    whole multiples of its smallest gap): each series keeps its own timestamps and step k
    gets Δ_k = gap before it / training step (the first step 1), run by the diagonal SSM's
    per-step scan (needs mode="diag"). Their forecast times are the future timestamps
    given in `X_future`, each step advancing by its own gap. Calendar features always come
    from the actual timestamps.

    Forecast frames have the input's id and time columns, `{target_col}_pred` (the median)
    and one column per requested quantile named `{target_col}_q{level}`, e.g. `y_q0.1`.

    Parameters
    ----------
    horizon: number of steps to forecast.
    context_length: steps of history in each training window (default 4 * horizon). At
        prediction the model reads the whole history through its recurrent state.
    freq: pandas offset alias or integer step for all series; None infers it per series.
    time_grid: "regular" (missing steps become NaN; off-grid timestamps are an error),
        "irregular" (every series at its own timestamps) or "auto" (regular unless `freq` is
        None and a series' gaps are not whole multiples of its smallest gap).
    futr_exog: covariate columns known in advance (given for the horizon in `X_future`).
    hist_exog: covariate columns known only up to the forecast origin.
    calendar_features: add time of day, day of week and day of year (datetime time only);
        warns when no series spans two years, as each day of the year is then seen once.
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
        time_grid: str = "auto",
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
        self.time_grid = time_grid
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
        if self.time_grid not in TIME_GRIDS:
            raise ValueError(f"time_grid={self.time_grid!r} must be one of {TIME_GRIDS}")
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
        series = split_series(
            long, freq=freq, time_grid=self.time_grid, covariates=self._covariates, **self._columns()
        )
        self._check_grid(series, name)
        return long, series

    def _check_grid(self, series: list[SeriesData], name: str) -> None:
        """Irregular timestamps need the diagonal SSM, the only one with a per-step Δ."""
        irregular = [s.uid for s in series if s.freq is None]
        if irregular and self.mode != "diag":
            raise ValueError(
                f"{name}: series {irregular[0]!r} has irregular timestamps (time_grid="
                f"{self.time_grid!r}), which need mode='diag': only the diagonal SSM runs a "
                f"per-step Δ. Set mode='diag', or resample the series and pass time_grid='regular'"
            )

    @staticmethod
    def _dt(s: SeriesData, rate: float | None, train_step: float) -> np.ndarray:
        """Δ multiplier of every step of a series (T,): its rate, or its gaps in training steps."""
        if s.freq is not None:
            return np.full(len(s.times), rate, dtype=np.float32)
        # The gap before the first observation is unknown; the state is zero there, so any
        # value does, and 1 (one training step) is the neutral one.
        return np.concatenate([[1.0], time_gaps(s.times) / train_step]).astype(np.float32)

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
        steps = [step_size(s.freq) for s in series if s.freq is not None]
        if self.freq is not None:
            train_step = step_size(parse_freq(self.freq, time_kind(series[0].times)))
        elif steps:
            # The model's time unit (one training step) is the most common step among the series.
            train_step = Counter(steps).most_common(1)[0][0]
        else:
            train_step = float(np.median(np.concatenate([time_gaps(s.times) for s in series])))
        rates = [step_size(s.freq) / train_step if s.freq is not None else None for s in series]
        dts = [self._dt(s, rate, train_step) for s, rate in zip(series, rates)]
        scaling = [fit_scale(s.y, self.scaler) for s in series]
        if self.calendar_features:
            _warn_short_calendar(series)
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
                backbone, head, inputs, targets, dts, featurizer, context_length, val_size, seed
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
        self.rates_ = sorted({rate for rate in rates if rate is not None})
        states = self._states(series, inputs, scaling, rates, dts)
        self.series_ = {s.uid: st for s, st in zip(series, states)}
        return self

    def _train(
        self,
        backbone: S4Backbone,
        head: QuantileHead | StudentTHead,
        inputs: list[np.ndarray],
        targets: list[np.ndarray],
        dts: list[np.ndarray],
        featurizer: Featurizer,
        context_length: int,
        val_size: int,
        seed: int,
    ) -> tuple[int, float]:
        """Fit backbone + head with Lightning; returns epochs run and best validation loss."""
        train_index, val_index = window_index([len(y) for y in targets], self.horizon, val_size)
        constant = [bool((dt == dt[0]).all()) for dt in dts]

        def loader(index: np.ndarray, sampler: RandomSampler | None = None) -> DataLoader:
            # Regular series pass one rate, so their windows keep a constant Δ (convolution path).
            rates = [float(dt[0]) if s_dt_const else dt for dt, s_dt_const in zip(dts, constant)]
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
    def _run_histories(
        self, inputs: list[np.ndarray], dts: list[np.ndarray], rates: list[float | None]
    ) -> list[Any]:
        """Recurrent state after each history (T_i, C) with per-step Δ multipliers (T_i,): one pass
        per batch of series with equal length and rate (convolution), or of irregular series
        (rate None: per-step scan)."""
        states: list[Any] = [None] * len(inputs)
        for (length, rate), members in _groups([(len(x), r) for x, r in zip(inputs, rates)]).items():
            chunk = max(1, _MAX_BATCH_STEPS // length)
            for first in range(0, len(members), chunk):
                rows = members[first : first + chunk]
                x = torch.from_numpy(np.stack([inputs[i] for i in rows]))  # (B, T, C)
                dt = torch.from_numpy(np.stack([dts[i] for i in rows]))  # (B, T)
                _, state = run_backbone(self.backbone_, x, dt, return_state=True, scan=rate is None)
                for j, i in enumerate(rows):
                    states[i] = _tree_map(lambda t, j=j: t[j : j + 1], state)
        return states

    @torch.no_grad()
    def _run_steps(
        self, states: list[Any], x: np.ndarray, dt: np.ndarray
    ) -> tuple[np.ndarray, list[Any]]:
        """Advance states through inputs x (S, T, C) with Δ multipliers dt (S, T) by the recurrence:
        outputs (S, T, n_out), new states."""
        raw = np.zeros((len(states), x.shape[1], self.head_.n_outputs))
        new_states: list[Any] = [None] * len(states)
        # A constant Δ discretizes once per rate (every mode), so those series advance in
        # batches of equal rate; irregular ones together, with one rate per row at each step.
        keys = [float(row[0]) if (row == row[0]).all() else None for row in dt]
        for rate, rows in _groups(keys).items():
            state = _tree_map(lambda *parts: torch.cat(parts, 0), *(states[i] for i in rows))
            inputs = torch.from_numpy(x[rows])  # (B, T, C)
            steps = torch.from_numpy(dt[rows].astype(np.float32))  # (B, T)
            for t in range(inputs.shape[1]):
                step_rate = rate if rate is not None else steps[:, t]
                y_t, state = self.backbone_.step(inputs[:, t], state, rate=step_rate)  # (B, n_out)
                raw[rows, t] = y_t.double().numpy()
            for j, i in enumerate(rows):
                new_states[i] = _tree_map(lambda t, j=j: t[j : j + 1], state)
        return raw, new_states

    def _states(
        self,
        series: list[SeriesData],
        inputs: list[np.ndarray],
        scaling: list[tuple[float, float]],
        rates: list[float | None],
        dts: list[np.ndarray],
    ) -> list[_SeriesState]:
        """Forecasting state at the end of each history."""
        states = self._run_histories(inputs, dts, rates)
        return [
            _SeriesState(
                freq=s.freq,
                last_time=s.times[-1],
                loc=loc,
                scale=scale,
                rate=rate,
                state=state,
                tail=s.y[-self.context_length_ :].copy(),
                tail_times=None if s.freq is not None else s.times[-self.context_length_ :],
            )
            for s, (loc, scale), rate, state in zip(series, scaling, rates, states)
        ]

    def _check_rates(self, uids: list[Hashable], rates: list[float], name: str) -> None:
        """Apply the aliasing policy to series sampled at `rates` training steps per step."""
        for rate, members in _groups(rates).items():
            if rate <= 1 or any(math.isclose(rate, known, rel_tol=1e-9) for known in self.rates_):
                continue  # finer sampling never aliases; trained rates are what the model learned
            fraction = self.backbone_.aliased_fraction(rate)
            if fraction > _ALIAS_WARN:
                others = f" (and {len(members) - 1} more series)" if len(members) > 1 else ""
                self._rate_alarm(f"series {uids[members[0]]!r}{others}", rate, fraction, name)

    def _rate_alarm(self, who: str, rate: float, fraction: float, name: str) -> None:
        """Warn (RateWarning) or, past the error threshold, raise for an aliasing rate."""
        message = (
            f"{name}: {who} is sampled at rate {rate:g} (one of its steps spans {rate:g} "
            f"training steps), where {fraction:.0%} of the SSM energy the model resolves at rate 1 "
            f"aliases; the coarsest rate within {_ALIAS_WARN:.0%} is max_rate(0.2) = "
            f"{self.backbone_.max_rate(_ALIAS_WARN):g}. Give the series at a finer frequency, "
            f"or fit a model at this one"
        )
        if fraction > _ALIAS_ERROR:
            raise ValueError(message + f" (more than {_ALIAS_ERROR:.0%} aliased: refused)")
        warnings.warn(message, RateWarning, stacklevel=5)

    def _series_states(
        self, series: list[SeriesData], name: str, rate: float | None = None
    ) -> list[_SeriesState]:
        """Forecasting states after new histories (known series keep their fitted scaling).

        A regular series runs at `rate` when given, else at its step / the training step;
        an irregular one at its own gaps.
        """
        scaling, rates, inputs, dts, checked = [], [], [], [], []
        for s in series:
            if s.freq is None:
                if rate is not None:
                    raise ValueError(
                        f"{name}: series {s.uid!r} has irregular timestamps, whose Δ comes from "
                        f"its gaps; rate= applies to regular series only, so leave it out"
                    )
                series_rate = None
                dt = self._dt(s, None, self.train_step_)
                # The typical gap stands for the sampling rate of an irregular series.
                checked.append(float(np.median(dt[1:])) if len(dt) > 1 else 1.0)
            else:
                series_rate = step_size(s.freq) / self.train_step_ if rate is None else rate
                checked.append(series_rate)
                dt = self._dt(s, series_rate, self.train_step_)
            rates.append(series_rate)
            dts.append(dt)
            known = self.series_.get(s.uid)
            loc, scale = (known.loc, known.scale) if known else fit_scale(s.y, self.scaler)
            scaling.append((loc, scale))
            inputs.append(self.featurizer_.encode((s.y - loc) / scale, s.covariates, s.times))
        self._check_rates([s.uid for s in series], checked, name)
        return self._states(series, inputs, scaling, rates, dts)

    # ------------------------------------------------------------------ predict

    def _check_future(self, uid: Hashable, values: np.ndarray, times: pd.Index, source: str) -> None:
        """Future-known covariates (H, n_futr) must be complete over the horizon."""
        missing = np.isnan(values)
        if missing.any():
            step, column = np.argwhere(missing)[0]
            raise ValueError(
                f"{source} lacks {self.futr_exog[column]!r} for series {uid!r} at {times[step]} "
                f"({int(missing.any(axis=1).sum())} of {len(times)} horizon steps incomplete); "
                f"give every futr_exog column for all {len(times)} steps after the forecast origin"
            )

    def _horizon_steps(self, uid: Hashable, st: _SeriesState, horizon: int | str | pd.Timedelta | None) -> int:
        """Forecast steps of a regular series: `horizon` in its own steps, or a time span."""
        if horizon is None:
            # A trained rate forecasts the trained number of steps; another rate the same
            # physical span as `horizon` training steps.
            if any(math.isclose(st.rate, known, rel_tol=1e-9) for known in self.rates_):
                return self.horizon
            return max(1, round(self.horizon / st.rate))
        if isinstance(horizon, (int, np.integer)) and not isinstance(horizon, bool):
            if horizon < 1:
                raise ValueError(f"horizon={horizon!r} must be a positive number of steps")
            return int(horizon)
        if self.time_kind_ != "datetime" or not isinstance(horizon, (str, pd.Timedelta, timedelta)):
            raise ValueError(
                f"horizon={horizon!r} must be a positive integer (steps of each series) or, for "
                f"datetime time, a time span such as '1D' or pd.Timedelta(hours=6)"
            )
        try:
            span = pd.Timedelta(horizon).total_seconds()
        except ValueError as err:
            raise ValueError(f"horizon={horizon!r} is not a time span; pass e.g. '1D' or '6h'") from err
        steps = span / step_size(st.freq)
        if steps < 1 - 1e-9 or not math.isclose(steps, round(steps), rel_tol=1e-9):
            raise ValueError(
                f"horizon={horizon!r} is not a whole number of steps of series {uid!r} (step "
                f"{freq_name(st.freq)}); pass a span that is a multiple of its step, or an integer"
            )
        return round(steps)

    def _futures(
        self,
        uids: list[Hashable],
        states: list[_SeriesState],
        X_future: pd.DataFrame | None,
        horizon: int | str | pd.Timedelta | None,
    ) -> list[tuple[pd.Index, np.ndarray]]:
        """Forecast times and future-known covariates (H_i, n_futr) of each series.

        Regular series forecast `horizon` steps of their frequency; irregular ones at their
        timestamps in X_future.
        """
        futr = list(self.futr_exog)
        irregular = [uid for uid, st in zip(uids, states) if st.freq is None]
        if irregular and horizon is not None:
            raise ValueError(
                f"horizon={horizon!r} does not apply to series {irregular[0]!r}, which has "
                f"irregular timestamps; its forecast times are its rows in X_future"
            )
        if X_future is None and (futr or irregular):
            needs = f"the future-known covariates {futr}" if futr else "its future timestamps"
            raise ValueError(
                f"pass X_future with columns {self.id_col!r}, {self.time_col!r}"
                f"{f' and {futr}' if futr else ''} for the forecast steps after the end of each "
                f"series: the model needs {needs}"
                + (f" (series {irregular[0]!r} has irregular timestamps)" if irregular else "")
            )
        if X_future is not None and not futr and not irregular:
            raise ValueError("X_future was given but the model has no futr_exog columns to read from it")
        groups = {}
        if X_future is not None:
            frame = to_long(
                X_future, covariates=futr, name="X_future", require_target=False, **self._columns()
            )
            groups = {uid: g.set_index(self.time_col)[futr] for uid, g in frame.groupby(self.id_col, sort=False)}
        out = []
        for uid, st in zip(uids, states):
            given = groups.get(uid)
            if st.freq is None:
                if given is None or not (given.index > st.last_time).all():
                    raise ValueError(
                        f"X_future: series {uid!r} has irregular timestamps, so its forecast times "
                        f"are its X_future rows, which must exist and all lie after its last "
                        f"observation at {st.last_time}"
                    )
                times, values = given.index, given.to_numpy(float)
            else:
                times = future_times(st.last_time, st.freq, self._horizon_steps(uid, st, horizon))
                values = (
                    given.reindex(times).to_numpy(float)
                    if given is not None
                    else np.full((len(times), len(futr)), np.nan)
                )
            if futr:
                self._check_future(uid, values, times, "X_future")
            out.append((times, values))
        return out

    def _forecast(
        self,
        uids: list[Hashable],
        states: list[_SeriesState],
        futures: list[tuple[pd.Index, np.ndarray]],
        num_samples: int | None,
    ) -> pd.DataFrame:
        """Forecast frame at the given future times of each state, with future-known covariates."""
        n_hist = len(self.hist_exog)
        lengths = [len(times) for times, _ in futures]
        width = max(lengths)
        # Series with shorter horizons are padded at the end: the recurrence is causal, so
        # padding never changes the steps before it, and those outputs are dropped.
        x = np.zeros((len(states), width, self.featurizer_.n_channels), dtype=np.float32)  # (S, H, C)
        dt = np.ones((len(states), width), dtype=np.float32)  # (S, H)
        for i, (st, (times, futr)) in enumerate(zip(states, futures)):
            # Forecast positions: y and past-only covariates unknown (NaN -> hidden).
            covariates = np.concatenate([futr, np.full((len(times), n_hist), np.nan)], axis=1)
            x[i, : len(times)] = self.featurizer_.encode(np.full(len(times), np.nan), covariates, times)
            if st.freq is None:
                gaps = time_gaps(pd.Index([st.last_time]).append(pd.Index(times)))
                dt[i, : len(times)] = gaps / self.train_step_
            else:
                dt[i] = st.rate
        raw, _ = self._run_steps([st.state for st in states], x, dt)  # (S, H, n_out)
        raw = np.concatenate([raw[i, :n] for i, n in enumerate(lengths)])  # (sum H_i, n_out)
        loc = np.repeat([st.loc for st in states], lengths)  # (sum H_i,)
        scale = np.repeat([st.scale for st in states], lengths)
        frame = pd.DataFrame(
            {
                self.id_col: pd.Index(uids).repeat(lengths),
                self.time_col: futures[0][0].append([times for times, _ in futures[1:]]),
            }
        )
        if num_samples is not None:
            return self._samples(frame, raw, loc, scale, num_samples)
        frame[self._pred_col] = self.head_.point(raw) * scale + loc
        quantiles = self.head_.quantile(raw, list(self.quantiles))  # (sum H_i, Q)
        quantiles = quantiles * scale[:, None] + loc[:, None]
        for k, column in enumerate(self._quantile_cols.values()):
            frame[column] = quantiles[:, k]
        return frame

    def _samples(
        self, frame: pd.DataFrame, raw: np.ndarray, loc: np.ndarray, scale: np.ndarray, n: int
    ) -> pd.DataFrame:
        """Long frame of sample paths: one row per series, time step and sample."""
        if self.distribution != "student_t":
            raise ValueError("num_samples needs distribution='student_t'; the quantile head has no density")
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"num_samples={n!r} must be a positive integer")
        draws = self.head_.sample(raw, n, check_random_state(self.random_state)) * scale + loc  # (n, sum H_i)
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
        horizon: int | str | pd.Timedelta | None = None,
        rate: float | None = None,
    ) -> pd.DataFrame:
        """Forecast after the training data, or after the histories in `df`, at each series' frequency.

        `df` may hold series never seen in training, also at another frequency than in
        training (zero-shot: Δ rescaled by rate = its step / the training step; see the class
        docstring for the aliasing policy). `horizon`: steps of each series' frequency, or a
        time span such as '1D'; default `self.horizon` for series at a trained rate, else the
        same physical span as `self.horizon` training steps. `rate`: Δ multiplier for the
        regular series in `df`, overriding the one from their step. Irregular series forecast
        at their timestamps in `X_future`. `X_future` also gives the futr_exog columns for the
        forecast steps. With `num_samples`, returns sample paths (column "sample") instead of
        point and quantile columns (Student-t head; steps are drawn independently).
        """
        check_is_fitted(self)
        if rate is not None and (
            not isinstance(rate, (int, float, np.integer, np.floating))
            or isinstance(rate, bool)
            or not math.isfinite(rate)
            or rate <= 0
        ):
            raise ValueError(f"rate={rate!r} must be a positive number (data step / training step)")
        if df is None:
            if rate is not None:
                raise ValueError(
                    "rate= re-reads a history at another step size, so it needs df= (the history); "
                    "the stored states were computed at the series' own rates"
                )
            uids, states = list(self.series_), list(self.series_.values())
        else:
            _, series = self._series(df, "df", kind=self.time_kind_)
            uids = [s.uid for s in series]
            states = self._series_states(series, "df", None if rate is None else float(rate))
        futures = self._futures(uids, states, X_future, horizon)
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
            if st.freq is None:
                (s,) = split_series(group, time_grid="irregular", covariates=self._covariates, **self._columns())
                # Each new step advances by its gap, the first by the gap after the old end.
                dt = time_gaps(pd.Index([st.last_time]).append(s.times)) / self.train_step_
            else:
                (s,) = split_series(
                    group,
                    freq=st.freq,
                    start=future_times(st.last_time, st.freq, 1)[0],
                    covariates=self._covariates,
                    **self._columns(),
                )
                dt = np.full(len(s.times), st.rate)
            x = self.featurizer_.encode((s.y - st.loc) / st.scale, s.covariates, s.times)
            updated[uid] = (s, x, dt.astype(np.float32))
        for uid, (s, x, dt) in updated.items():
            st = self.series_[uid]
            _, (st.state,) = self._run_steps([st.state], x[None], dt[None])
            st.last_time = s.times[-1]
            st.tail = np.concatenate([st.tail, s.y])[-self.context_length_ :]
            if st.tail_times is not None:
                st.tail_times = st.tail_times.append(s.times)[-self.context_length_ :]
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
            futures.append((s.times[ahead], s.covariates[ahead, :n_futr]))
            self._check_future(s.uid, futures[-1][1], s.times[ahead], "df")
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
        dts = [self._dt(s, st.rate, self.train_step_) for s, st in zip(series, states)]
        all_series, all_cuts, all_states = [], [], []
        for k in range(n_windows):
            cuts = [cut + step * k for cut in first_cuts]
            if k:
                x = np.stack([x_s[cut - step + 1 : cut + 1] for x_s, cut in zip(inputs, cuts)])
                dt = np.stack([dt_s[cut - step + 1 : cut + 1] for dt_s, cut in zip(dts, cuts)])
                _, advanced = self._run_steps([st.state for st in states], x, dt)
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
        if st.freq is None:
            return st.tail_times
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
        integer = self.time_kind_ == "integer"
        for uid, st in self.series_.items():
            if not isinstance(uid, (str, int, np.integer)):
                raise TypeError(f"series id {uid!r} must be a str or int to save the model as JSON")
            series.append(
                {
                    "id": uid if isinstance(uid, str) else int(uid),
                    "freq": st.freq if st.freq is None or integer else st.freq.freqstr,
                    "last_time": int(st.last_time) if integer else st.last_time.value,
                    "tz": None if integer or st.last_time.tz is None else str(st.last_time.tz),
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
            # Irregular series keep their tail's timestamps (int, or UTC nanoseconds); others none.
            "tail_times": [
                torch.zeros(0, dtype=torch.int64)
                if st.tail_times is None
                else torch.from_numpy(np.asarray(st.tail_times.asi8 if not integer else st.tail_times, dtype=np.int64))
                for st in self.series_.values()
            ],
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
        # Models saved before irregular timestamps existed have no tail times.
        all_tail_times = tensors.get("tail_times", [torch.zeros(0, dtype=torch.int64)] * len(config["series"]))
        for meta, state, tail, tail_times in zip(
            config["series"], tensors["states"], tensors["tails"], all_tail_times
        ):
            freq = meta["freq"] if meta["freq"] is None else parse_freq(meta["freq"], est.time_kind_)
            times = None if meta["freq"] is not None else pd.Index(tail_times.numpy())
            if est.time_kind_ == "integer":
                last = meta["last_time"]
            else:
                last = pd.Timestamp(meta["last_time"], tz="UTC")
                last = last.tz_convert(meta["tz"]) if meta["tz"] else last.tz_localize(None)
                if times is not None:
                    times = pd.DatetimeIndex(times.to_numpy().astype("datetime64[ns]"), tz="UTC")
                    times = times.tz_convert(meta["tz"]) if meta["tz"] else times.tz_localize(None)
            est.series_[meta["id"]] = _SeriesState(
                freq=freq, last_time=last, loc=meta["loc"], scale=meta["scale"],
                rate=meta["rate"], state=state, tail=tail.numpy(), tail_times=times,
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
