"""The DPLR kernel alone, forward + backward, with and without the fused Woodbury step (same rounds)."""
import sys, torch
from s4ts.ssm import kernel as km
from s4ts.ssm.kernel import DPLRKernel
from s4ts.bench.timing import interleaved_times
fused = km.fused_dplr_spectrum
def case(flag, L):
    torch.manual_seed(0)
    k = DPLRKernel(64, 64, channels=1); g = torch.randn(1, 64, L)
    def f():
        km.fused_dplr_spectrum = fused if flag else (lambda *a, **kw: None)
        (k(L) * g).sum().backward()
    return f
for L in (1024, 4096, 16384, 1024, 4096):
    times, ratios = interleaved_times({"old": case(False, L), "new": case(True, L)}, "cpu", 40 if L < 16384 else 10)
    print(L, {k: round(1e3 * v, 2) for k, v in times.items()}, "new/old", round(ratios["new"], 3), flush=True)
