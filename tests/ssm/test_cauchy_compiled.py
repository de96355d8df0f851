"""The compiled (torch.compile) Cauchy backend: same sums and gradients as the torch backend,
finite at long L, and a clear fallback where compiling fails."""

import warnings

import pytest
import torch

from s4ts.ssm import cauchy_compiled
from s4ts.ssm.cauchy import cauchy_conjugate
from s4ts.ssm.cauchy_compiled import (
    CauchyCompiled,
    CompiledUnavailable,
    DPLRSpectrumCompiled,
    cauchy_conjugate_compiled,
)
from s4ts.ssm.kernel import DPLRKernel


def _pair_inputs(dtype=torch.float64, H=2, K=3, N2=4, F=9):
    cdtype = torch.complex128 if dtype == torch.float64 else torch.complex64
    v = torch.randn(H, K, N2, dtype=cdtype, requires_grad=True)
    w = torch.complex(-torch.rand(H, N2, dtype=dtype), 3 * torch.randn(H, N2, dtype=dtype)).requires_grad_()
    y = 4 * torch.randn(H, F, dtype=dtype)
    return v, y, w


def test_compiled_gradients_pass_gradcheck():
    # values and gradients against the full-basis sum: test_kernel.py, backend "compiled"
    _, y, w = _pair_inputs()
    a, b = (torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True) for _ in range(2))
    wr, wi = w.detach().real.clone().requires_grad_(), w.detach().imag.clone().requires_grad_()
    assert torch.autograd.gradcheck(CauchyCompiled.apply, (a, b, wr, wi, y))


def test_fused_spectrum_gradients_pass_gradcheck():
    # without the Nyquist term (odd L); test_kernel.py's gradcheck at an even L covers it.
    # Two output channels: K = 6 rows; H = 2, N/2 = 4, F = 5 (no size shared with K)
    _, y, w = _pair_inputs(F=5)
    a, b = (torch.randn(2, 6, 4, dtype=torch.float64, requires_grad=True) for _ in range(2))
    wr, wi = w.detach().real.clone().requires_grad_(), w.detach().imag.clone().requires_grad_()
    f_re, f_im = torch.randn(5, dtype=torch.float64), torch.randn(5, dtype=torch.float64)
    assert torch.autograd.gradcheck(
        lambda *args: DPLRSpectrumCompiled.apply(*args, None, 2), (a, b, wr, wi, y, f_re, f_im)
    )


@pytest.mark.parametrize("rate", [1.0, 1.7])
def test_dplr_kernel_is_the_same_on_both_backends(monkeypatch, rate):
    # channels=1: K = 4 rows, the graph the long-length test below uses too (a compile is
    # seconds); H = 6 and N/2 = 8 share no size with each other or with L/2 = 500.
    kernel = DPLRKernel(6, 16, channels=1)
    with torch.no_grad():  # away from the structured init
        for p in (kernel.P, kernel.B, kernel.imag, kernel.log_neg_real):
            p.add_(0.05 * torch.randn_like(p))
    weights = torch.randn(1, 6, 1000)
    results = {}
    for backend in ("torch", "compiled"):
        monkeypatch.setenv("S4TS_CAUCHY_BACKEND", backend)
        kernel.zero_grad()
        K = kernel(1000, rate=rate)  # (C H L)
        (K * weights).sum().backward()
        results[backend] = (K.detach(), [p.grad.clone() for p in kernel.parameters()])
    K_torch, grads_torch = results["torch"]
    K_comp, grads_comp = results["compiled"]
    assert ((K_comp - K_torch).norm() / K_torch.norm()) < 1e-5
    for a, b in zip(grads_comp, grads_torch):
        assert ((a - b).norm() / b.norm().clamp_min(1e-12)) < 1e-4


def test_long_lengths_stay_finite(monkeypatch):
    monkeypatch.setenv("S4TS_CAUCHY_BACKEND", "compiled")
    kernel = DPLRKernel(3, 64, dt_min=1e-3, dt_max=1e-1)  # H = 3: no size equal to K = 4
    K = kernel(65536)
    K.pow(2).sum().backward()
    assert torch.isfinite(K).all()
    assert all(torch.isfinite(p.grad).all() for p in kernel.parameters())


def test_a_failed_compile_falls_back_to_torch_with_one_warning(monkeypatch):
    def no_compiler(*args):
        raise RuntimeError("no C++ compiler found")

    monkeypatch.setattr(cauchy_compiled, "_compiled", lambda: (no_compiler,) * 3)
    monkeypatch.setattr(cauchy_compiled, "_failure", None)
    v, y, w = _pair_inputs()
    with pytest.raises(CompiledUnavailable, match="no C\\+\\+ compiler"):
        cauchy_conjugate_compiled(v, y, w)
    with pytest.warns(RuntimeWarning, match="S4TS_CAUCHY_BACKEND=torch") as record:
        out = cauchy_conjugate(v, y, w, backend="compiled")
    assert "no C++ compiler found" in str(record[0].message)
    assert torch.equal(out, cauchy_conjugate(v, y, w, backend="torch"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once: later calls go to torch quietly
        cauchy_conjugate(v, y, w, backend="compiled")


def test_a_failed_compile_of_the_fused_spectrum_falls_back_too(monkeypatch):
    def no_compiler(*args):
        raise RuntimeError("no C++ compiler found")

    monkeypatch.setattr(cauchy_compiled, "_compiled", lambda: (no_compiler,) * 3)
    monkeypatch.setattr(cauchy_compiled, "_failure", None)
    kernel = DPLRKernel(3, 8)
    monkeypatch.setenv("S4TS_CAUCHY_BACKEND", "compiled")
    with pytest.warns(RuntimeWarning, match="no C\\+\\+ compiler found"):
        K = kernel(20)
    monkeypatch.setenv("S4TS_CAUCHY_BACKEND", "torch")
    assert torch.equal(K, kernel(20))


def test_one_build_serves_every_length(monkeypatch):
    # dynamic shapes: a new length must not build new loops (each build takes seconds)
    from torch._dynamo.utils import counters

    monkeypatch.setenv("S4TS_CAUCHY_BACKEND", "compiled")
    kernel = DPLRKernel(6, 16, channels=1)  # training: each longer L is computed anew

    def graphs_after(L):
        kernel(L).sum().backward()
        return counters["stats"]["unique_graphs"]

    built = graphs_after(600)
    assert built > 0
    assert graphs_after(1000) == built and graphs_after(1600) == built


def test_a_failed_build_of_the_gradient_still_gives_it(monkeypatch):
    # forward builds, backward does not: that call's gradient from the same expressions
    # uncompiled, one warning, later calls on the torch backend
    def no_compiler(*args):
        raise RuntimeError("backward graph failed")

    fns = cauchy_compiled
    monkeypatch.setattr(fns, "_compiled", lambda: (fns._forward, no_compiler, fns._spectrum_forward, no_compiler))
    monkeypatch.setattr(fns, "_failure", None)
    kernel = DPLRKernel(3, 8).double()
    weights = torch.randn(1, 3, 20, dtype=torch.float64)

    def grads(backend):
        monkeypatch.setenv("S4TS_CAUCHY_BACKEND", backend)
        kernel.zero_grad()
        (kernel(20) * weights).sum().backward()
        return [p.grad.clone() for p in kernel.parameters()]

    with pytest.warns(RuntimeWarning, match="backward graph failed"):
        fallback = grads("compiled")
    assert not fns.compiled_usable()
    for a, b in zip(fallback, grads("torch")):
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-12)


def test_calls_without_a_gradient_build_nothing(monkeypatch):
    # forecasts and validation (no gradient) take the torch path: a process that only
    # predicts never waits for a build. Three output channels: a graph no other test builds.
    from torch._dynamo.utils import counters

    monkeypatch.setenv("S4TS_CAUCHY_BACKEND", "compiled")
    kernel = DPLRKernel(6, 16, channels=3)
    built = counters["stats"]["unique_graphs"]
    with torch.no_grad():
        K = kernel(300)
    assert counters["stats"]["unique_graphs"] == built
    monkeypatch.setenv("S4TS_CAUCHY_BACKEND", "torch")
    with torch.no_grad():
        assert torch.equal(K, kernel(300))
