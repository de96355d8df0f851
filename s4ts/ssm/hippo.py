"""HiPPO transition matrices and their normal-plus-low-rank (NPLR) forms.

Every HiPPO matrix here is A = S - P P^T with S normal (a scalar times I plus a
skew-symmetric matrix) and P of rank 1 or 2 (S4 paper, Theorem 1). S is
unitarily diagonalised as S = V diag(Λ) V^*; we compute that from the
Hermitian matrix -i (S - cI) with `eigh`, which is stable where a general
eigendecomposition of A itself is not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

MEASURES = ("legs", "legt", "fout")
DIAG_INITS = ("diag-lin", "diag-inv", "diag-legs", "legs")  # S4D's; "legs" = "diag-legs"


def transition(measure: str, N: int) -> tuple[torch.Tensor, torch.Tensor]:
    """HiPPO state matrix A (N, N) and input matrix B (N,) in float64."""
    n = torch.arange(N, dtype=torch.float64)
    R = torch.sqrt(2 * n + 1)  # (N)
    row, col = n[:, None], n[None, :]
    if measure == "legs":
        A = -torch.where(row > col, R[:, None] * R[None, :], torch.zeros(()))
        A = A - torch.diag(n + 1)
        B = R.clone()
    elif measure == "legt":
        sign = torch.where(row < col, (-1.0) ** (row - col), torch.ones(()))
        # The 1/2 maps the window length to one time unit (Gu et al., HiPPO, App. D).
        A = -0.5 * R[:, None] * sign * R[None, :]
        B = 0.5 * R
    elif measure == "fout":
        if N % 2:
            raise ValueError(f"measure='fout' needs an even state size N, got N={N}")
        freqs = torch.arange(N // 2, dtype=torch.float64)
        d = torch.stack([torch.zeros(N // 2, dtype=torch.float64), freqs], -1).reshape(-1)[1:]
        B = torch.zeros(N, dtype=torch.float64)
        B[0::2] = math.sqrt(2.0)
        B[0] = 1.0
        A = math.pi * (torch.diag(d, 1) - torch.diag(d, -1))
        A = A - B[:, None] * B[None, :]  # the other end of the window u(t-1)
    else:
        raise ValueError(f"unknown HiPPO measure {measure!r}; choose one of {MEASURES}")
    return A, B


def rank_correction(measure: str, N: int) -> torch.Tensor:
    """Low-rank P (r, N) such that A + P^T P is normal."""
    n = torch.arange(N, dtype=torch.float64)
    if measure == "legs":
        return torch.sqrt(n + 0.5)[None, :]  # (1 N)
    if measure == "legt":
        # Symmetric part of LegT couples only indices of equal parity: rank 2.
        P = torch.sqrt(0.5 * (2 * n + 1))  # symmetric part is -P_even P_even^T - P_odd P_odd^T
        P_even = torch.where(n % 2 == 0, P, torch.zeros(()))
        P_odd = torch.where(n % 2 == 1, P, torch.zeros(()))
        return torch.stack([P_even, P_odd])  # (2 N)
    if measure == "fout":
        _, B = transition("fout", N)
        return B[None, :]  # (1 N)
    raise ValueError(f"unknown HiPPO measure {measure!r}; choose one of {MEASURES}")


@dataclass
class NPLR:
    """A = V diag(Λ) V^* - P^T P^* with B, P expressed in the eigenbasis of S.

    Only one eigenvalue of each conjugate pair is kept (N/2 of them); the
    full system is recovered by appending the conjugates.
    """

    Lambda: torch.Tensor  # (N/2) complex128
    P: torch.Tensor  # (r, N/2) complex128: V^* P^T
    B: torch.Tensor  # (N/2) complex128: V^* B
    V: torch.Tensor  # (N, N/2) complex128


def nplr(measure: str, N: int) -> NPLR:
    """Normal-plus-low-rank form of a HiPPO matrix, keeping one of each conjugate pair."""
    if N % 2:
        raise ValueError(f"the NPLR form keeps conjugate pairs, so N must be even, got N={N}")
    A, B = transition(measure, N)
    P = rank_correction(measure, N)  # (r N)
    S = A + P.T @ P  # normal: c I + skew
    c = torch.diagonal(S).mean()
    skew = S - c * torch.eye(N, dtype=torch.float64)
    w, V = torch.linalg.eigh(-1j * skew.to(torch.complex128))  # Hermitian; eigenvalues i w of skew
    order = torch.argsort(w)
    w, V = w[order], V[:, order]
    V = _real_basis_for_null_pairs(w, V)
    # Eigenvalues come as ±w; keep w <= 0 (the first half after sorting).
    W = c + 1j * w[: N // 2]  # (N/2)
    V = V[:, : N // 2]  # (N N/2)
    Vh = V.conj().T
    return NPLR(Lambda=W, P=P.to(torch.complex128) @ Vh.T, B=Vh @ B.to(torch.complex128), V=V)


def _real_basis_for_null_pairs(w: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """Make eigenvectors of a repeated zero eigenvalue come in conjugate pairs.

    A real skew matrix may have a zero eigenvalue of even multiplicity 2k
    (FouT does); `eigh` returns an arbitrary basis of that space, which breaks
    the conjugate-pair bookkeeping. With w sorted, the zeros sit at the middle
    indices [N/2 - k, N/2 + k); give the kept half vectors (r1 + i r2)/sqrt 2
    built from a real orthonormal basis r of the null space.
    """
    N = w.shape[0]
    zero = w.abs() < 1e-9 * max(1.0, w.abs().max().item())
    n_zero = int(zero.sum())
    if n_zero == 0:
        return V
    if n_zero % 2:
        raise ValueError("a zero eigenvalue of odd multiplicity cannot be split into pairs")
    Z = V[:, zero]  # (N 2k)
    U = torch.linalg.svd(torch.cat([Z.real, Z.imag], dim=1))[0][:, :n_zero]  # real basis
    k = n_zero // 2
    V = V.clone()
    V[:, N // 2 - k : N // 2] = (U[:, :k] + 1j * U[:, k:]) / math.sqrt(2.0)
    return V


def dense_from_nplr(rep: NPLR) -> torch.Tensor:
    """Reconstruct the real matrix A (N, N) from its NPLR form (for tests and references)."""
    V_full = torch.cat([rep.V, rep.V.conj()], dim=1)  # (N N), unitary
    L_full = torch.cat([rep.Lambda, rep.Lambda.conj()])  # (N)
    P_full = torch.cat([rep.P, rep.P.conj()], dim=1)  # (r N) eigenbasis: P_orig conj(V)
    S = V_full @ torch.diag(L_full) @ V_full.conj().T
    P_orig = P_full @ V_full.T  # (r N) back to the original basis
    return (S - P_orig.T @ P_orig.conj()).real


def diag_init(init: str, d_state: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Λ (N/2) and B (N/2) for the S4D initialisations (Gu et al., arXiv 2206.11893)."""
    N2 = d_state // 2
    n = torch.arange(N2, dtype=torch.float64)
    if init == "diag-lin":
        Lambda = torch.complex(-0.5 * torch.ones(N2, dtype=torch.float64), math.pi * n)
        B = torch.ones(N2, dtype=torch.complex128)
    elif init == "diag-inv":
        imag = d_state / math.pi * (d_state / (2 * n + 1) - 1)
        Lambda = torch.complex(-0.5 * torch.ones(N2, dtype=torch.float64), imag)
        B = torch.ones(N2, dtype=torch.complex128)
    elif init in ("diag-legs", "legs"):
        rep = nplr("legs", d_state)
        Lambda, B = rep.Lambda, rep.B
    else:
        raise ValueError(f"unknown init {init!r} for mode='diag'; choose one of {DIAG_INITS}")
    return Lambda, B
