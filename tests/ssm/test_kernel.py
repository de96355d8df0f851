"""Kernels against dense references: materialise A, discretise, build K_l = C Ā^l B̄ by powers."""

import copy
import math

import pytest
import torch

from s4ts.ssm import discretize, hippo
from s4ts.ssm._backend import keops_available
from s4ts.ssm.cauchy import CauchyConjugate, cauchy_conjugate
from s4ts.ssm.kernel import DiagKernel, DPLRKernel

torch.set_default_dtype(torch.float32)


def powers_kernel(dA, dB, C, L):
    """K (C, H, L) from dense Ā (H, N, N), B̄ (H, N), C (C, H, N) by repeated products."""
    out, x = [], dB
    for _ in range(L):
        out.append(torch.einsum("chn,hn->ch", C, x))
        x = torch.einsum("hnm,hm->hn", dA, x)
    return torch.stack(out, -1)


def rel_err(a, b):
    return ((a - b).norm() / b.norm()).item()


@pytest.fixture(autouse=True)
def torch_backend(monkeypatch):
    monkeypatch.setenv("S4TS_CAUCHY_BACKEND", "torch")


@pytest.mark.parametrize("measure", ["legs", "legt", "fout"])
@pytest.mark.parametrize("N", [4, 16])
@pytest.mark.parametrize("L", [1, 17, 256])
def test_dplr_kernel_at_init_matches_the_real_hippo_system(measure, N, L):
    """At init the DPLR kernel is the HiPPO system itself, written in its original real basis."""
    k = DPLRKernel(2, N, channels=2, init=measure, dt_min=0.01, dt_max=0.3).double()
    A, B = hippo.transition(measure, N)
    rep = hippo.nplr(measure, N)
    if measure != "legs":
        # Λ on the imaginary axis is stored with Re Λ = -1e-4 (stability); shift A alike.
        A = A - 1e-4 * torch.eye(N, dtype=torch.float64)
    C = torch.view_as_complex(k.C)  # (C H N/2) in the eigenbasis
    C_orig = 2 * (C @ rep.V.conj().T).real  # (C H N): y = Re(C_full V_full^* x)
    dt = k.dt()
    dA, dB = discretize.bilinear(A.expand(2, N, N), B.expand(2, N), dt)
    assert rel_err(k(L), powers_kernel(dA, dB, C_orig, L)) < 1e-6


@pytest.mark.parametrize("backend", ["torch", "compiled"])
@pytest.mark.parametrize("measure", ["legs", "legt"])
@pytest.mark.parametrize(("rate", "L"), [(1.0, 200), (2.5, 200), (1.0, 201)])
def test_dplr_kernel_with_trained_parameters_matches_dense(monkeypatch, backend, measure, rate, L):
    # compiled: the rank-1 spectrum in fused loops (with the Nyquist term at even L)
    monkeypatch.setenv("S4TS_CAUCHY_BACKEND", backend)
    k = DPLRKernel(3, 8, channels=2, init=measure).double()
    with torch.no_grad():  # move away from the structured init
        for p in (k.P, k.B, k.imag, k.log_neg_real, k.log_dt):
            p.add_(0.1 * torch.randn_like(p))
    A, B, C = k.dense()
    dA, dB = discretize.bilinear(A, B, k.dt(rate).to(A.dtype))
    ref = powers_kernel(dA, dB, C, L).real
    assert rel_err(k(L, rate=rate), ref) < 1e-6


@pytest.mark.parametrize("init", ["diag-lin", "diag-inv", "diag-legs"])
@pytest.mark.parametrize("disc", ["zoh", "bilinear"])
@pytest.mark.parametrize("L", [1, 100, 256])
def test_diag_kernel_matches_dense(init, disc, L):
    k = DiagKernel(3, 16, channels=2, init=init, disc=disc).double()
    Lambda = torch.cat([k.Lambda, k.Lambda.conj()], -1)  # (H N)
    B = torch.view_as_complex(k.B)
    C = torch.view_as_complex(k.C)
    rule = discretize.zoh if disc == "zoh" else discretize.bilinear
    dA, dB = rule(torch.diag_embed(Lambda), torch.cat([B, B.conj()], -1), k.dt(1.5).to(Lambda.dtype))
    ref = powers_kernel(dA, dB, torch.cat([C, C.conj()], -1), L).real
    assert rel_err(k(L, rate=1.5), ref) < 1e-6


def test_per_row_rate_gives_one_kernel_per_row():
    for kernel in (DiagKernel(2, 8), DPLRKernel(2, 8)):
        kernel = kernel.double()
        K = kernel(50, rate=torch.tensor([1.0, 2.0, 1.0], dtype=torch.float64))
        assert K.shape == (3, 1, 2, 50)
        assert torch.allclose(K[1], kernel(50, rate=2.0)) and torch.allclose(K[2], kernel(50))


def _kernel_gradcheck(kernel, L):
    names = [n for n, _ in kernel.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_() for p in kernel.parameters())

    def fn(*ps):
        return torch.func.functional_call(kernel, dict(zip(names, ps)), (L,))

    assert torch.autograd.gradcheck(fn, params, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("backend", ["torch", "compiled"])
def test_dplr_kernel_gradients(monkeypatch, backend):
    monkeypatch.setenv("S4TS_CAUCHY_BACKEND", backend)
    _kernel_gradcheck(DPLRKernel(3, 8, channels=2).double(), 14)  # the dense test's compiled graph


def test_diag_kernel_gradients():
    _kernel_gradcheck(DiagKernel(2, 4, channels=2).double(), 13)


@pytest.mark.parametrize(("backend", "saved"), [
    ("torch", 0), ("torch", 2**22),  # backward recomputes, or keeps, the reciprocals
    ("compiled", 0),  # fused loops, nothing kept (tests/ssm/test_cauchy_compiled.py)
])
def test_conjugate_cauchy_is_the_full_sum_over_both_halves(monkeypatch, backend, saved):
    monkeypatch.setattr("s4ts.ssm.cauchy._CHUNK_ELEMENTS", 16)  # force several chunks
    monkeypatch.setattr("s4ts.ssm.cauchy._SAVED_ELEMENTS", saved)
    v = torch.randn(2, 3, 4, dtype=torch.complex128, requires_grad=True)
    w = torch.complex(-torch.rand(2, 4, dtype=torch.float64), 3 * torch.randn(2, 4, dtype=torch.float64))
    w.requires_grad_()
    y = 4 * torch.randn(2, 9, dtype=torch.float64)
    both = lambda x: torch.cat([x, x.conj()], -1)  # the full basis
    iy = torch.complex(torch.zeros_like(y), y)
    full = (both(v)[:, :, :, None] / (iy[:, None, None, :] - both(w)[:, None, :, None])).sum(2)  # (H K L)
    pairs = cauchy_conjugate(v, y, w, backend=backend)
    assert torch.allclose(pairs, full, atol=1e-12)
    weights = torch.randn(2, 3, 9, dtype=torch.complex128)
    expected = torch.autograd.grad((full * weights).real.sum(), (v, w))
    got = torch.autograd.grad((pairs * weights).real.sum(), (v, w))
    # the compiled backend's gradients are other formulas of the same sums
    atol = 1e-12 if backend == "torch" else 1e-10
    assert all(torch.allclose(a, b, atol=atol) for a, b in zip(got, expected))
    coeff = torch.randn(2, 6, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(CauchyConjugate.apply, (coeff, y, w))


@pytest.mark.parametrize("cls", [DiagKernel, DPLRKernel])
def test_long_sequences_stay_finite(cls):
    kernel = cls(4, 64, dt_min=1e-3, dt_max=1e-1)
    K = kernel(65536)
    K.pow(2).sum().backward()
    assert torch.isfinite(K).all()
    assert all(torch.isfinite(p.grad).all() for p in kernel.parameters())


def test_bad_length_is_rejected():
    with pytest.raises(ValueError, match="positive integer"):
        DiagKernel(2, 4)(0)


@pytest.mark.skipif(not keops_available(), reason="pykeops not installed (pip install 's4ts[keops]')")
@pytest.mark.parametrize("cls", [DiagKernel, DPLRKernel])
def test_keops_backend_equals_torch_backend(cls, monkeypatch):
    kernel = cls(3, 8, channels=2).double()
    grads = {}
    for backend in ("torch", "keops"):
        monkeypatch.setenv("S4TS_CAUCHY_BACKEND", backend)
        kernel.zero_grad()
        K = kernel(64, rate=1.3)
        (K * torch.linspace(0, 1, 64, dtype=torch.float64)).sum().backward()
        grads[backend] = (K.detach(), [p.grad.clone() for p in kernel.parameters()])
    assert torch.allclose(grads["keops"][0], grads["torch"][0], atol=1e-10)
    for a, b in zip(grads["keops"][1], grads["torch"][1]):
        assert torch.allclose(a, b, atol=1e-8)


def test_bandlimit_cuts_modes_by_frequency_not_by_grid():
    torch.manual_seed(0)
    k = DiagKernel(4, 32, channels=2, dt_min=0.05, dt_max=0.5, bandlimit=0.5).double()
    full = DiagKernel(4, 32, channels=2, dt_min=0.05, dt_max=0.5).double()
    full.load_state_dict(k.state_dict())
    turn = k.Lambda.imag.abs() * k.dt()[:, None]  # (H N/2) radians per training step
    assert (turn > math.pi / 2).any() and (turn <= math.pi / 2).any()

    def without(cut):  # the unlimited kernel with the modes in `cut` (H N/2) removed
        C = torch.view_as_complex(full.C).clone()
        C[:, cut] = 0
        ref = copy.deepcopy(full)
        ref.C.data = torch.view_as_real(C)
        return ref

    # Up to half the training rate only the training cut applies: the same modes at rate 1 and 2.
    for rate in (0.5, 1.0, 2.0):
        assert rel_err(k(64, rate=rate), without(turn > math.pi / 2)(64, rate=rate)) < 1e-12
    # Coarser still, modes past the new Nyquist frequency go too (cut, never aliased).
    assert rel_err(k(64, rate=4.0), without(turn * 4.0 > math.pi)(64, rate=4.0)) < 1e-12
    with pytest.raises(ValueError, match="bandlimit"):
        DiagKernel(2, 4, bandlimit=1.5)


def test_bandlimited_recurrence_matches_convolution():
    torch.manual_seed(0)
    k = DiagKernel(3, 16, channels=2, dt_min=0.1, dt_max=1.0, bandlimit=0.5).double()
    u = torch.randn(2, 3, 40, dtype=torch.float64)
    for rate in (1.0, 3.0, torch.tensor([1.0, 3.0], dtype=torch.float64)):
        K = k(40, rate=rate)  # (C H L) or (B C H L)
        K = K.expand(2, *K.shape[-3:])
        conv = torch.stack([
            torch.stack([(K[b, :, :, : t + 1].flip(-1) * u[b, None, :, : t + 1]).sum(-1)
                         for t in range(40)], dim=-1) for b in range(2)
        ])  # (B C H L)
        state, mats = k.default_state(2), k.step_matrices(rate)
        steps = []
        for t in range(40):
            y, state = k.step(u[..., t], state, mats)
            steps.append(y)
        assert rel_err(torch.stack(steps, dim=-1), conv) < 1e-9
