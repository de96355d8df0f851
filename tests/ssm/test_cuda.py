"""The kernels on a GPU equal the CPU reference (both backends where installed)."""

import pytest
import torch

from s4ts.nn import S4Backbone
from s4ts.ssm._backend import keops_available
from s4ts.ssm.kernel import DiagKernel, DPLRKernel

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
BACKENDS = ["torch"] + (["keops"] if keops_available() else [])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cls", [DiagKernel, DPLRKernel])
def test_gpu_kernel_and_gradients_equal_cpu(cls, backend, monkeypatch):
    kernel = cls(8, 16, channels=2).double()
    results = {}
    for device in ("cpu", "cuda"):
        monkeypatch.setenv("S4TS_CAUCHY_BACKEND", "torch" if device == "cpu" else backend)
        k = kernel.to(device)
        k.zero_grad()
        K = k(1000, rate=1.7)
        (K * torch.linspace(0, 1, 1000, dtype=K.dtype, device=device)).sum().backward()
        results[device] = [K.detach().cpu()] + [p.grad.cpu() for p in k.parameters()]
    for a, b in zip(results["cuda"], results["cpu"]):
        assert torch.allclose(a, b, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("mode", ["diag", "dplr"])
def test_gpu_convolution_equals_recurrence(mode):
    net = S4Backbone(3, 2, d_model=16, n_layers=2, d_state=16, mode=mode, dropout=0.0).cuda().eval()
    x = torch.randn(4, 300, 3, device="cuda")
    with torch.no_grad():
        y = net(x)
        state, steps = net.default_state(4), []
        for t in range(300):
            out, state = net.step(x[:, t], state)
            steps.append(out)
    assert ((torch.stack(steps, 1) - y).abs().max() / y.abs().max()).item() <= 1e-4


@pytest.mark.parametrize("cls", [DiagKernel, DPLRKernel])
def test_gpu_long_sequence_is_finite(cls):
    kernel = cls(64, 64).cuda()
    K = kernel(65536)
    K.pow(2).sum().backward()
    assert torch.isfinite(K).all() and all(torch.isfinite(p.grad).all() for p in kernel.parameters())
