"""Vandermonde reduction y[h, c, l] = Re Σ_n v[h, c, n] exp(x[h, n] l), the S4D kernel, and
its transpose `power_sum` (Σ_l u_l exp(x l): the S4D state after a whole sequence).

The torch backend splits l = b T + t and factors exp(x l) = exp(x b T) exp(x t),
turning the reduction into one batched matmul of (C nb, N) by (N, T) per
channel. Only the real part is needed, so it is one *real* matmul of
[Re a, -Im a] (C nb, 2N) by [Re f; Im f] (2N, T). With T ≈ sqrt(L) nothing of
size (H, N, L) is built, the backward stores O(H N sqrt L), and the work runs in BLAS.
Both forms have hand-written backwards of one real matmul each (`_BlockedVandermonde`,
`_Vandermonde`); autograd's backward of the complex products ran dozens of small ops with
zero-filled `view_as_real` gradients (the stacked kernel of a forecasting step, (256, 32,
120) powers: forward + backward 8.6-8.9 ms through autograd, 5.9-6.3 ms by hand).

Short kernels (H N L up to `_DIRECT_POWERS`, e.g. one forecasting layer's 120 steps) take
`_Vandermonde` instead: every power (H, 2N, L) is built once from real exp, cos and sin.
Forward + backward on 2 cores, direct against blocked: 1.2-1.4 ms against 1.4 ms at 61,440
powers, about even at 2^17-2^18, 5.3 against 2.7 ms at 819,200.
"""

from __future__ import annotations

import math

import torch

from s4ts.ssm._backend import resolve_backend
from s4ts.ssm.discretize import complex_exp, decay_floor


def vandermonde(v: torch.Tensor, x: torch.Tensor, L: int, backend: str | None = None) -> torch.Tensor:
    """Re Σ_n v[h,c,n] exp(x[h,n] l) for l < L; v (H, C, N), x (H, N) -> (H, C, L) real."""
    if resolve_backend(backend, v.device) == "keops":
        return _vandermonde_keops(v, x, L)
    if x.numel() * L <= _DIRECT_POWERS:
        return _Vandermonde.apply(v, x, L)
    return _BlockedVandermonde.apply(v, x, L)


# Up to this many powers (H x N x L) the direct form holds them all (2 MiB as floats).
_DIRECT_POWERS = 2**18


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


def _powers(x: torch.Tensor, L: int) -> torch.Tensor:
    """[Re exp(x l); Im exp(x l)] for l < L: x (H, N) -> (H, 2N, L) real, magnitudes from
    `decay_floor` up, from real exp, cos and sin written in place (complex exp and broadcast
    complex products are not vectorised on CPU: the product of the `block_powers` factors ran
    7x slower)."""
    H, N = x.shape
    steps = torch.arange(L, dtype=x.real.dtype, device=x.device)  # (L)
    out = torch.empty(H, 2 * N, L, dtype=steps.dtype, device=x.device)
    angle = x.imag[..., None] * steps  # (H N L)
    magnitude = torch.exp((x.real[..., None] * steps).clamp_min(decay_floor(steps.dtype)))  # (H N L)
    torch.cos(angle, out=out[:, :N]).mul_(magnitude)
    torch.sin(angle, out=out[:, N:]).mul_(magnitude)
    return out


class _Vandermonde(torch.autograd.Function):
    """y = Re Σ_n v exp(x l) with every power held (H, 2N, L), and its gradients by matmul:

        grad_v[h,c,n] = Σ_l g[h,c,l] conj(exp(x l))
        grad_x[h,n]   = Σ_c conj(v[h,c,n]) Σ_l l g[h,c,l] conj(exp(x l))
    """

    @staticmethod
    def forward(ctx, v: torch.Tensor, x: torch.Tensor, L: int) -> torch.Tensor:
        powers = _powers(x, L)  # (H 2N L)
        ctx.save_for_backward(v, powers)
        return torch.bmm(torch.cat([v.real, -v.imag], dim=-1), powers)  # (H C L)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        v, powers = ctx.saved_tensors
        C, N = v.shape[1], v.shape[2]
        steps = torch.arange(grad.shape[-1], dtype=grad.dtype, device=grad.device)  # (L)
        rows = torch.cat([grad, grad * steps], dim=1)  # (H 2C L)
        sums = torch.bmm(rows, powers.transpose(1, 2))  # (H 2C 2N): Σ g Re P, Σ g Im P
        conj_sums = torch.complex(sums[..., :N], -sums[..., N:])  # (H 2C N)
        grad_v = conj_sums[:, :C] if ctx.needs_input_grad[0] else None
        grad_x = (v.conj() * conj_sums[:, C:]).sum(1) if ctx.needs_input_grad[1] else None
        return grad_v, grad_x, None


class _BlockedVandermonde(torch.autograd.Function):
    """y = Re Σ_n v exp(x l) for l = b T + t from the `block_powers` factors, with gradients by
    one real matmul (autograd's backward of the same products ran dozens of small complex ops
    and zero-filled `view_as_real` gradients):

        S[h,c,b,n]  = Σ_t g[h,c,bT+t] conj(fine[h,n,t])      S'  = the same with t g
        grad_v      = Σ_b conj(coarse[h,b,n]) S
        grad_x[h,n] = Σ_c conj(v[h,c,n]) Σ_b conj(coarse[h,b,n]) (b T S + S')
    """

    @staticmethod
    def forward(ctx, v: torch.Tensor, x: torch.Tensor, L: int) -> torch.Tensor:
        H, C, N = v.shape
        fine, coarse = block_powers(x, L)  # (H N T), (H nb N)
        nb, T = coarse.shape[1], fine.shape[2]
        left = (v[:, :, None, :] * coarse[:, None]).reshape(H, C * nb, N)  # (H C*nb N)
        fine = torch.cat([fine.real, fine.imag], dim=-2)  # (H 2N T)
        ctx.save_for_backward(v, coarse, fine)
        y = torch.bmm(torch.cat([left.real, -left.imag], dim=-1), fine)  # (H C*nb T) = Re(left @ fine)
        return y.reshape(H, C, nb * T)[..., :L]

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        v, coarse, fine = ctx.saved_tensors
        H, C, N = v.shape
        nb, T = coarse.shape[1], fine.shape[2]
        g = torch.nn.functional.pad(grad, (0, nb * T - grad.shape[-1])).reshape(H, C, nb, T)
        t = torch.arange(T, dtype=g.dtype, device=g.device)  # (T)
        rows = torch.cat([g, g * t], dim=1).reshape(H, 2 * C * nb, T)
        sums = torch.bmm(rows, fine.transpose(1, 2))  # (H 2C*nb 2N): Σ_t g Re f, Σ_t g Im f
        S = torch.complex(sums[..., :N], -sums[..., N:]).reshape(H, 2 * C, nb, N)
        S, S_t = S[:, :C], S[:, C:]  # (H C nb N) each
        back = coarse.conj()[:, None]  # (H 1 nb N)
        grad_v = (back * S).sum(2) if ctx.needs_input_grad[0] else None
        grad_x = None
        if ctx.needs_input_grad[1]:
            starts = torch.arange(nb, dtype=g.dtype, device=g.device)[:, None] * T  # (nb 1)
            grad_x = (v.conj() * (back * (S * starts + S_t)).sum(2)).sum(1)  # (H N)
        return grad_v, grad_x, None


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


# Up to this many (H x L x N) powers, power_sum builds every exp(x l) and contracts with one
# real matmul per channel; beyond, it blocks them as vandermonde does (memory O(H N sqrt L)).
_DIRECT_POWER_SUM = 2**23


def power_sum(u: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Σ_l u[b,h,l] exp(x[h,n] l): u (B, H, L) real, x (H, N) -> (B, H, N)."""
    B, H, L = u.shape
    N = x.shape[-1]
    if H * L * N <= _DIRECT_POWER_SUM:
        # u is real: Re and Im of the powers side by side make one real (B, L) @ (L, 2N) per
        # channel, never a complex (B, H, L)-sized tensor (forecasting 10,000 series: 4.5 GB).
        steps = torch.arange(L, dtype=x.real.dtype, device=x.device)  # (L)
        powers = complex_exp(x[:, None, :] * steps[:, None])  # (H L N), never subnormal
        real = torch.cat([powers.real, powers.imag], dim=-1)  # (H L 2N)
        out = torch.bmm(u.transpose(0, 1).to(real.dtype), real)  # (H B 2N)
        return torch.complex(out[..., :N], out[..., N:]).transpose(0, 1)  # (B H N)
    fine, coarse = block_powers(x, L)  # (H N T), (H nb N)
    nb, T = coarse.shape[1], fine.shape[2]
    u = torch.nn.functional.pad(u, (0, nb * T - L)).reshape(B, H, nb, T).to(x.dtype)
    inner = torch.einsum("bhjt,hnt->bhjn", u, fine)  # (B H nb N)
    return (inner * coarse).sum(2)
