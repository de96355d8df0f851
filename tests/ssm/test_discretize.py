import torch

from s4ts.ssm import discretize


def _diag_system(N=6):
    Lambda = torch.complex(-torch.rand(N, dtype=torch.float64) - 0.1, 3 * torch.randn(N, dtype=torch.float64))
    B = torch.randn(N, dtype=torch.complex128)
    return Lambda, B


def test_diagonal_rules_match_the_dense_rules():
    Lambda, B = _diag_system()
    dt = torch.tensor(0.37, dtype=torch.float64)
    for dense, diag in ((discretize.bilinear, discretize.diag_bilinear), (discretize.zoh, discretize.diag_zoh)):
        dA, dB = dense(torch.diag(Lambda), B, dt.to(torch.complex128))
        dA_d, dB_d = diag(Lambda, B, dt)
        assert torch.allclose(torch.diagonal(dA), dA_d, atol=1e-12)
        assert torch.allclose(dB, dB_d, atol=1e-12)


def test_log_dA_gives_powers():
    Lambda, _ = _diag_system()
    dt = torch.tensor(0.2, dtype=torch.float64)
    for method in discretize.METHODS:
        dA, _ = discretize.diag_discretize(Lambda, Lambda, dt, method)
        assert torch.allclose(torch.exp(7 * discretize.diag_log_dA(Lambda, dt, method)), dA**7, atol=1e-12)


def test_zoh_is_accurate_for_tiny_steps():
    # B̄ = Δ B (1 + ΔΛ/2 + ...): with Δ = 1e-7 in float32, exp(ΔΛ) - 1 would cancel to 0.
    Lambda = torch.tensor([-0.5 + 3j], dtype=torch.complex64)
    _, dB = discretize.diag_zoh(Lambda, torch.ones(1, dtype=torch.complex64), torch.tensor(1e-7))
    assert torch.allclose(dB, torch.tensor([1e-7 + 0j], dtype=torch.complex64), rtol=1e-5)


def test_per_step_dt_broadcasts():
    Lambda, B = _diag_system(4)
    dt = torch.rand(3, 1, 10, dtype=torch.float64)  # (B 1 L) against (N 1)
    dA, dB = discretize.diag_zoh(Lambda[:, None], B[:, None], dt)
    assert dA.shape == (3, 4, 10) and dB.shape == (3, 4, 10)
    assert torch.allclose(dA[1, :, 4], torch.exp(dt[1, 0, 4] * Lambda))
