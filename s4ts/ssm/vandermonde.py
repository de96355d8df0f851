"""Vandermonde reduction y[h, c, l] = Re Σ_n v[h, c, n] exp(x[h, n] l), the S4D kernel.

The torch backend splits l = b T + t and factors exp(x l) = exp(x b T) exp(x t),
turning the reduction into one batched matmul of (C nb, N) by (N, T) per
channel. Only the real part is needed, so it is one *real* matmul of
[Re a, -Im a] (C nb, 2N) by [Re f; Im f] (2N, T). With T ≈ sqrt(L) nothing of
size (H, N, L) is built, autograd stores O(H N sqrt L), and the work runs in BLAS.
"""

from __future__ import annotations

import math

import torch

from s4ts.ssm._backend import resolve_backend
from s4ts.ssm.discretize import complex_exp


def vandermonde(v: torch.Tensor, x: torch.Tensor, L: int, backend: str | None = None) -> torch.Tensor:
    """Re Σ_n v[h,c,n] exp(x[h,n] l) for l < L; v (H, C, N), x (H, N) -> (H, C, L) real."""
    if resolve_backend(backend, v.device) == "keops":
        return _vandermonde_keops(v, x, L)
    return _vandermonde_blocked(v, x, L)


def block_powers(x: torch.Tensor, L: int) -> tuple[torch.Tensor, torch.Tensor]:
    """exp(x l) for l = b T + t as two factors: fine (H, N, T) = exp(x t), coarse (H, nb, N) = exp(x b T).

    T is a power of two about sqrt(L) and nb = ceil(L / T), so both factors are
    O(H N sqrt L) while their products cover every l < nb T.
    """
    T = 1 << max(0, math.ceil(math.log2(max(1, L)) / 2))
    nb = -(-L // T)
    real = x.real.dtype
    t = torch.arange(T, dtype=real, device=x.device)  # (T)
    starts = torch.arange(nb, dtype=real, device=x.device) * T  # (nb)
    return complex_exp(x[:, :, None] * t), complex_exp(x[:, None, :] * starts[:, None])


def _vandermonde_blocked(v: torch.Tensor, x: torch.Tensor, L: int) -> torch.Tensor:
    H, C, N = v.shape
    fine, coarse = block_powers(x, L)  # (H N T), (H nb N)
    nb, T = coarse.shape[1], fine.shape[2]
    left = (v[:, :, None, :] * coarse[:, None]).reshape(H, C * nb, N)  # (H C*nb N)
    left = torch.cat([left.real, -left.imag], dim=-1)  # (H C*nb 2N)
    fine = torch.cat([fine.real, fine.imag], dim=-2)  # (H 2N T)
    y = torch.bmm(left, fine)  # (H C*nb T) = Re(left @ fine)
    return y.reshape(H, C, nb * T)[..., :L]


def _vandermonde_keops(v: torch.Tensor, x: torch.Tensor, L: int) -> torch.Tensor:
    """pykeops reduction over n; complex numbers travel as (re, im) pairs."""
    from pykeops.torch import Genred

    H, C, N = v.shape
    reduce_n = Genred(
        "ComplexMult(v, ComplexExp(ComplexRealScal(l, x)))",
        ["v = Vj(2)", "x = Vj(2)", "l = Vi(1)"],
        reduction_op="Sum",
        axis=1,
    )
    real = x.real.dtype
    l = torch.arange(L, dtype=real, device=x.device)[None, :, None].expand(H * C, L, 1)  # (HC L 1)
    v_r = torch.view_as_real(v.reshape(H * C, N))  # (HC N 2)
    x_r = torch.view_as_real(x).repeat_interleave(C, dim=0)  # (HC N 2)
    out = reduce_n(v_r, x_r, l.contiguous(), backend="auto")  # (HC L 2)
    return out[..., 0].reshape(H, C, L)
