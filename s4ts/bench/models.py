"""The S4 model of the Informer benchmark, its training loop, and the least-squares fit that
both its linear path and the linear baseline use.

The loop is plain torch, not Lightning like the estimators: a short loop that is read in one
place, where no framework setting can hide what the benchmark trained.
"""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from s4ts.nn import S4Backbone, ssm_param_groups

logger = logging.getLogger(__name__)

NORMS = ("none", "mean", "last")


def check_norm(norm: str) -> str:
    """`norm` if it names a per-window normalisation of `normalise_context`, else ValueError."""
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}.")
    return norm


class S4Informer(nn.Module):
    """S4 run over the context followed by masked horizon steps; forecasts read at the horizon.

    This is the S4 paper's Informer setup: one pass over `seq_len + pred_len` steps whose horizon
    values are zeros, with an extra channel marking them, so no decoder or autoregression.
    With `n_marks` > 0 every step also gets the first `n_marks` calendar features of its
    timestamp (context and horizon alike), so forecasts can follow the time of day, week, year.
    With `linear_context` = seq_len, a linear map from the normalised context to the horizon
    (shared by the channels; zero until `fit_linear_path` sets it by least squares) is added
    to the S4 output: the model holds a linear forecaster and S4 learns what it leaves over.
    """

    def __init__(
        self, n_channels: int, pred_len: int, channel_independent: bool = True,
        norm: str = "last", d_model: int = 64, n_layers: int = 2, d_state: int = 64,
        mode: str = "diag", dropout: float = 0.1, bidirectional: bool = False,
        ssm_lr: float = 1e-3, n_marks: int = 0, linear_context: int = 0,
    ) -> None:
        super().__init__()
        check_norm(norm)
        self.pred_len = pred_len
        self.channel_independent = channel_independent
        self.norm = norm
        self.n_marks = n_marks
        width = 1 if channel_independent else n_channels
        self.backbone = S4Backbone(
            width + 1 + n_marks, width, d_model=d_model, n_layers=n_layers, d_state=d_state, mode=mode,
            dropout=dropout, bidirectional=bidirectional, ssm_lr=ssm_lr,
        )
        self.linear = None
        if linear_context:
            self.linear = nn.Linear(linear_context, pred_len)
            nn.init.zeros_(self.linear.weight)
            nn.init.zeros_(self.linear.bias)

    def forward(self, x: torch.Tensor, marks: torch.Tensor | None = None) -> torch.Tensor:
        """Forecast (B, pred_len, C) from a context (B, seq_len, C) and, when the model uses
        them, calendar features marks (B, seq_len + pred_len, F >= n_marks); the first
        n_marks are used."""
        batch, seq_len, channels = x.shape
        if self.n_marks:
            if marks is None or marks.shape[-1] < self.n_marks:
                got = None if marks is None else tuple(marks.shape)
                raise ValueError(f"This model needs marks (B, L + H, {self.n_marks}); got {got}.")
            marks = marks[..., : self.n_marks]
            if self.channel_independent:
                marks = marks.repeat_interleave(channels, dim=0)  # (B C, L + H, F)
        z, shift, scale = normalise_context(self._as_series(x), self.norm)  # (B', L, C'), (B', 1, C')
        rows = z.shape[0]
        horizon = z.new_zeros(rows, self.pred_len, z.shape[2])  # (B', H, C')
        values = torch.cat([z, horizon], dim=1)  # (B', L + H, C')
        mask = torch.cat(
            [z.new_zeros(rows, seq_len, 1), z.new_ones(rows, self.pred_len, 1)], dim=1
        )  # (B', L + H, 1)
        features = [values, mask] + ([marks] if self.n_marks else [])
        y = self.backbone(torch.cat(features, dim=2))[:, -self.pred_len:]  # (B', H, C')
        if self.linear is not None:
            y = y + self._linear_path(z)
        return self._from_series(y * scale + shift, batch, channels)

    def linear_forecast(self, x: torch.Tensor) -> torch.Tensor:
        """The linear path's forecast alone (B, pred_len, C) from a context (B, seq_len, C),
        without S4: compared with the full forecast, it shows what S4 adds."""
        if self.linear is None:
            raise ValueError("This model has no linear path (linear_context=0).")
        batch, _, channels = x.shape
        z, shift, scale = normalise_context(self._as_series(x), self.norm)
        return self._from_series(self._linear_path(z) * scale + shift, batch, channels)

    def _as_series(self, x: torch.Tensor) -> torch.Tensor:
        """`channels_as_series` when channel-independent; the joint model reads x as it is."""
        return channels_as_series(x) if self.channel_independent else x

    def _from_series(self, y: torch.Tensor, batch: int, channels: int) -> torch.Tensor:
        """The inverse of `_as_series` for forecasts."""
        return series_as_channels(y, batch, channels) if self.channel_independent else y

    def _linear_path(self, z: torch.Tensor) -> torch.Tensor:
        """The linear path on a normalised context (B', L, C') -> (B', H, C')."""
        if z.shape[1] != self.linear.in_features:
            raise ValueError(f"This model's linear path reads {self.linear.in_features} context "
                             f"steps; got {z.shape[1]}.")
        return self.linear(z.transpose(1, 2)).transpose(1, 2)

    def fit_linear_path(self, windows: Windows, ridge: float = 1.0) -> None:
        """Set the linear path to the ridge least-squares forecast of the training windows
        (in the normalised space it works in), so S4 starts on what a linear model misses."""
        if self.linear is None:
            raise ValueError("This model has no linear path (linear_context=0).")
        fit_least_squares(self.linear, windows, self.norm, ridge)


class Ensemble(nn.Module):
    """The mean forecast of independently trained models: (B, L, C) -> (B, H, C)."""

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor, marks: torch.Tensor | None = None) -> torch.Tensor:
        return torch.stack([member(x, marks) for member in self.members]).mean(dim=0)


class LinearPath(nn.Module):
    """A trained S4Informer's linear path alone (no S4), as a forecaster: (B, L, C) -> (B, H, C)."""

    def __init__(self, model: S4Informer) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, marks: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.linear_forecast(x)


@dataclass
class TrainConfig:
    """Optimisation settings of our model."""

    epochs: int = 4
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 0.01
    patience: int = 3
    max_train_windows: int | None = 2000  # windows drawn per epoch; None: all of them
    max_val_windows: int | None = 1000  # evenly spaced validation windows; None: all
    seed: int = 0


class Windows:
    """All stride-1 (context, horizon) windows of a (T, C) array, gathered batch by batch,
    with the per-step marks (T, F) of their timestamps when given."""

    def __init__(self, data: np.ndarray, seq_len: int, pred_len: int,
                 marks: np.ndarray | None = None) -> None:
        self.data = torch.as_tensor(data, dtype=torch.float32)  # (T, C)
        if marks is not None and len(marks) != len(data):
            raise ValueError(f"marks has {len(marks)} rows for {len(data)} steps of data.")
        self.marks = None if marks is None else torch.as_tensor(marks, dtype=torch.float32)
        self.seq_len = seq_len
        self.pred_len = pred_len
        self.count = len(data) - seq_len - pred_len + 1
        if self.count < 1:
            raise ValueError(
                f"A split of {len(data)} steps is too short for seq_len={seq_len} plus "
                f"pred_len={pred_len}; use a shorter context or horizon."
            )

    def batch(self, starts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """Contexts (B, seq_len, C), marks (B, seq_len + pred_len, F) or None, and targets
        (B, pred_len, C) of the windows starting at `starts`."""
        rows = starts[:, None] + torch.arange(self.seq_len + self.pred_len)  # (B, L + H)
        chunk = self.data[rows]  # (B, L + H, C)
        marks = None if self.marks is None else self.marks[rows]
        return chunk[:, : self.seq_len], marks, chunk[:, self.seq_len:]


def channels_as_series(x: torch.Tensor) -> torch.Tensor:
    """(B, L, C) -> (B C, L, 1): every channel becomes its own univariate sequence, so one set
    of weights serves all channels."""
    batch, seq_len, channels = x.shape
    return x.transpose(1, 2).reshape(batch * channels, seq_len, 1)


def series_as_channels(y: torch.Tensor, batch: int, channels: int) -> torch.Tensor:
    """The inverse of `channels_as_series`: (B C, H, 1) -> (B, H, C)."""
    return y.reshape(batch, channels, -1).transpose(1, 2)


def normalise_context(x: torch.Tensor, norm: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-window normalised context (B, L, C) and its shift and scale (B, 1, C).

    "last" subtracts the last value (NLinear), "mean" standardises the window (RevIN), "none"
    keeps the values. Models see shapes, not levels: the level shifts between train and test
    splits in ETT are what hurts deep models most there."""
    check_norm(norm)
    if norm == "last":
        shift = x[:, -1:, :]
        scale = torch.ones_like(shift)
    elif norm == "mean":
        shift = x.mean(dim=1, keepdim=True)
        scale = x.std(dim=1, keepdim=True) + 1e-5
    else:
        shift = torch.zeros_like(x[:, -1:, :])
        scale = torch.ones_like(shift)
    return (x - shift) / scale, shift, scale


@torch.no_grad()
def fit_least_squares(layer: nn.Linear, windows: Windows, norm: str, ridge: float = 1.0) -> None:
    """Set `layer` (context steps -> horizon steps, shared by the channels) to the ridge
    least-squares forecast of every window and channel, in the space that
    `normalise_context(x, norm)` maps to (it normalises each channel on its own)."""
    L, H = layer.in_features, layer.out_features
    if (L, H) != (windows.seq_len, windows.pred_len):
        raise ValueError(f"The layer maps {L} -> {H} steps; the windows are "
                         f"{windows.seq_len} -> {windows.pred_len}.")
    gram = ridge * torch.eye(L + 1, dtype=torch.float64)  # (L + 1, L + 1), last: bias
    moments = torch.zeros(L + 1, H, dtype=torch.float64)
    for chunk in torch.arange(windows.count).split(1024):
        x, _, y = windows.batch(chunk)  # (B, L, C), _, (B, H, C)
        z, shift, scale = normalise_context(x, norm)
        inputs = z.transpose(1, 2).reshape(-1, L).double()  # (B C, L)
        inputs = torch.cat([inputs, torch.ones_like(inputs[:, :1])], dim=1)  # (B C, L + 1)
        targets = ((y - shift) / scale).transpose(1, 2).reshape(-1, H).double()  # (B C, H)
        gram += inputs.T @ inputs
        moments += inputs.T @ targets
    solution = torch.linalg.solve(gram, moments)  # (L + 1, H)
    layer.weight.copy_(solution[:-1].T)
    layer.bias.copy_(solution[-1])


@torch.no_grad()
def evaluate(
    model: nn.Module, windows: Windows, batch_size: int = 256, limit: int | None = None,
) -> tuple[float, float]:
    """MSE and MAE over the windows (all of them, or `limit` evenly spaced ones)."""
    model.eval()
    starts = torch.arange(windows.count)
    if limit is not None and windows.count > limit:
        starts = torch.linspace(0, windows.count - 1, limit).round().long()
    sq_err = abs_err = 0.0
    for chunk in starts.split(batch_size):
        x, marks, y = windows.batch(chunk)
        err = model(x, marks) - y  # (B, H, C)
        sq_err += err.square().sum().item()
        abs_err += err.abs().sum().item()
    n = len(starts) * windows.pred_len * windows.data.shape[1]
    return sq_err / n, abs_err / n


def fit(
    model: nn.Module, train: Windows, val: Windows, config: TrainConfig,
    param_groups: list[dict] | None = None,
) -> dict[str, float]:
    """Train with AdamW on MSE, early-stop on validation MSE, and keep the best weights."""
    generator = torch.Generator().manual_seed(config.seed)
    groups = param_groups if param_groups is not None else [{"params": model.parameters()}]
    optimizer = torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)
    per_epoch = train.count if config.max_train_windows is None else min(
        train.count, config.max_train_windows
    )
    steps = config.epochs * math.ceil(per_epoch / config.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=[g["lr"] for g in optimizer.param_groups], total_steps=steps,
        pct_start=0.1,
    )
    best_val, best_state, best_epoch, bad_epochs = math.inf, None, 0, 0
    for epoch in range(config.epochs):
        model.train()
        starts = torch.randperm(train.count, generator=generator)[:per_epoch]
        for chunk in starts.split(config.batch_size):
            x, marks, y = train.batch(chunk)
            loss = nn.functional.mse_loss(model(x, marks), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
        val_mse, _ = evaluate(model, val, limit=config.max_val_windows)
        logger.info("epoch %d: train loss %.4f, val mse %.4f", epoch, loss.item(), val_mse)
        if val_mse < best_val:
            best_val, best_epoch, bad_epochs = val_mse, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            bad_epochs += 1
            if bad_epochs >= config.patience:
                break
    if best_state is None:
        raise ValueError(
            f"Training diverged: validation MSE is {val_mse} after every epoch; lower the "
            f"learning rate (lr={config.lr})."
        )
    model.load_state_dict(best_state)
    return {"val_mse": best_val, "best_epoch": best_epoch, "epochs_run": epoch + 1}


def fit_s4(
    model: S4Informer, train: Windows, val: Windows, config: TrainConfig,
) -> dict[str, float]:
    """Train the S4 model with its SSM parameters in their own optimizer group; a linear path
    starts from its least-squares fit."""
    if model.linear is not None:
        model.fit_linear_path(train)
    groups = ssm_param_groups(model, lr=config.lr, weight_decay=config.weight_decay)
    return fit(model, train, val, config, param_groups=groups)
