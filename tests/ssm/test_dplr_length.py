"""DPLRKernel stores C~ = C (I - Ā^L0) for its training length L0: same kernels, exact elsewhere."""

import pytest
import torch

from s4ts.ssm import discretize
from s4ts.ssm.kernel import DPLRKernel


@pytest.fixture(autouse=True)
def torch_backend(monkeypatch):
    monkeypatch.setenv("S4TS_CAUCHY_BACKEND", "torch")


def trained_kernel(channels: int = 2) -> DPLRKernel:
    """A double-precision kernel moved away from its structured init, in eval mode."""
    torch.manual_seed(0)
    k = DPLRKernel(3, 8, channels=channels).double()
    with torch.no_grad():
        for p in (k.P, k.B, k.imag, k.log_neg_real, k.log_dt, k.C):
            p.add_(0.1 * torch.randn_like(p))
    return k.eval()


def dense_kernel(k: DPLRKernel, L: int, rate: float = 1.0) -> torch.Tensor:
    """K (C, H, L) = Re(C Ā^l B̄) by repeated products of the dense system."""
    A, B, C = k.dense()
    dA, dB = discretize.bilinear(A, B, k.dt(rate).to(A.dtype))
    out, x = [], dB
    for _ in range(L):
        out.append(torch.einsum("chn,hn->ch", C, x).real)
        x = torch.einsum("hnm,hm->hn", dA, x)
    return torch.stack(out, -1)


def test_set_length_keeps_every_kernel_and_the_output_matrix():
    k = trained_kernel()
    C = k.output_matrix().clone()
    before = {(L, rate): k(L, rate=rate) for L in (7, 40, 64, 100) for rate in (1.0, 2.5)}
    k.set_length(64)
    assert int(k.c_length) == 64
    assert not torch.allclose(torch.view_as_complex(k.C), C)  # the parameter now holds C~
    assert torch.allclose(k.output_matrix(), C, atol=1e-12)
    for (L, rate), K in before.items():
        assert torch.allclose(k(L, rate=rate), K, atol=1e-10), (L, rate)
    assert torch.allclose(k(100), dense_kernel(k, 100), atol=1e-10)


def test_training_anchors_at_the_longest_length_seen_and_eval_never_does():
    k = trained_kernel()
    k(50)
    assert int(k.c_length) == 0  # eval mode leaves the parameter alone
    k.train()
    k(50, rate=2.0)
    assert int(k.c_length) == 0  # only rate 1 anchors
    k(50)
    k(30)
    assert int(k.c_length) == 50
    k(80)
    assert int(k.c_length) == 80
    assert torch.allclose(k.eval()(80), dense_kernel(k, 80), atol=1e-10)


def test_anchored_gradients():
    k = trained_kernel(channels=1)
    k.set_length(12)
    names = [n for n, _ in k.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_() for p in k.parameters())
    for L, rate in ((12, 1.0), (9, 1.0), (15, 1.0), (12, 1.7)):  # stored C~, sliced, converted

        def fn(*ps, L=L, rate=rate):
            return torch.func.functional_call(k, dict(zip(names, ps)), (L, rate))

        assert torch.autograd.gradcheck(fn, params, atol=1e-6, rtol=1e-5), (L, rate)


def test_functional_call_does_not_anchor_or_change_its_inputs():
    k = DPLRKernel(2, 4).double()
    C = k.C.detach().clone().requires_grad_()
    torch.func.functional_call(k, {"C": C}, (10,))
    assert int(k.c_length) == 0
    assert torch.equal(C, k.C)


def test_state_dict_keeps_the_length_and_old_weights_load_as_the_output_matrix():
    k = trained_kernel()
    plain = {name: v.clone() for name, v in k.state_dict().items() if name != "c_length"}
    K = k(40)
    k.set_length(40)
    fresh = DPLRKernel(3, 8, channels=2).double().eval()
    fresh.load_state_dict(k.state_dict())
    assert int(fresh.c_length) == 40 and torch.allclose(fresh(40), K, atol=1e-10)
    old = DPLRKernel(3, 8, channels=2).double().eval()
    old.set_length(16)
    old.load_state_dict(plain)  # saved before C~ storage: no c_length entry
    assert int(old.c_length) == 0 and torch.allclose(old(40), K, atol=1e-12)


def test_set_length_refuses_a_bad_length():
    k = DPLRKernel(2, 4)
    for bad in (0, -3, 2.5):
        with pytest.raises(ValueError, match="positive integer"):
            k.set_length(bad)
    assert int(k.c_length) == 0
