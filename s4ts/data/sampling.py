"""The order training examples are drawn in, per epoch, split between distributed processes.

Every process draws the same random order (from the seed and the epoch number, which
Lightning passes to `set_epoch`), and process r of W takes positions r, r + W, r + 2W, ...:
the shards are disjoint and together are the epoch's draw. The process group is read when
iterating, not when the sampler is built, so a sampler built in the calling process works
in the processes Lightning spawns.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
import torch.distributed as dist
from torch.utils.data import Sampler

__all__ = ["EpochSampler", "process_rank"]


def process_rank() -> tuple[int, int]:
    """(rank, world size) of this process in the torch.distributed group; (0, 1) without one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class EpochSampler(Sampler[int]):
    """`num_samples` of `n` examples per epoch in a random order (each at most once while
    num_samples <= n, cycling through fresh permutations beyond), this process' shard of it.

    Shards have equal lengths (the draw is extended by its own first positions when it does
    not divide), since distributed training steps all processes together."""

    def __init__(self, n: int, num_samples: int | None = None, seed: int = 0) -> None:
        if n < 1:
            raise ValueError(f"no examples to sample from (n={n})")
        self.n = n
        self.num_samples = n if num_samples is None else num_samples
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Draw epoch `epoch`'s order next (Lightning calls this before every epoch)."""
        self.epoch = epoch

    def epoch_order(self) -> torch.Tensor:
        """All processes' draw for the current epoch: (num_samples,) example indices."""
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        rounds = math.ceil(self.num_samples / self.n)
        order = torch.cat([torch.randperm(self.n, generator=generator) for _ in range(rounds)])
        return order[: self.num_samples]

    def __iter__(self) -> Iterator[int]:
        rank, world = process_rank()
        order = self.epoch_order()
        per_process = math.ceil(len(order) / world)
        padded = torch.cat([order, order[: per_process * world - len(order)]])
        return iter(padded[rank::world].tolist())

    def __len__(self) -> int:
        return math.ceil(self.num_samples / process_rank()[1])
