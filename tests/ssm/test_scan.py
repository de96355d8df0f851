"""The blocked scan and the per-step-Δ diagonal SSM: equal to the step-by-step recurrence,
and the hand-written backward equal to finite differences."""

import pytest
import torch

from s4ts.ssm import discretize, scan


def stable(*shape, dtype=torch.complex128):
    """Random a_k with |a_k| < 1, as exp(Δ_k Λ) of a stable SSM."""
    return torch.rand(*shape, dtype=torch.float64).mul(0.99).to(dtype) * torch.exp(
        1j * torch.rand(*shape, dtype=torch.float64) * 6).to(dtype)


@pytest.mark.parametrize("L", [1, 2, 3, 7, 16, 240, 1001])
def test_scan_equals_the_recurrence_both_ways(L):
    torch.manual_seed(L)
    c, b = stable(L, 2, 3), torch.randn(L, 2, 3, dtype=torch.complex128)
    forward, backward = b.clone(), b.clone()
    for k in range(1, L):
        forward[k] += c[k] * forward[k - 1]
    for k in range(L - 2, -1, -1):
        backward[k] += c[k] * backward[k + 1]
    torch.testing.assert_close(scan._scan_(b.clone(), c), forward)
    torch.testing.assert_close(scan._scan_(b.clone(), c, reverse=True), backward)


def sequential_ssm(u, Lambda, B, C, dt, method):
    """x_k = Ā_k x_{k-1} + B̄_k u_k one step at a time, from discretize's own rules."""
    x = torch.zeros(u.shape[0], *Lambda.shape, dtype=Lambda.dtype)
    ys = []
    for k in range(u.shape[-1]):
        dA, dB = discretize.diag_discretize(Lambda, B, dt[:, :, k, None], method)  # (B H N)
        x = dA * x + dB * u[:, :, k, None]
        ys.append(2 * torch.einsum("chn,bhn->bch", C, x).real)
    return torch.stack(ys, -1), x


def problem(L, dtype=torch.float64, seed=0):
    torch.manual_seed(seed)
    H, N = 3, 4
    cdtype = torch.complex128 if dtype == torch.float64 else torch.complex64
    Lambda = torch.complex(-torch.rand(H, N, dtype=dtype) - 0.1, 3 * torch.randn(H, N, dtype=dtype))
    B = torch.randn(H, N, dtype=cdtype)
    C = torch.randn(2, H, N, dtype=cdtype)
    dt = torch.rand(5, H, L, dtype=dtype) * 0.5 + 1e-3
    dt[:, :, L // 2] = 50.0  # a gap far longer than every time constant
    u = torch.randn(5, H, L, dtype=dtype)
    return u, Lambda, B, C, dt


@pytest.mark.parametrize("method", ["zoh", "bilinear"])
@pytest.mark.parametrize("L", [1, 5, 11, 240])
def test_diag_ssm_scan_equals_the_recurrence(L, method):
    u, Lambda, B, C, dt = problem(L)
    y, last = scan.diag_ssm_scan(u, Lambda, B, C, dt, method)
    y_ref, last_ref = sequential_ssm(u, Lambda, B, C, dt, method)
    torch.testing.assert_close(y, y_ref)
    torch.testing.assert_close(last, last_ref)


@pytest.mark.parametrize("method", ["zoh", "bilinear"])
@pytest.mark.parametrize("L", [1, 2, 11])  # 11: three chunks of 3 and a tail of 2
def test_hand_written_backward_matches_finite_differences(L, method):
    u, Lambda, B, C, dt = problem(L, seed=L)
    R = B / Lambda
    inputs = [t.clone().requires_grad_() for t in (Lambda, R, C, dt, u)]

    def f(*args):
        y, last = scan.DiagSSMScan.apply(*args, method)
        return y, last

    assert torch.autograd.gradcheck(f, inputs)


def test_float32_gradients_agree_with_autograd_of_the_recurrence():
    """At the forecaster's precision, the hand-written gradients match autograd through the
    step-by-step recurrence."""
    grads = []
    for run in (scan.diag_ssm_scan, sequential_ssm):
        u, Lambda, B, C, dt = problem(30, dtype=torch.float32, seed=1)
        params = [t.requires_grad_() for t in (u, Lambda, B, C, dt)]
        y, last = run(u, Lambda, B, C, dt, "zoh")
        (y.square().sum() + last.abs().sum()).backward()
        grads.append([p.grad for p in params])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_rows_in_groups_give_the_whole_batch_result(monkeypatch):
    """diag_ssm_scan runs rows in groups of at most _SCAN_ELEMENTS states x steps: the same
    outputs, last states and gradients as one piece."""
    def run():
        u, Lambda, B, C, dt = problem(9)
        u.requires_grad_()
        y, last = scan.diag_ssm_scan(u, Lambda, B, C, dt)
        (y.sum() + last.abs().sum()).backward()
        return y.detach(), last.detach(), u.grad

    whole = run()
    monkeypatch.setattr(scan, "_SCAN_ELEMENTS", 2 * 3 * 4 * 9)  # groups of 2 rows: 2, 2, 1
    for a, b in zip(run(), whole):
        torch.testing.assert_close(a, b)
