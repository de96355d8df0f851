"""Validation of S4Classifier's constructor arguments and sample rates, before any data is read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from s4ts._distributed import is_distributed
from s4ts._training import check_training_params, refuse_changed_network
from s4ts.nn.pooling import check_pooling

if TYPE_CHECKING:
    from s4ts.classification.estimator import S4Classifier

__all__ = ["check_params", "check_sample_rate", "check_warm_start", "network_params"]

_NORMS = ("series", "dataset")
# Constructor arguments that shape the trained networks or what they read: a warm start
# continues the fitted networks, so these must be the ones they were fitted with. (Those
# that only set the initial weights, such as init and dt_min, or training, such as dropout,
# ssm_lr and learning_rate, may change.)
_NETWORK_PARAMS = ("d_model", "d_state", "mode", "bidirectional", "expand", "pooling",
                   "n_estimators", "norm", "filterbank", "frame_length", "bandlimit")


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_params(est: S4Classifier) -> tuple[int, ...]:
    """Validate every constructor argument; returns the number of S4 blocks of each stage."""
    check_training_params(est, auto=("batch_size", "max_epochs"))
    for name in ("d_model", "d_state", "expand", "frame_length"):
        value = getattr(est, name)
        if not _is_int(value) or value < 1:
            raise ValueError(f"{name}={value!r} must be a positive integer")
    try:
        pool = tuple(est.pool)
    except TypeError:
        raise TypeError(f"pool={est.pool!r} must be a sequence of positive integers") from None
    if any(not _is_int(p) or p < 1 for p in pool):
        raise ValueError(f"pool={est.pool!r} must be a sequence of positive integers")
    n_stages = len(pool) + 1
    if _is_int(est.n_layers):
        n_layers = (int(est.n_layers),) * n_stages
    else:
        counts = tuple(est.n_layers) if isinstance(est.n_layers, (Sequence, np.ndarray)) else ()
        if not counts or isinstance(est.n_layers, str) or not all(_is_int(n) for n in counts):
            raise TypeError(f"n_layers={est.n_layers!r} must be an int or a sequence of ints")
        n_layers = tuple(int(n) for n in counts)
        if len(n_layers) != n_stages:
            raise ValueError(
                f"n_layers={est.n_layers!r} gives {len(n_layers)} stages but pool={pool!r} "
                f"needs {n_stages}; pass one count per stage or a single int"
            )
    if any(n < 1 for n in n_layers):
        raise ValueError(f"n_layers={est.n_layers!r} must be positive")
    check_pooling(est.pooling)
    if est.dt_min is not None and not (
        isinstance(est.dt_min, (int, float, np.number)) and 0.0 < est.dt_min <= est.dt_max
    ):
        raise ValueError(f"dt_min={est.dt_min!r} must be None or in (0, dt_max={est.dt_max!r}]")
    if not _is_int(est.n_estimators) or est.n_estimators < 1:
        raise ValueError(f"n_estimators={est.n_estimators!r} must be a positive integer")
    if est.n_estimators > 1 and is_distributed(est):  # members would each start the
        # processes anew: a second ddp_spawn in one process aborted in gloo's teardown
        raise ValueError(f"n_estimators={est.n_estimators} with devices={est.devices!r}, "
                         f"num_nodes={est.num_nodes!r}, strategy={est.strategy!r}: multi-"
                         "process training takes one network; pass n_estimators=1")
    if est.norm not in _NORMS:
        raise ValueError(f"norm={est.norm!r} must be one of {_NORMS}")
    if not isinstance(est.augment, (bool, np.bool_)):
        raise TypeError(f"augment={est.augment!r} must be True or False")
    smoothing = est.label_smoothing
    if not isinstance(smoothing, (int, float, np.number)) or not 0.0 <= smoothing < 1.0:
        raise ValueError(f"label_smoothing={smoothing!r} must be in [0, 1)")
    if est.filterbank is not None and (not _is_int(est.filterbank) or est.filterbank < 1):
        raise ValueError(
            f"filterbank={est.filterbank!r} must be None or a positive number of filters"
        )
    if est.bandlimit is not None and not (
        isinstance(est.bandlimit, (int, float, np.number)) and 0.0 < est.bandlimit <= 1.0
    ):
        raise ValueError(f"bandlimit={est.bandlimit!r} must be None or in (0, 1]")
    if not isinstance(est.warm_start, (bool, np.bool_)):
        raise TypeError(f"warm_start={est.warm_start!r} must be True or False")
    _check_val_size(est)
    return n_layers


def network_params(est: S4Classifier, n_layers: tuple[int, ...]) -> dict[str, Any]:
    """The arguments that shape the networks (`n_layers` as `check_params` returns it, one
    count per stage), to compare a warm start's with those of the fit it continues."""
    return {**{name: getattr(est, name) for name in _NETWORK_PARAMS},
            "n_layers": n_layers, "pool": tuple(int(p) for p in est.pool)}


def check_warm_start(est: S4Classifier, n_layers: tuple[int, ...], n_channels: int,
                     sample_rate: float | None, classes: np.ndarray) -> None:
    """A warm start continues the fitted networks: the same architecture, channels, sample
    rate and classes (labels of the new data among those fitted), else a ValueError says
    what differs."""
    refuse_changed_network(est, network_params(est, n_layers))
    if n_channels != est.n_channels_:
        raise ValueError(f"warm_start=True: X has {n_channels} channels but the classifier "
                         f"was fitted on {est.n_channels_}")
    if sample_rate != est.sample_rate_:
        raise ValueError(f"warm_start=True continues training at the fitted sample rate "
                         f"(sample_rate_={est.sample_rate_!r}), not at sample_rate={sample_rate!r}")
    unknown = sorted(set(classes.tolist()) - set(est.classes_.tolist()))
    if unknown:
        raise ValueError(f"warm_start=True: labels {unknown} of y are not among the fitted "
                         f"classes_ {est.classes_.tolist()}; a new class needs a fit from scratch")


def _check_val_size(est: S4Classifier) -> None:
    value = est.val_size
    if _is_int(value):
        if value < 0:
            raise ValueError(f"val_size={value!r} must be a count >= 0 or a fraction in [0, 1)")
    elif isinstance(value, (float, np.floating)):
        if not 0.0 <= value < 1.0:
            raise ValueError(
                f"val_size={value!r} must be a fraction in [0, 1) or an integer count >= 0"
            )
    else:
        raise TypeError(f"val_size={value!r} must be a fraction in [0, 1) or an integer count")


def check_sample_rate(sample_rate: float | None) -> float | None:
    """The sample rate in Hz as a float, or None; anything else is refused."""
    if sample_rate is None:
        return None
    if (
        not isinstance(sample_rate, (int, float, np.number))
        or isinstance(sample_rate, bool)
        or not np.isfinite(sample_rate)
        or sample_rate <= 0
    ):
        raise ValueError(
            f"sample_rate={sample_rate!r} must be a positive number in Hz, e.g. 16000 for 16 kHz"
        )
    return float(sample_rate)
