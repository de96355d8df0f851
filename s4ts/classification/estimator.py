"""S4Classifier: scikit-learn style sequence classification with S4 layers."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score
from torch.utils.data import TensorDataset

from s4ts._training import seed_from
from s4ts.classification import persistence
from s4ts.classification.params import (
    check_params,
    check_sample_rate,
    check_warm_start,
    network_params,
)
from s4ts.classification.training import make_dataset, prediction_batch_size, train_ensemble
from s4ts.data.sequences import (
    align_labels,
    channel_statistics,
    pad_sequences,
    series_standardise,
    standardise,
    to_sequences,
)
from s4ts.nn.classifier import S4ClassifierNet
from s4ts.nn.frontend import S4Filterbank

__all__ = ["S4Classifier"]

log = logging.getLogger(__name__)


class S4Classifier(ClassifierMixin, BaseEstimator):
    """Sequence classifier: stacked (optionally pooled) S4 stages, a pooling head over time, softmax.

    Data: `fit`, `predict`, `predict_proba`, `decision_function` and `score` accept a 3D
    array (n, channels, length), a 2D array (n, length), a list of (channels, length_i)
    arrays of any lengths, or a long DataFrame with columns 'id', 'time' and one numeric
    column per channel (see `s4ts.data.sequences.to_sequences`). Series of different lengths
    are padded and masked, so padding never changes a prediction. Channels are standardised
    with the training data's statistics (`norm`). Training (docs/classification.md): an
    ensemble of `n_estimators` networks on augmented batches, one softmax temperature fitted
    on their held-out series; `predict_proba` averages their tempered probabilities.

    Sampling rate: `fit(..., sample_rate=)` records the training rate (Hz); predicting with
    another `sample_rate=` rescales every S4 layer's step Δ by training rate / new rate
    (zero-shot resolution change).

    For audio-rate signals, `filterbank=F` puts a learned S4 filterbank in front
    (`s4ts.nn.S4Filterbank`): F band filters per channel, log energies over frames of
    `frame_length` samples, filters kept below `bandlimit` times the training Nyquist
    frequency. The stages then run on frames (100 per second for 16 kHz audio and
    frames of 160), and at another sample rate the frames keep their duration.

    Parameters
    ----------
    d_model
        width of the first stage.
    n_layers
        S4 blocks per stage; one int for every stage or one count per stage.
    dt_min
        the smallest initial step Δ of the S4 layers; None: 1e-3, or 1 / the longest
        training series' steps (after any filterbank) where that is smaller, so the slowest
        modes span the whole series.
    d_state, mode, init, bidirectional, dropout, dt_max, ssm_lr
        S4 layer settings
        (see `s4ts.nn.S4Backbone`); bidirectional layers see the whole series.
    pool
        downsampling factors between stages (each stage after a pooling is `expand`
        times wider); () for a single stage.
    expand
        width multiplier at each pooling.
    pooling
        how the last stage is reduced over valid steps: "mean", "max", "meanmax" (the
        two side by side) or "last".
    n_estimators
        networks in the ensemble (1: a single network, its probabilities
        temperature-scaled all the same).
    norm
        "dataset" (the training data's per-channel statistics; levels and amplitudes kept)
        or "series" (each series z-normalised per channel first: only shapes tell classes apart).
    augment
        random crops and amplitude scaling of training batches (validation and
        prediction see the series as they are).
    label_smoothing
        weight of the uniform distribution in the training targets, in [0, 1).
    filterbank
        number of learned S4 band filters per input channel in front of the stages,
        or None for no front end.
    frame_length
        filterbank frame in samples (160 = 10 ms at 16 kHz).
    bandlimit
        filterbank band edge as a fraction of the training Nyquist frequency, in (0, 1],
        or None for no limit.
    learning_rate, weight_decay, batch_size, gradient_clip_val
        training settings (AdamW,
        warm-up and cosine decay over the planned epochs; batch_size "auto": an eighth of the
        series, 8 to 32; gradient_clip_val None: no clipping).
    max_epochs
        epochs per member, or "auto" (about 1,200 optimizer steps, 30 to 400 epochs).
    max_time
        training time limit in seconds (or a timedelta) for the whole ensemble, shared
        equally by the members; None for no limit.
    warm_start
        False: each `fit` trains new networks. True: a `fit` on a fitted classifier
        continues training its networks on the new data (fresh optimizer and schedule for
        the new epochs), keeping classes_, the standardisation and the sample rate; the
        architecture arguments must be those it was fitted with, and set_params may change
        the training ones (learning_rate, ssm_lr, dropout, max_epochs, ...). For instance,
        train on short series where learning is cheap, then continue on long ones.
    val_size
        series held out for validation, early stopping and keeping the best epoch: a
        float in [0, 1) is a fraction of the series (stratified by class; too few series to
        hold one per class trains without validation, with a logged warning), an int >= 0 a
        count; 0 trains on everything for `max_epochs`. Ignored when `fit` gets
        `validation_data`.
    early_stopping_patience
        epochs without validation improvement before stopping, keeping
        the best validation epoch's weights; None (default) trains the planned epochs, the
        learning rate decaying to zero, and keeps the final weights: validation losses of a
        few series are too noisy to stop on (ArrowHead stopped after 27 of 100 epochs at 51%
        accuracy), and held-out series not used to choose an epoch fit the temperature
        without bias.
    accelerator
        Lightning accelerator ("auto", "cpu", "gpu", ...).
    devices, num_nodes, strategy
        Lightning's multi-process settings (default one process),
        e.g. devices=2, strategy="ddp_spawn", n_estimators=1 (multi-process training takes
        one network); sharded strategies are refused. Which ones
        leave the weights in the calling process: `s4ts._distributed`, docs/distributed.md.
    random_state
        seed for the split, weights, batch order and dropout (int, RandomState or None).
    verbose
        show Lightning's progress bar and messages.

    Attributes
    ----------
    classes_
        the class labels (n_classes,), sorted; predict_proba's columns follow them.
    n_channels_
        channels of the training series.
    sample_rate_
        the training sample rate in Hz, or None when fit got none.
    mean_, scale_
        per-channel standardisation (n_channels,) from the training series.
    network_
        the trained `S4ClassifierEnsemble` of `S4ClassifierNet` members (torch modules,
        usable without Lightning); it returns the log of the averaged probabilities.
    dt_min_
        the smallest initial Δ used (`dt_min`, with None resolved).
    temperature_
        the softmax temperature fitted on the members' held-out series (1.0 when
        no member had validation series).
    n_epochs_
        epochs trained, summed over the members (and over the fits that warm starts continued).
    best_val_loss_
        the validation cross-entropy of each member's kept weights (the lowest,
        the weights before training included, with early stopping; the final ones without),
        averaged over the members; `math.inf` when training ran without validation.
    best_epoch_
        epochs trained to reach the kept weights, averaged over the members (None
        without validation).
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
        n_estimators: int = 3,
        norm: str = "dataset",
        augment: bool = True,
        label_smoothing: float = 0.1,
        filterbank: int | None = None,
        frame_length: int = 160,
        bandlimit: float | None = 0.4,
        dt_min: float | None = None,
        dt_max: float = 1e-1,
        ssm_lr: float = 1e-3,
        learning_rate: float = 3e-3,
        weight_decay: float = 0.01,
        batch_size: int | str = "auto",
        max_epochs: int | str = "auto",
        max_time: float | timedelta | None = None,
        warm_start: bool = False,
        val_size: float = 0.1,
        early_stopping_patience: int | None = None,
        gradient_clip_val: float | None = 1.0,
        accelerator: str = "auto",
        devices: int | str | list[int] = 1,
        num_nodes: int = 1,
        strategy: str | Any = "auto",
        random_state: int | np.random.RandomState | None = 0,
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
        self.n_estimators = n_estimators
        self.norm = norm
        self.augment = augment
        self.label_smoothing = label_smoothing
        self.filterbank = filterbank
        self.frame_length = frame_length
        self.bandlimit = bandlimit
        self.dt_min = dt_min
        self.dt_max = dt_max
        self.ssm_lr = ssm_lr
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.max_time = max_time
        self.warm_start = warm_start
        self.val_size = val_size
        self.early_stopping_patience = early_stopping_patience
        self.gradient_clip_val = gradient_clip_val
        self.accelerator = accelerator
        self.devices = devices
        self.num_nodes = num_nodes
        self.strategy = strategy
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ validation

    def _check_params(self) -> tuple[int, ...]:
        """Validate every constructor argument; returns the number of S4 blocks of each stage."""
        return check_params(self)

    def _rate(self, sample_rate: float | None) -> float:
        """Δ multiplier for data at `sample_rate`: data step / training step."""
        sample_rate = check_sample_rate(sample_rate)
        if sample_rate is None:
            return 1.0
        if self.sample_rate_ is None:
            raise ValueError(
                "this classifier was fitted without sample_rate, so predictions cannot change "
                "the rate; pass sample_rate to fit as well"
            )
        # Step Δt = 1 / sample_rate, so (1 / new) / (1 / train) = train / new.
        return self.sample_rate_ / sample_rate

    # ------------------------------------------------------------------ data

    def _prepare(self, X: Any, name: str, frame: int) -> tuple[np.ndarray, np.ndarray, list[Any] | None]:
        """Validate X and return standardised padded values (n, L, C), mask (n, L) and ids;
        `frame`: samples per filterbank frame at X's rate."""
        series, ids = to_sequences(X)
        if series[0].shape[0] != self.n_channels_:
            raise ValueError(
                f"X has {series[0].shape[0]} channels but the classifier was fitted on "
                f"{self.n_channels_}"
            )
        values, mask = pad_sequences(series)
        self._check_frames(mask, ids, name, frame)
        if self.norm == "series":
            values = series_standardise(values, mask)
        return standardise(values, mask, self.mean_, self.scale_, ids, name), mask, ids

    def _training_frame(self) -> int:
        """Samples per filterbank frame at the training rate (1 without a filterbank)."""
        return 1 if self.filterbank is None else int(self.frame_length)

    def _check_frames(self, mask: np.ndarray, ids: list[Any] | None, name: str, frame: int) -> None:
        """Every series must fill one filterbank frame of `frame` samples (1 without a
        filterbank): a shorter one would give no frames, and one prediction whatever it holds."""
        lengths = mask.sum(axis=1)  # (n,)
        short = np.flatnonzero(lengths < frame)
        if len(short):
            where = f"series {ids[short[0]]!r}" if ids is not None else f"series {short[0]} (0-based)"
            raise ValueError(
                f"{name}: {where} has {lengths[short[0]]} samples ({len(short)} series are that "
                f"short), less than one filterbank frame of {frame} samples; give series of at "
                f"least {frame} samples or a smaller frame_length"
            )

    def _validation_set(self, validation_data: tuple[Any, Any]) -> TensorDataset:
        try:
            X_val, y_val = validation_data
        except (TypeError, ValueError):
            raise TypeError("validation_data must be a pair (X_val, y_val)") from None
        values, mask, ids = self._prepare(X_val, "validation_data", self._training_frame())
        y_val = align_labels(y_val, ids, len(values))
        unknown = set(np.unique(y_val).tolist()) - set(self.classes_.tolist())
        if unknown:
            raise ValueError(f"validation labels {sorted(unknown)} do not occur in y")
        return make_dataset(values, mask, np.searchsorted(self.classes_, y_val))

    # ------------------------------------------------------------------ training

    def _build_network(self, n_layers: tuple[int, ...]) -> S4ClassifierNet:
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
            # LegS modes (each a projection of the whole history onto Legendre polynomials)
            # classified shapes better than the forecaster's diag-lin (ArrowHead, 3 seeds).
            init=self.init if self.init is not None or self.mode != "diag" else "diag-legs",
            bidirectional=self.bidirectional,
            dropout=self.dropout,
            dt_min=self.dt_min_,
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

        `validation_data=(X_val, y_val)` replaces the split that `val_size` asks for.
        """
        n_layers = self._check_params()
        sample_rate = check_sample_rate(sample_rate)
        series, ids = to_sequences(X)
        y = align_labels(y, ids, len(series))
        labels = np.unique(y)
        if len(series) < 2:
            raise ValueError("X holds 1 sample (series); a classifier needs at least two, of two classes")
        if len(labels) < 2:
            raise ValueError(f"y has a single class ({labels[0]!r}); a classifier needs at least two")
        warm = self.warm_start and hasattr(self, "network_")
        if warm:
            check_warm_start(self, n_layers, series[0].shape[0], sample_rate, labels)
        else:
            self.classes_ = labels
            self.n_channels_ = series[0].shape[0]
            self.sample_rate_ = sample_rate
        y_idx = np.searchsorted(self.classes_, y)
        values, mask = pad_sequences(series)  # (n, L, C), (n, L)
        self._check_frames(mask, ids, "X", self._training_frame())
        if self.norm == "series":
            values = series_standardise(values, mask)
        if not warm:  # a warm start keeps the scaling and initial Δ its networks were fitted with
            # The slowest initial modes should remember the whole series: Δ_min <= 1 / its steps.
            steps = int(mask.sum(axis=1).max()) // self._training_frame()  # after any filterbank
            self.dt_min_ = float(self.dt_min) if self.dt_min is not None else min(1e-3, 1.0 / max(steps, 1))
            # Per-channel standardisation over valid steps only, so padding does not bias it.
            self.mean_, self.scale_ = channel_statistics(values, mask)  # (C,), (C,)
        values = standardise(values, mask, self.mean_, self.scale_, ids, "X")

        seed = seed_from(self.random_state)
        validation = None if validation_data is None else self._validation_set(validation_data)

        def build(member: int) -> S4ClassifierNet:
            net = self._build_network(n_layers)
            if warm:  # the fitted weights into a new network: its optimizer settings (ssm_lr)
                # and dropout are the current ones, and a fit that fails midway leaves the
                # fitted networks as they were. (copy.deepcopy would drop the SSM parameters'
                # learning rates, which live on the parameters.)
                net.load_state_dict(self.network_.members[member].state_dict())
            return net

        self.network_, results = train_ensemble(self, build, values, mask, y_idx, seed, validation)
        self._network_params = network_params(self, n_layers)
        self.temperature_ = float(self.network_.temperature)
        self.n_epochs_ = (self.n_epochs_ if warm else 0) + sum(r.n_epochs for r in results)
        losses = [r.best_val_loss for r in results]
        self.best_val_loss_ = float(np.mean(losses))
        epochs = [r.best_epoch for r in results if r.best_epoch is not None]
        self.best_epoch_ = round(float(np.mean(epochs))) if epochs else None
        return self

    # ------------------------------------------------------------------ prediction

    def _device(self) -> torch.device:
        if self.accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("cpu")

    def _logits(self, X: Any, sample_rate: float | None) -> tuple[np.ndarray, list[Any] | None]:
        """Logits (n, n_classes) for X at `sample_rate`, and the series ids of a frame."""
        if not hasattr(self, "network_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit first")
        rate = self._rate(sample_rate)
        frame = 1
        if self.network_.frontend is not None:
            frame = self.network_.frontend.frame_steps(rate)  # a rate that splits frames fails here
        values, mask, ids = self._prepare(X, "X", frame)
        device = self._device()
        net = self.network_.to(device).eval()
        out = []
        with torch.no_grad():
            batch = prediction_batch_size(self.batch_size)
            for start in range(0, len(values), batch):
                m = torch.from_numpy(mask[start : start + batch])  # (B, L)
                # Trimming to the longest series of the batch saves work; masks make it exact.
                length = int(m.sum(dim=1).max())
                v = torch.from_numpy(values[start : start + batch, :length])  # (B, L', C)
                m = m[:, :length]
                # Without padding in the batch the unmasked path is exact and cheaper.
                m = None if bool(m.all()) else m.to(device)
                out.append(net(v.to(device), m, rate=rate).float().cpu())  # (B, n_classes)
        self.network_ = net.cpu()
        return torch.cat(out).numpy(), ids

    def predict_proba(self, X: Any, sample_rate: float | None = None) -> np.ndarray:
        """Class probabilities (n, n_classes), columns ordered as classes_."""
        logits = torch.from_numpy(self._logits(X, sample_rate)[0])
        return torch.softmax(logits, dim=-1).numpy()

    def decision_function(self, X: Any, sample_rate: float | None = None) -> np.ndarray:
        """Unnormalised class scores: logits (n, n_classes), or for two classes (n,) the score
        of `classes_[1]` (its logit minus the other's; positive predicts it), as scikit-learn's
        binary scorers such as roc_auc expect."""
        logits = self._logits(X, sample_rate)[0]
        return logits[:, 1] - logits[:, 0] if len(self.classes_) == 2 else logits

    def predict(self, X: Any, sample_rate: float | None = None) -> np.ndarray:
        """Predicted labels (n,), in the order of the series of X."""
        logits, _ = self._logits(X, sample_rate)
        return self.classes_[logits.argmax(axis=1)]

    def score(self, X: Any, y: Any, sample_weight: Any = None, sample_rate: float | None = None) -> float:
        """Accuracy of predict(X, sample_rate) against y (higher is better)."""
        logits, ids = self._logits(X, sample_rate)
        y = align_labels(y, ids, len(logits))
        predicted = self.classes_[logits.argmax(axis=1)]
        return float(accuracy_score(y, predicted, sample_weight=sample_weight))

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | os.PathLike) -> None:
        """Save to directory `path`: config.json (parameters, classes, scaling) and model.pt (weights)."""
        persistence.save(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> S4Classifier:
        """Load a classifier written by save (JSON and tensors only; no code runs on load)."""
        return persistence.load(cls, path)
