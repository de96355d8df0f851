"""Multi-process training settings shared by both estimators: Lightning's devices, num_nodes, strategy.

Which strategies fit a scikit-learn `fit` call (the estimator in the calling process ends up
holding the trained weights):
- "auto" with devices=1, num_nodes=1: one process (the default);
- "ddp_spawn", "ddp_fork", "ddp_notebook": Lightning starts the processes; the calling
  process gets rank 0's weights back when they finish;
- "ddp": the calling process is rank 0 and Lightning starts the others by running the script
  again (guard it with `if __name__ == "__main__":`), or every process is started by
  torchrun / SLURM and each holds the same trained weights.
Sharded strategies (FSDP, DeepSpeed) leave each process a part of the weights, so they are
refused.
"""

from __future__ import annotations

import atexit
import functools

import lightning as L
import numpy as np
import torch
from lightning.fabric.utilities.rank_zero import rank_zero_only
from lightning.pytorch.strategies import DDPStrategy

__all__ = ["STRATEGIES", "ProcessGroupCleanup", "check_distributed_params", "is_distributed", "is_global_zero"]

STRATEGIES = ("auto", "ddp", "ddp_spawn", "ddp_fork", "ddp_notebook")
_SUFFIXES = ("", "_find_unused_parameters_true", "_find_unused_parameters_false")


def _is_positive_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1


def check_distributed_params(est: object) -> None:
    """Validate `devices`, `num_nodes` and `strategy`; errors name the parameter."""
    devices, num_nodes, strategy = est.devices, est.num_nodes, est.strategy
    if not (devices == "auto" or _is_positive_int(devices) or (
            isinstance(devices, (list, tuple)) and devices and all(_is_positive_int(d) or d == 0 for d in devices))):
        raise ValueError(f"devices={devices!r} must be a positive integer, 'auto' or a list of device indices")
    if not _is_positive_int(num_nodes):
        raise ValueError(f"num_nodes={num_nodes!r} must be a positive integer")
    if isinstance(strategy, DDPStrategy):
        return
    allowed = [name + suffix for name in STRATEGIES[1:] for suffix in _SUFFIXES]
    if not isinstance(strategy, str) or strategy not in ("auto", *allowed):
        raise ValueError(
            f"strategy={strategy!r} is not one the estimator can train with: use 'auto', 'ddp', "
            f"'ddp_spawn', 'ddp_fork', 'ddp_notebook' (or a lightning DDPStrategy). Sharded "
            f"strategies such as 'fsdp' and 'deepspeed' leave each process a part of the weights, "
            f"which a fitted estimator cannot hold"
        )


def is_distributed(est: object) -> bool:
    """Whether a fit of `est` may run in several processes (any setting beyond one device)."""
    return not (est.strategy == "auto" and est.devices == 1 and est.num_nodes == 1)


def is_global_zero() -> bool:
    """Whether this process is rank 0 (always, outside distributed training): the one that
    writes files."""
    return getattr(rank_zero_only, "rank", 0) == 0


class ProcessGroupCleanup(L.Callback):
    """Destroy the process group when a training process exits.

    Lightning registers that at exit for NCCL only. A gloo group still alive at interpreter
    shutdown can abort its process (SIGABRT, "terminate called without an active exception")
    while gloo's threads hold tensors; spawned CPU fits failed that way now and then."""

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if trainer.world_size > 1:
            _destroy_group_at_exit()


@functools.cache
def _destroy_group_at_exit() -> None:
    """Register, once per process, the group's destruction while the interpreter is intact."""
    atexit.register(_destroy_group)


def _destroy_group() -> None:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
