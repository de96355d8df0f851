"""The DPLR kernel alone, forward + backward, with the fused Woodbury step ("new") and with
the v4 path ("old": the step in complex torch ops), taking turns in the same rounds.

    .venv/bin/python benchmarks/results/kernel_speed_v5/woodbury_ab.py
"""

import torch

from s4ts.bench.timing import interleaved_times
from s4ts.ssm import kernel
from s4ts.ssm.kernel import DPLRKernel

fused = kernel.fused_dplr_spectrum


def case(use_fused: bool, L: int):
    torch.manual_seed(0)
    k, g = DPLRKernel(64, 64, channels=1), torch.randn(1, 64, L)

    def run():
        kernel.fused_dplr_spectrum = fused if use_fused else (lambda *args, **kwargs: None)
        (k(L) * g).sum().backward()

    return run


for L in (1024, 4096, 16384, 1024, 4096):
    times, ratios = interleaved_times({"old": case(False, L), "new": case(True, L)}, "cpu", 40 if L < 16384 else 10)
    print(L, {k: round(1e3 * v, 2) for k, v in times.items()}, "new/old", round(ratios["new"], 3), flush=True)
