"""Cauchy kernel y[h, k, l] = Σ_n v[h, k, n] / (z[h, l] - w[h, n]).

This is the inner loop of the S4 (DPLR) kernel. The torch backend chunks over
l and recomputes the (H, N, chunk) reciprocal block in backward instead of
saving it, so memory stays O(H (N + L)) for any sequence length. The pykeops
backend does the same reduction in a compiled kernel (CPU or GPU).
"""

from __future__ import annotations

import torch

from s4ts.ssm._backend import resolve_backend

# Elements of one (H, N, chunk) complex block: 2^20 * 8 bytes = 8 MiB in complex64.
_CHUNK_ELEMENTS = 2**20


def cauchy(v: torch.Tensor, z: torch.Tensor, w: torch.Tensor, backend: str | None = None) -> torch.Tensor:
    """Σ_n v[h,k,n] / (z[h,l] - w[h,n]); v (H, K, N), z (H, L), w (H, N) -> (H, K, L)."""
    if resolve_backend(backend, v.device) == "keops":
        return _cauchy_keops(v, z, w)
    return CauchyChunked.apply(v, z, w)


def _chunk_size(H: int, N: int, L: int) -> int:
    return max(1, min(L, _CHUNK_ELEMENTS // max(1, H * N)))


class CauchyChunked(torch.autograd.Function):
    """Chunked Cauchy reduction whose backward recomputes the reciprocals."""

    @staticmethod
    def forward(ctx, v: torch.Tensor, z: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        H, K, N = v.shape
        L = z.shape[-1]
        y = torch.empty(H, K, L, dtype=v.dtype, device=v.device)
        step = _chunk_size(H, N, L)
        for s in range(0, L, step):
            r = torch.reciprocal(z[:, None, s : s + step] - w[:, :, None])  # (H N l)
            torch.bmm(v, r, out=y[:, :, s : s + step])  # (H K l)
        ctx.save_for_backward(v, z, w)
        return y

    @staticmethod
    def backward(ctx, grad_y: torch.Tensor):
        # Complex autograd passes dL/d(conj y); for holomorphic y(x) the
        # input gradient is Σ grad_y * conj(dy/dx).
        v, z, w = ctx.saved_tensors
        H, _, N = v.shape
        L = z.shape[-1]
        grad_v = torch.zeros_like(v) if ctx.needs_input_grad[0] else None
        grad_z = torch.empty_like(z) if ctx.needs_input_grad[1] else None
        grad_w = torch.zeros_like(w) if ctx.needs_input_grad[2] else None
        vh = v.conj().transpose(1, 2)  # (H N K)
        step = _chunk_size(H, N, L)
        for s in range(0, L, step):
            g = grad_y[:, :, s : s + step]  # (H K l)
            r = torch.reciprocal(z[:, None, s : s + step] - w[:, :, None]).conj_physical_()  # (H N l)
            if grad_v is not None:
                grad_v += torch.bmm(g, r.transpose(1, 2))  # (H K N)
            if grad_z is not None or grad_w is not None:
                # dy/dw = v r^2, dy/dz = -v r^2
                q = torch.bmm(vh, g).mul_(r).mul_(r)  # (H N l)
                if grad_w is not None:
                    grad_w += q.sum(-1)
                if grad_z is not None:
                    grad_z[:, s : s + step] = -q.sum(1)
        return grad_v, grad_z, grad_w


def _cauchy_keops(v: torch.Tensor, z: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """pykeops reduction over n; complex numbers travel as (re, im) pairs."""
    from pykeops.torch import Genred

    H, K, N = v.shape
    L = z.shape[-1]
    # i indexes l (kept), j indexes n (summed); K folds into the batch axis.
    reduce_n = Genred(
        "ComplexDivide(v, z - w)",
        ["v = Vj(2)", "z = Vi(2)", "w = Vj(2)"],
        reduction_op="Sum",
        axis=1,
    )
    v_r = torch.view_as_real(v.reshape(H * K, N))  # (HK N 2)
    z_r = torch.view_as_real(z).repeat_interleave(K, dim=0)  # (HK L 2)
    w_r = torch.view_as_real(w).repeat_interleave(K, dim=0)  # (HK N 2)
    out = reduce_n(v_r, z_r, w_r, backend="auto")  # (HK L 2)
    return torch.view_as_complex(out.contiguous()).reshape(H, K, L)
