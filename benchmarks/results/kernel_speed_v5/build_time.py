"""First and second DPLR layer call (L = 1,024) in a fresh process: the one-time build of the compiled loops. Argument: old (the Woodbury step in complex torch ops) or new (fused)."""
import sys, time, torch
from s4ts.ssm import kernel as km
if sys.argv[1] == "old": km.fused_dplr_spectrum = lambda *a, **kw: None
from s4ts.nn import S4Layer
t = time.perf_counter()
layer = S4Layer(64, d_state=64, mode="dplr"); u = torch.randn(8, 64, 1024)
layer(u).sum().backward()
t1 = time.perf_counter(); layer(u).sum().backward(); t2 = time.perf_counter()
print(sys.argv[1], "first call s", round(t1 - t, 1), "second ms", round(1e3 * (t2 - t1), 1))
