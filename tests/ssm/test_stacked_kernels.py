"""Short-kernel Vandermonde (every power held) and the S4D kernels of several layers in one pass."""

import pytest
import torch

from s4ts.nn.backbone import S4Backbone
from s4ts.ssm import vandermonde
from s4ts.ssm.kernel import DiagKernel, stacked_diag_kernels


@pytest.fixture(autouse=True)
def torch_backend(monkeypatch):
    monkeypatch.setenv("S4TS_CAUCHY_BACKEND", "torch")


def _inputs(H=3, C=2, N=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(H, C, N, dtype=torch.complex128, generator=g).requires_grad_()
    real = -torch.rand(H, N, dtype=torch.float64, generator=g) * 0.2
    x = torch.complex(real, torch.randn(H, N, dtype=torch.float64, generator=g)).requires_grad_()
    return v, x


@pytest.mark.parametrize("L", [1, 7, 64, 100])
def test_direct_and_blocked_vandermonde_agree_with_their_gradients(monkeypatch, L):
    v, x = _inputs()
    weights = torch.randn(3, 2, L, dtype=torch.float64)
    results = {}
    for name, limit in (("direct", 2**40), ("blocked", 0)):
        monkeypatch.setattr(vandermonde, "_DIRECT_POWERS", limit)
        y = vandermonde.vandermonde(v, x, L)
        results[name] = (y, *torch.autograd.grad((y * weights).sum(), (v, x)))
    for direct, blocked in zip(results["direct"], results["blocked"]):
        assert torch.allclose(direct, blocked, atol=1e-10)


def test_direct_vandermonde_gradcheck(monkeypatch):
    monkeypatch.setattr(vandermonde, "_DIRECT_POWERS", 2**40)
    v, x = _inputs(H=2, C=1, N=3, seed=1)
    assert torch.autograd.gradcheck(lambda v, x: vandermonde.vandermonde(v, x, 11), (v, x))


@pytest.mark.parametrize("rate", [1.0, 2.5, "per-row"])
@pytest.mark.parametrize("bandlimit", [None, 0.5])
def test_stacked_kernels_equal_each_kernel_alone(rate, bandlimit):
    torch.manual_seed(0)
    kernels = [DiagKernel(3, 8, channels=2, init="legs", bandlimit=bandlimit).double() for _ in range(3)]
    if rate == "per-row":
        rate = torch.tensor([1.0, 3.0], dtype=torch.float64)
    stacked = stacked_diag_kernels(kernels, 40, rate)
    for k, K in zip(kernels, stacked):
        assert torch.allclose(K, k(40, rate), atol=1e-12)
    # Gradients reach every layer's parameters as they do from its own kernel.
    sum(K.pow(2).sum() for K in stacked).backward()
    stacked_grads = [p.grad.clone() for k in kernels for p in k.parameters()]
    for k in kernels:
        k.zero_grad()
        k(40, rate).pow(2).sum().backward()
    alone = [p.grad for k in kernels for p in k.parameters()]
    assert all(torch.allclose(a, b, atol=1e-10) for a, b in zip(stacked_grads, alone))


def test_kernels_that_differ_in_shape_are_refused():
    with pytest.raises(ValueError, match="must share"):
        stacked_diag_kernels([DiagKernel(2, 8), DiagKernel(2, 16)], 10)


def test_backbone_output_is_the_same_with_per_block_kernels(monkeypatch):
    torch.manual_seed(0)
    net = S4Backbone(3, 2, d_model=8, n_layers=3, d_state=8, mode="diag", dropout=0.0).double()
    x = torch.randn(4, 30, 3, dtype=torch.float64)
    stacked = net(x, rate=1.5)
    monkeypatch.setattr(S4Backbone, "_kernels", lambda self, L, rate: [None] * len(self.blocks))
    assert torch.allclose(stacked, net(x, rate=1.5), atol=1e-12)


@pytest.mark.parametrize("limit", [2**40, 0])  # the direct and the blocked Vandermonde
def test_fast_decaying_modes_leave_no_subnormal_numbers(monkeypatch, limit):
    """x86 arithmetic on subnormal floats is many times slower; decayed modes must give
    normal numbers or zero, and the kernel must still match a float64 reference."""
    monkeypatch.setattr(vandermonde, "_DIRECT_POWERS", limit)
    v, x = _inputs(H=4, C=2, N=6, seed=2)
    x = torch.complex(x.real * 100 - 1.0, x.imag)  # modes decaying by up to e^-20 a step
    reference = vandermonde.vandermonde(v, x, 64)
    v32, x32 = v.detach().to(torch.complex64), x.detach().to(torch.complex64)
    fine, coarse = vandermonde.block_powers(x32, 64)
    powers = torch.cat([fine.flatten(), coarse.flatten()])
    tiny = torch.finfo(torch.float32).tiny
    for part in (powers.real, powers.imag, vandermonde._powers(x32, 64)):
        assert not ((part != 0) & (part.abs() < tiny)).any()
    assert torch.allclose(vandermonde.vandermonde(v32, x32, 64).double(), reference, atol=1e-5)


def test_blocked_vandermonde_gradcheck(monkeypatch):
    monkeypatch.setattr(vandermonde, "_DIRECT_POWERS", 0)
    v, x = _inputs(H=2, C=2, N=3, seed=3)
    # 11 steps in blocks of 4: the last block is cut, its padding must not leak into the gradient.
    assert torch.autograd.gradcheck(lambda v, x: vandermonde.vandermonde(v, x, 11), (v, x))
