"""Training plumbing shared by both estimators: the Lightning Trainer, keep-best, quiet logs."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.trainer.states import TrainerFn
from sklearn.utils import check_random_state
from torch import Tensor
from torch.utils.data import DataLoader

from s4ts._distributed import ProcessGroupCleanup, check_distributed_params, is_distributed

__all__ = [
    "EpochLines", "KeepBest", "TrainingResult", "check_training_params", "extra_callbacks", "fit_module",
    "quiet_lightning", "refuse_changed_network", "seed_from", "seeded",
]

_LIGHTNING_LOGGERS = ("lightning", "lightning.pytorch", "lightning.fabric")

# Callbacks added to every training run inside `extra_callbacks` (per thread: contextvars).
_EXTRA_CALLBACKS: contextvars.ContextVar[tuple[L.Callback, ...]] = contextvars.ContextVar(
    "s4ts_extra_callbacks", default=()
)


@contextlib.contextmanager
def extra_callbacks(*callbacks: L.Callback) -> Iterator[None]:
    """Add Lightning callbacks to the trainings started in this block (tuning reports and
    prunes through them) without a constructor argument on the estimators."""
    token = _EXTRA_CALLBACKS.set(_EXTRA_CALLBACKS.get() + callbacks)
    try:
        yield
    finally:
        _EXTRA_CALLBACKS.reset(token)


@contextlib.contextmanager
def quiet_lightning(quiet: bool) -> Iterator[None]:
    """Silence Lightning's informational logs (and warnings nobody can act on) while training."""
    loggers = [logging.getLogger(name) for name in _LIGHTNING_LOGGERS]
    levels = [lg.level for lg in loggers]
    with warnings.catch_warnings():
        # Windows come from in-memory arrays: worker processes would only add start-up time.
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        # Lightning 2.6 still builds torch's deprecated LeafSpec; nothing a user can act on.
        warnings.filterwarnings("ignore", message=".*isinstance.treespec, LeafSpec.*")
        # Training without validation data is a choice (val_size=0), not a mistake.
        warnings.filterwarnings("ignore", message=".*validation_step. but have no .val_dataloader.*")
        warnings.filterwarnings("ignore", message=".*no `val_dataloader`.*")
        if quiet:
            for lg in loggers:
                lg.setLevel(logging.WARNING)
        # A logger's filters see only its own records: this is the one Lightning's rank-zero
        # messages are logged on.
        rank_zero = logging.getLogger("lightning.pytorch.utilities.rank_zero")
        rank_zero.addFilter(_no_advertisement)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels):
                lg.setLevel(level)
            rank_zero.removeFilter(_no_advertisement)


def _no_advertisement(record: logging.LogRecord) -> bool:
    """Drop Lightning's tip advertising its cloud logger; verbose training shows the rest."""
    return not str(record.msg).startswith("💡 Tip")


class EpochLines(L.Callback):
    """One line per epoch on stdout (its metrics and seconds), in place of the progress bar
    when stdout is not a terminal: a CI log or `make demo > log` gets lines, not thousands
    of carriage-return updates."""

    def __init__(self) -> None:
        self._start = 0.0

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if not trainer.is_global_zero:  # one line per epoch, not one per process
            return
        # Runs after the epoch's validation, so val_loss is this epoch's.
        metrics = ", ".join(f"{name} {float(value):.4g}" for name, value in sorted(trainer.callback_metrics.items()))
        print(f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}: {metrics} "
              f"({time.perf_counter() - self._start:.1f} s)", flush=True)


# What a training run reports in trainer.callback_metrics at its end (see KeepBest.on_fit_end).
RUN_EPOCHS, RUN_BEST_LOSS, RUN_BEST_EPOCH = "s4ts_epochs", "s4ts_best_val_loss", "s4ts_best_epoch"


class KeepBest(L.Callback):
    """Keep the weights with the lowest validation loss (in one process, those before training too);
    restore them at the end.

    `best_loss` is inf until a validation ran (no validation data: it stays inf);
    `best_epoch` counts the epochs trained to reach the lowest loss (0: none helped).
    With `last=True` the final weights are kept and reported instead (the validation
    series then stay unbiased by the choice of an epoch, e.g. to fit a temperature on them).
    With `average=k` > 1 the kept weights are the mean of the `k` trained epochs with the
    lowest validation losses (fewer when fewer ran; the weights before training are never
    averaged in), which takes out part of the chance in which epoch is the best.
    """

    def __init__(self, last: bool = False, average: int = 1) -> None:
        self.last = last
        self.average = average
        self.best_loss = math.inf
        self.best_epoch: int | None = None
        self.best_state: dict[str, Tensor] | None = None
        self._top: list[tuple[float, dict[str, Tensor]]] = []  # (loss, weights) of the best epochs

    def on_validation_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        loss = trainer.callback_metrics.get("val_loss")
        if loss is not None and (self.last or float(loss) < self.best_loss):
            self.best_loss = float(loss)
            # Before fit (trainer.validate) no epoch has run; during fit, epoch k is the (k+1)-th.
            fitting = trainer.state.fn == TrainerFn.FITTING
            self.best_epoch = trainer.current_epoch + 1 if fitting else 0
            if not self.last:
                self.best_state = {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}
        if loss is not None and self.average > 1 and trainer.state.fn == TrainerFn.FITTING:
            state = {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}
            self._top = sorted([*self._top, (float(loss), state)], key=lambda pair: pair[0])[: self.average]

    def on_fit_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if self.best_state is not None and self.best_epoch and len(self._top) > 1:
            self.best_state = _mean_state([state for _, state in self._top])
        if self.best_state is not None:
            module.load_state_dict(self.best_state)
        # Lightning carries callback_metrics (and rank 0's weights) back from the processes it
        # spawns; the calling process reads the run's outcome from them (`fit_module`).
        trainer.callback_metrics.update({
            RUN_EPOCHS: torch.tensor(trainer.current_epoch),
            RUN_BEST_LOSS: torch.tensor(self.best_loss),
            RUN_BEST_EPOCH: torch.tensor(-1 if self.best_epoch is None else self.best_epoch),
        })


def _mean_state(states: list[dict[str, Tensor]]) -> dict[str, Tensor]:
    """The elementwise mean of several state dicts' floating-point tensors (others: the first's)."""
    return {k: torch.stack([s[k] for s in states]).mean(0) if v.is_floating_point() else v
            for k, v in states[0].items()}


@dataclass(frozen=True)
class TrainingResult:
    """What a training run leaves behind: epochs run, the best validation loss (inf if none)
    and the epochs trained to reach the kept weights (None without validation)."""

    n_epochs: int
    best_val_loss: float
    best_epoch: int | None = None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def check_training_params(est: object, auto: tuple[str, ...] = ()) -> None:
    """Validate the training parameters both estimators share; errors name the parameter.
    `auto`: the parameters among batch_size and max_epochs that also take "auto"."""
    for name in ("learning_rate", "ssm_lr", "weight_decay"):
        value = getattr(est, name)
        if not _is_number(value) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name}={value!r} must be a finite number >= 0")
    if not _is_number(est.dropout) or not 0.0 <= est.dropout < 1.0:
        raise ValueError(f"dropout={est.dropout!r} must be in [0, 1)")
    for name in ("batch_size", "max_epochs", "early_stopping_patience"):
        value = getattr(est, name)
        if name in auto and isinstance(value, str) and value == "auto":
            continue
        if name == "early_stopping_patience" and value is None:  # no early stopping
            continue
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            also = ' or "auto"' if name in auto else ""
            also += " or None" if name == "early_stopping_patience" else ""
            raise ValueError(f"{name}={value!r} must be a positive integer{also}")
    clip = est.gradient_clip_val
    if clip is not None and (not _is_number(clip) or not math.isfinite(clip) or clip <= 0):
        raise ValueError(f"gradient_clip_val={clip!r} must be None or a positive number")
    max_time = est.max_time
    if max_time is not None:
        if isinstance(max_time, timedelta):
            max_time = max_time.total_seconds()
        if not _is_number(max_time) or not max_time > 0:
            raise ValueError(f"max_time={est.max_time!r} must be None, positive seconds or a timedelta")
    if est.random_state is not None and not isinstance(
        est.random_state, (int, np.integer, np.random.RandomState)
    ):
        raise TypeError(f"random_state={est.random_state!r} must be None, an int or a RandomState")
    if not isinstance(est.verbose, (bool, np.bool_)):
        raise TypeError(f"verbose={est.verbose!r} must be True or False")
    check_distributed_params(est)


def fit_module(
    est: object,
    module: L.LightningModule,
    train_loader: DataLoader,
    val_loader: DataLoader | None,
    *,
    max_epochs: int | None = None,
    max_time: float | timedelta | None = None,
    keep_last: bool = False,
    average_best: int = 1,
) -> TrainingResult:
    """Train `module` with the estimator's settings; the best validation epoch's weights are kept.

    Reads `max_epochs`, `max_time`, `early_stopping_patience`, `gradient_clip_val`,
    `accelerator`, `devices`, `num_nodes`, `strategy` and `verbose` from the estimator;
    `max_epochs` and `max_time` given here replace the estimator's (a budget the estimator
    worked out, or its time shared between the members of an ensemble). `keep_last` keeps
    the final weights instead of the best validation epoch's, `average_best` the mean of the
    best few epochs' (see `KeepBest`). The loaders shard their own batches between processes
    (`s4ts.data.sampling.EpochSampler`), so Lightning's distributed sampler is off.
    """
    keep_best = KeepBest(last=keep_last, average=average_best)
    callbacks: list[L.Callback] = [keep_best]
    if val_loader is not None and est.early_stopping_patience is not None:
        callbacks.append(L.pytorch.callbacks.EarlyStopping("val_loss", patience=est.early_stopping_patience))
    # A progress bar for a terminal; for a log file or pipe, one line per epoch.
    progress_bar = est.verbose and sys.stdout.isatty()
    if est.verbose and not progress_bar:
        callbacks.append(EpochLines())
    if is_distributed(est):
        callbacks.append(ProcessGroupCleanup())
    callbacks.extend(_EXTRA_CALLBACKS.get())
    max_time = est.max_time if max_time is None else max_time
    if max_time is not None and not isinstance(max_time, timedelta):
        max_time = timedelta(seconds=float(max_time))
    with quiet_lightning(not est.verbose):
        trainer = L.Trainer(
            accelerator=est.accelerator,
            devices=est.devices,
            num_nodes=est.num_nodes,
            strategy=est.strategy,
            use_distributed_sampler=False,
            max_epochs=est.max_epochs if max_epochs is None else max_epochs,
            max_time=max_time,
            gradient_clip_val=est.gradient_clip_val,
            callbacks=callbacks,
            enable_progress_bar=progress_bar,
            enable_model_summary=est.verbose,
            logger=False,
            enable_checkpointing=False,
            num_sanity_val_steps=0,
        )
        if val_loader is not None and not is_distributed(est) and not keep_last:
            # The weights before training are a candidate too: when no epoch improves on them
            # (a least-squares start, say), they are what training keeps. (A distributed run
            # skips this: a separate validate call would start the processes twice.)
            trainer.validate(module, val_loader, verbose=False)
        trainer.fit(module, train_loader, val_loader)
    module.cpu().eval()
    metrics = trainer.callback_metrics
    best_epoch = int(metrics[RUN_BEST_EPOCH])
    return TrainingResult(int(metrics[RUN_EPOCHS]), float(metrics[RUN_BEST_LOSS]),
                          None if best_epoch < 0 else best_epoch)


def refuse_changed_network(est: object, current: dict[str, Any]) -> None:
    """A warm start continues the fitted network: refuse one whose architecture arguments
    (`current`) differ from those it was fitted with (`est._network_params`, recorded by fit
    and load), naming each."""
    fitted = getattr(est, "_network_params", None)
    if fitted is None:  # a model pickled by a version without warm starts
        raise ValueError("warm_start=True: this model does not record the arguments it was "
                         "fitted with (an earlier s4ts version); save and load it, or fit from "
                         "scratch with warm_start=False")
    changed = [f"{name}={value!r} (fitted with {fitted[name]!r})"
               for name, value in current.items() if fitted[name] != value]
    if changed:
        raise ValueError(f"warm_start=True continues the fitted network, but {', '.join(changed)}; "
                         "set them back or fit from scratch with warm_start=False")


def seed_from(random_state: int | np.random.RandomState | None) -> int:
    """One integer seed from a scikit-learn style random_state (None: fresh entropy)."""
    return int(check_random_state(random_state).randint(2**31 - 1))


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's global RNGs for the block and restore them afterwards (the user's untouched)."""
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
