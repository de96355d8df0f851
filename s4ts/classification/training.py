"""Training S4Classifier's ensemble: each member on its own validation split, then one temperature."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from s4ts._training import TrainingResult, fit_module, seeded
from s4ts.classification.lightning_module import S4ClassifierModule
from s4ts.data.sampling import EpochSampler
from s4ts.data.sequences import validation_split
from s4ts.nn.classifier import S4ClassifierNet
from s4ts.nn.ensemble import S4ClassifierEnsemble, fit_temperature
from s4ts.nn.pooling import trim_padding

if TYPE_CHECKING:
    from s4ts.classification.estimator import S4Classifier

__all__ = ["batch_budget", "epoch_budget", "make_dataset", "prediction_batch_size", "train_ensemble"]

# Augmentation recipe of augment=True: crops keep at least this fraction of a series, and
# amplitudes are scaled by exp(N(0, sigma²)) per series and channel.
CROP = 0.8
SCALE_SIGMA = 0.1
# max_epochs="auto" plans about this many optimizer steps, within the epoch bounds below,
# and at most AUTO_WORK series-steps per member (long series: fewer epochs, at least
# AUTO_LONG_EPOCHS). On 2 CPU cores at the default width, ArrowHead's 300 epochs of 36
# series x 251 steps (2.4e6 series-steps, 1,200 steps of 8 series) took about 70 s a
# member; the six problems of benchmarks/classify_panel.py stay under AUTO_WORK.
AUTO_STEPS = 1200
AUTO_EPOCHS = (30, 400)
AUTO_WORK = 6e6
AUTO_LONG_EPOCHS = 10
# batch_size="auto" takes an eighth of the training series within these bounds.
AUTO_BATCH = (8, 32)


def make_dataset(values: np.ndarray, mask: np.ndarray, labels: np.ndarray) -> TensorDataset:
    """Tensors of standardised values (n, L, C), mask (n, L) and class indices (n,)."""
    return TensorDataset(
        torch.from_numpy(values.astype(np.float32)),
        torch.from_numpy(mask),
        torch.from_numpy(labels.astype(np.int64)),
    )


def batch_budget(batch_size: int | str, n_train: int) -> int:
    """Training batch size: `batch_size`, or for "auto" an eighth of the series within
    AUTO_BATCH (a few dozen series then make several noisy steps an epoch, not one)."""
    if batch_size != "auto":
        return int(batch_size)
    low, high = AUTO_BATCH
    return int(np.clip(n_train // 8, low, high))


def prediction_batch_size(batch_size: int | str) -> int:
    """Series per forward pass when predicting: `batch_size`, or the largest "auto" batch."""
    return AUTO_BATCH[1] if batch_size == "auto" else int(batch_size)


def epoch_budget(max_epochs: int | str, n_train: int, batch_size: int, mean_length: float) -> int:
    """Epochs to train: `max_epochs`, or for "auto" about AUTO_STEPS optimizer steps (few series
    need many epochs to make as many steps), kept within AUTO_EPOCHS, and no more than
    AUTO_WORK series-steps (n_train x mean_length an epoch) allow, but at least AUTO_LONG_EPOCHS."""
    if max_epochs != "auto":
        return int(max_epochs)
    batches = max(1, n_train // batch_size)  # drop_last when there is more than a batch
    low, high = AUTO_EPOCHS
    planned = int(np.clip(math.ceil(AUTO_STEPS / batches), low, high))
    affordable = max(AUTO_LONG_EPOCHS, int(AUTO_WORK // (n_train * mean_length)))
    return min(planned, affordable)


def _member_split(
    est: S4Classifier, labels: np.ndarray, seed: int, validation: TensorDataset | None
) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation indices of one member (no validation indices when the user gave
    validation data)."""
    if validation is not None:
        return np.arange(len(labels)), np.arange(0)
    return validation_split(labels, est.val_size, seed)


def train_ensemble(
    est: S4Classifier,
    build: Callable[[int], S4ClassifierNet],
    values: np.ndarray,
    mask: np.ndarray,
    labels: np.ndarray,
    seed: int,
    validation: TensorDataset | None = None,
) -> tuple[S4ClassifierEnsemble, list[TrainingResult]]:
    """Train `est.n_estimators` networks, member i starting from `build(i)`, on standardised values (n, L, C), mask
    (n, L) and class indices (n,); each member holds out its own validation split (or uses
    `validation`), and the members' held-out logits fit one softmax temperature (1 when no
    member has validation series)."""
    seeds = np.random.RandomState(seed).randint(2**31 - 1, size=est.n_estimators)
    max_time = est.max_time
    if max_time is not None:  # the time limit covers the whole ensemble
        seconds = max_time.total_seconds() if isinstance(max_time, timedelta) else float(max_time)
        max_time = seconds / est.n_estimators
    members, results, held_logits, held_labels = [], [], [], []
    for member, member_seed in enumerate(int(s) for s in seeds):
        train_idx, val_idx = _member_split(est, labels, member_seed, validation)
        train_set = make_dataset(values[train_idx], mask[train_idx], labels[train_idx])
        batch_size = batch_budget(est.batch_size, len(train_set))
        val_set = validation
        if val_set is None and len(val_idx):
            val_set = make_dataset(values[val_idx], mask[val_idx], labels[val_idx])
        with seeded(member_seed):  # weights, batch order, augmentation and dropout
            net = build(member)
            # Each process of a distributed fit takes its shard of the epoch's order.
            train_loader = DataLoader(
                train_set, batch_size=batch_size,
                sampler=EpochSampler(len(train_set), seed=member_seed),
                drop_last=len(train_set) > batch_size,
            )
            val_loader = None if val_set is None else DataLoader(val_set, batch_size=batch_size)
            module = S4ClassifierModule(
                net, learning_rate=est.learning_rate, weight_decay=est.weight_decay,
                crop=CROP if est.augment else 1.0,
                scale_sigma=SCALE_SIGMA if est.augment else 0.0,
                label_smoothing=est.label_smoothing,
            )
            max_epochs = epoch_budget(est.max_epochs, len(train_set), batch_size,
                                      float(mask[train_idx].sum(axis=1).mean()))
            # Without early stopping the planned schedule runs out (the learning rate decays
            # to zero) and its final weights are kept: the held-out series, not used to
            # choose an epoch, then give the temperature an unbiased fit.
            results.append(fit_module(est, module, train_loader, val_loader,
                                      max_epochs=max_epochs, max_time=max_time,
                                      keep_last=est.early_stopping_patience is None))
            net = net.cpu().eval()
            if val_set is not None:  # (a DataLoader draws a seed: inside the seeded block)
                logits, y = _logits(net, val_set, batch_size)
                held_logits.append(logits)
                held_labels.append(y)
        members.append(net)
    temperature = 1.0
    if held_logits:
        temperature = fit_temperature(torch.cat(held_logits), torch.cat(held_labels))
    return S4ClassifierEnsemble(members, temperature).eval(), results


def _logits(net: S4ClassifierNet, data: TensorDataset, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A member's logits (n, n_classes) on a dataset, with its class indices (n,)."""
    out, labels = [], []
    with torch.no_grad():
        for x, mask, y in DataLoader(data, batch_size=batch_size):  # (B, L, C), (B, L), (B,)
            out.append(net(*trim_padding(x, mask)))
            labels.append(y)
    return torch.cat(out), torch.cat(labels)
