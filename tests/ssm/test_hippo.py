import pytest
import torch

from s4ts.ssm import hippo


@pytest.mark.parametrize("measure", hippo.MEASURES)
@pytest.mark.parametrize("N", [4, 8, 16, 64])
def test_nplr_reconstructs_the_hippo_matrix(measure, N):
    A, B = hippo.transition(measure, N)
    rep = hippo.nplr(measure, N)
    assert torch.allclose(hippo.dense_from_nplr(rep), A, atol=1e-10 * N)
    V_full = torch.cat([rep.V, rep.V.conj()], dim=1)
    assert torch.allclose(V_full.conj().T @ V_full, torch.eye(N, dtype=V_full.dtype), atol=1e-10)
    B_back = (V_full @ torch.cat([rep.B, rep.B.conj()])).real
    assert torch.allclose(B_back, B, atol=1e-10 * N)
    assert rep.Lambda.shape == (N // 2,)
    assert (rep.Lambda.real <= 1e-12).all()


@pytest.mark.parametrize("measure", hippo.MEASURES)
def test_rank_correction_makes_the_matrix_normal(measure):
    A, _ = hippo.transition(measure, 16)
    P = hippo.rank_correction(measure, 16)
    S = A + P.T @ P
    assert torch.allclose(S @ S.T, S.T @ S, atol=1e-8)


def test_legs_matches_the_paper_definition():
    A, B = hippo.transition("legs", 3)
    expected = -torch.tensor([[1.0, 0, 0], [3**0.5, 2, 0], [5**0.5, 15**0.5, 3]], dtype=torch.float64)
    assert torch.allclose(A, expected)
    assert torch.allclose(B, torch.tensor([1.0, 3**0.5, 5**0.5], dtype=torch.float64))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="unknown HiPPO measure"):
        hippo.transition("legx", 4)
    with pytest.raises(ValueError, match="N must be even"):
        hippo.nplr("legs", 5)
