"""Timing for the kernel benchmarks (benchmarks/kernel_speed.py, benchmarks/authors_s4.py)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

# The layer both kernel benchmarks time: batch, channels H, state size N; one seed for inputs.
BATCH, H, N = 8, 64, 64
SEED = 0


def interleaved_times(
    runs: dict[str, Callable[[], None]], device: str, repeats: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Median seconds of each closure in `runs`, and each one's median ratio to the first
    one's time in the same round. Rounds interleave the closures (after one warm-up call
    each), so drift in the machine's speed moves numerator and denominator alike."""
    for run in runs.values():
        run()
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(repeats):
        for kind, run in runs.items():
            if device == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            run()
            if device == "cuda":
                torch.cuda.synchronize()
            times[kind].append(time.perf_counter() - t0)
    base = times[next(iter(runs))]
    ratios = {k: statistics.median(t / b for t, b in zip(times[k], base)) for k in runs}
    return {k: statistics.median(v) for k, v in times.items()}, ratios


def cuda_peak_bytes(run: Callable[[], None]) -> float:
    """Peak CUDA memory allocated during one call of `run`, above what was allocated before."""
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    run()
    torch.cuda.synchronize()
    return float(torch.cuda.max_memory_allocated() - base)
