"""Training S4Forecaster's network: window sampling, the linear path's least-squares fit, Lightning."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch.utils.data import DataLoader, Subset

from s4ts import _training
from s4ts.data.sampling import EpochSampler
from s4ts.data.windows import Featurizer, WindowDataset, window_index
from s4ts.forecasting.lightning_module import ForecastingModule
from s4ts.nn.distributions import Head, QuantileHead, StudentTHead
from s4ts.nn.forecast_net import ForecastNet, Timing

if TYPE_CHECKING:
    from s4ts.forecasting.estimator import S4Forecaster

__all__ = [
    "auto_val_size", "build_net", "calibrate_quantiles", "fit_linear_path", "fit_network", "linear_horizon",
    "train_network",
]

# Training windows the least-squares start of the linear path reads at most.
_LINEAR_FIT_WINDOWS = 50_000
# val_size=None: validation windows per series, at most `_VAL_SHARE` of the shortest series
# and `_VAL_TOTAL` windows in all (at least one per series). One window of a single series
# picked noisy epochs: on the panel's validation windows, 192 held-out steps instead of one
# horizon gave MASE vic_elec 0.351 -> 0.280, us_gasoline 0.987 -> 0.886, ETTh1 0.413 ->
# 0.405, ETTh2 0.747 -> 0.727, pedestrian 0.640 -> 0.597 (seed 0, results/defaults_v6).
_VAL_WINDOWS = 8
_VAL_SHARE = 0.1
_VAL_TOTAL = 256
# Irregular series: the linear path forecasts the span of time this share of the training
# windows' horizons covers (longer ones hold its last value).
_LINEAR_SPAN_SHARE = 0.95
# The kept weights: the mean of this many best validation epochs' (1: the best epoch's);
# 3 chosen on the panel's validation blocks (benchmarks/results/average_v1).
AVERAGE_BEST_EPOCHS = 3


def auto_val_size(horizon: int, lengths: list[int]) -> int:
    """Validation steps per series for val_size=None: `_VAL_WINDOWS` horizons, at most
    `_VAL_SHARE` of the shortest series and `_VAL_TOTAL` windows over all series, at least one."""
    fit = int(_VAL_SHARE * min(lengths)) // horizon
    return horizon * max(1, min(_VAL_WINDOWS, fit, _VAL_TOTAL // len(lengths)))


def linear_horizon(steps: list, index: np.ndarray, horizon: int) -> int:
    """Trained steps the linear path forecasts: `horizon` on regular grids; for irregular
    series (per-step gaps `steps[i]` (T_i,) in training steps), the span of time that
    `_LINEAR_SPAN_SHARE` of the training windows' horizons (`index` (n, 2): series, end) cover."""
    if all(not np.ndim(step) for step in steps):
        return horizon
    elapsed = [np.cumsum(step, dtype=np.float64) if np.ndim(step) else None for step in steps]  # (T_i,)
    # A window ending at `end` forecasts steps end-horizon..end-1, from the step before them.
    spans = [horizon * steps[i] if elapsed[i] is None else elapsed[i][end - 1] - elapsed[i][end - horizon - 1]
             for i, end in index]
    return max(horizon, math.ceil(np.quantile(spans, _LINEAR_SPAN_SHARE) - 1e-9)) if spans else horizon


def build_net(est: S4Forecaster, featurizer: Featurizer, head: Head, context_length: int,
              linear: bool, linear_steps: int | None = None) -> ForecastNet:
    """The untrained network of an estimator's settings, for inputs of `featurizer`
    (`linear_steps`: the linear path's horizon, see `linear_horizon`; default `est.horizon`)."""
    # The cross-series targets are the last past-only covariates (normalised like y).
    n_cross = featurizer.n_hist - len(est.hist_exog) if est.cross_series else 0
    cross = featurizer.hidden_channels[len(featurizer.hidden_channels) - n_cross :]
    # The linear path adds to a Student-t's location only, to every output of the other heads.
    location = [0] if isinstance(head, StudentTHead) else None
    return ForecastNet(
        featurizer.n_channels, head.n_outputs, context_length, est.horizon, norm=est.norm, linear=linear,
        linear_horizon=linear_steps, location_outputs=location, normalised_inputs=cross,
        d_model=est.d_model, n_layers=est.n_layers, d_state=est.d_state, mode=est.mode, init=est.init,
        dropout=est.dropout, dt_min=est.dt_min, dt_max=est.dt_max, ssm_lr=est.ssm_lr,
    )


def fit_linear_path(net: ForecastNet, train: WindowDataset, seed: int, trainable: bool) -> None:
    """Fit the linear path by least squares on (at most `_LINEAR_FIT_WINDOWS`) training windows;
    unless `trainable`, fix it there, so training teaches S4 what that forecast misses.

    Measured (benchmarks/results, defaults v4): on the forecasting panel, training the map
    further with AdamW moved its weights off the least-squares fit faster than S4 learned
    (vic_elec MASE 0.636 of seasonal naive's trained, 0.520 fixed); on the Informer ETTh1 S
    cell at horizon 720 training it was better on validation (MSE 0.152 against 0.173)."""
    count = min(len(train), _LINEAR_FIT_WINDOWS)
    rows = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:count]
    loader = DataLoader(Subset(train, rows.tolist()), batch_size=1024)
    net.fit_linear_path(
        (batch["x"], batch["y"].masked_fill(~batch["loss_mask"], float("nan")),
         None if bool(batch["regular"].all()) else batch["dt"])
        for batch in loader
    )
    net.linear.requires_grad_(trainable)


def fit_network(
    est: S4Forecaster,
    featurizer: Featurizer,
    head: Head,
    inputs: list[np.ndarray],  # each (T_i, C), encoded by `featurizer`
    targets: list[np.ndarray],  # each (T_i,), scaled, NaN where missing
    steps: list,  # per series: its rate, or (T_i,) per-step gaps in training steps
    context_length: int,
    val_size: int,
    linear: bool,
    start: ForecastNet | None = None,
) -> tuple[ForecastNet, _training.TrainingResult]:
    """The estimator's network trained on the windows of its scaled series: built, its linear
    path fitted by least squares (when `linear`), trained, its quantiles calibrated when asked.
    A warm start passes the fitted network as `start`: training continues from its weights."""
    seed = _training.seed_from(est.random_state)
    with _training.seeded(seed):
        indices = window_index([len(y) for y in targets], est.horizon, val_size)
        linear_steps = linear_horizon(steps, indices[0], est.horizon)
        if start is not None and start.linear is not None:
            linear_steps = start.linear.out_features  # the fitted path's, whatever the new data
        net = build_net(est, featurizer, head, context_length, linear, linear_steps)
        train, val = (
            WindowDataset(inputs, targets, steps, index, context_length, est.horizon, featurizer.hidden_channels)
            for index in indices
        )
        if start is not None:
            # The fitted weights in a new network: the SSM parameters' optimizer settings
            # (ssm_lr) live on the parameters and are the current ones, and a fit that fails
            # midway leaves the fitted network as it was.
            net.load_state_dict(start.state_dict())
            if linear:
                net.linear.requires_grad_(est.train_linear)
        elif linear:
            fit_linear_path(net, train, seed, est.train_linear)
        result = train_network(est, net, head, train, val, seed)
        # True calibrates once here; "recent" at every forecast (recalibration.py)
        once = est.calibrate_quantiles and not isinstance(est.calibrate_quantiles, str)
        if once and isinstance(head, QuantileHead):
            calibrate_quantiles(net, head, val)
    return net, result


def train_network(
    est: S4Forecaster,
    net: ForecastNet,
    head: Head,
    train: WindowDataset,
    val: WindowDataset,
    seed: int,
) -> _training.TrainingResult:
    """Fit network + head with the estimator's settings; the mean of the best validation epochs'
    weights is kept (`AVERAGE_BEST_EPOCHS`).

    An epoch draws `batches_per_epoch` random batches (every window once when None)."""
    n_samples = len(train)
    if est.batches_per_epoch is not None:
        n_samples = min(n_samples, est.batches_per_epoch * est.batch_size)
    # Each process of a distributed fit takes its shard of the epoch's draw.
    train_loader = DataLoader(train, batch_size=est.batch_size, sampler=EpochSampler(len(train), n_samples, seed))
    val_loader = DataLoader(val, batch_size=est.batch_size) if len(val) else None
    module = ForecastingModule(net, head, est.learning_rate, est.weight_decay)
    return _training.fit_module(est, module, train_loader, val_loader, average_best=AVERAGE_BEST_EPOCHS)


@torch.no_grad()
def calibrate_quantiles(net: ForecastNet, head: QuantileHead, val: WindowDataset) -> int:
    """Set the head's quantile widths from the validation windows (which training did not
    fit, though early stopping read their loss); returns the observed points used."""
    net.eval()
    outputs, truths = [], []
    for batch in DataLoader(val, batch_size=256):
        timing = Timing.from_steps(batch["dt"], batch["regular"])
        raw, shift, scale = net(batch["x"], timing, batch["valid"])  # (B, H, Q), (B, 1) x2
        outputs.append((raw * scale[..., None] + shift[..., None]).reshape(-1, raw.shape[-1]))
        truths.append(batch["y"].masked_fill(~batch["loss_mask"], float("nan")).reshape(-1))
    if not outputs:
        return 0
    return head.calibrate(torch.cat(outputs).double().numpy(), torch.cat(truths).double().numpy())
