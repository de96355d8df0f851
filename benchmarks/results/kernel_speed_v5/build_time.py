"""First and second DPLR layer call (L = 1,024) in a fresh process: the one-time build of the
compiled loops. Argument: "old" (the Woodbury step in complex torch ops, as v4) or "new" (fused).

    TORCHINDUCTOR_CACHE_DIR=/tmp/ic_new .venv/bin/python benchmarks/results/kernel_speed_v5/build_time.py new
"""

import sys
import time

import torch

from s4ts.nn import S4Layer
from s4ts.ssm import kernel

if sys.argv[1] == "old":
    kernel.fused_dplr_spectrum = lambda *args, **kwargs: None  # the v4 path

start = time.perf_counter()
layer = S4Layer(64, d_state=64, mode="dplr")
u = torch.randn(8, 64, 1024)
layer(u).sum().backward()
first = time.perf_counter()
layer(u).sum().backward()
second = time.perf_counter()
print(sys.argv[1], "first call s", round(first - start, 1), "second ms", round(1e3 * (second - first), 1))
