"""The blocked linear scan: equal to the step-by-step recurrence, and its adjoint to autograd's."""

import pytest
import torch

from s4ts.ssm.scan import linear_scan


def sequential(a, b, x0=None):
    x = torch.zeros_like(b[..., 0]) if x0 is None else x0
    out = []
    for k in range(b.shape[-1]):
        x = a[..., k] * x + b[..., k]
        out.append(x)
    return torch.stack(out, -1)


def stable(*shape, dtype=torch.complex128):
    """Random a_k with |a_k| < 1, as exp(Δ_k Λ) of a stable SSM."""
    return torch.rand(*shape, dtype=torch.float64).mul(0.99).to(dtype) * torch.exp(
        1j * torch.rand(*shape, dtype=torch.float64) * 6).to(dtype)


@pytest.mark.parametrize("L", [1, 2, 3, 7, 16, 240, 1001])
def test_scan_equals_the_recurrence(L):
    torch.manual_seed(L)
    a, b = stable(2, 3, L), torch.randn(2, 3, L, dtype=torch.complex128)
    torch.testing.assert_close(linear_scan(a, b), sequential(a, b))
    x0 = torch.randn(2, 3, dtype=torch.complex128)
    torch.testing.assert_close(linear_scan(a, b, x0), sequential(a, b, x0))


def test_scan_gradients_match_finite_differences():
    torch.manual_seed(0)
    a = stable(2, 11).requires_grad_()
    b = torch.randn(2, 11, dtype=torch.complex128, requires_grad=True)
    assert torch.autograd.gradcheck(linear_scan, (a, b))


def test_long_gaps_are_safe():
    """a_k = 0 (a gap far longer than every time constant) restarts the state at b_k."""
    a = torch.full((1, 50), 0.9, dtype=torch.complex64)
    a[0, 20] = 0
    b = torch.ones(1, 50, dtype=torch.complex64)
    x = linear_scan(a, b)
    assert torch.isfinite(x.real).all() and x[0, 20] == 1


def test_rows_in_groups_give_the_whole_batch_result(monkeypatch):
    """diag_ssm_scan runs rows in groups of at most _SCAN_ELEMENTS states x steps: the same
    outputs, last states and gradients as one piece."""
    from s4ts.ssm import scan

    torch.manual_seed(3)
    H, N, L = 3, 4, 9
    Lambda = torch.complex(-torch.rand(H, N, dtype=torch.float64), torch.randn(H, N, dtype=torch.float64))
    B, C = torch.randn(H, N, dtype=torch.complex128), torch.randn(2, H, N, dtype=torch.complex128)
    dt = torch.rand(5, H, L, dtype=torch.float64) + 0.1
    x0 = torch.randn(5, H, N, dtype=torch.complex128)

    def run():
        u = torch.randn(5, H, L, dtype=torch.float64, generator=torch.Generator().manual_seed(0)).requires_grad_()
        y, last = scan.diag_ssm_scan(u, Lambda, B, C, dt, x0=x0)
        (y.sum() + last.abs().sum()).backward()
        return y.detach(), last, u.grad

    whole = run()
    monkeypatch.setattr(scan, "_SCAN_ELEMENTS", 2 * H * N * L)  # groups of 2 rows: 2, 2, 1
    for a, b in zip(run(), whole):
        torch.testing.assert_close(a, b)
