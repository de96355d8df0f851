"""Cauchy kernel y[h, k, l] = Σ_n v[h, k, n] / (z[h, l] - w[h, n]).

This is the inner loop of the S4 (DPLR) kernel. The torch backends chunk over
l and recompute the (H, N, chunk) reciprocal block in backward instead of
saving it, so memory stays O(H (N + L)) for any sequence length. The pykeops
backend does the same reduction in a compiled kernel (CPU or GPU).

`cauchy_conjugate` is the form the S4 kernel needs: the poles come in conjugate
pairs with conjugate numerators and z lies on the imaginary axis, so each pair
folds into one real-coefficient term over a real denominator. It does half the
reciprocals of `cauchy` on the full basis and multiplies real matrices
instead of complex ones.
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


def cauchy_conjugate(
    v: torch.Tensor, y: torch.Tensor, w: torch.Tensor, backend: str | None = None
) -> torch.Tensor:
    """Σ_n v/(iy - w) + conj(v)/(iy - conj(w)); v (H, K, N/2) complex, y (H, L) real,
    w (H, N/2) complex -> (H, K, L) complex: `cauchy` over both halves of each pair."""
    if resolve_backend(backend, v.device) == "keops":
        full = lambda x: torch.cat([x, x.conj()], dim=-1)
        return _cauchy_keops(full(v), torch.complex(torch.zeros_like(y), y), full(w))
    # v/(iy - w) + conj(v)/(iy - conj(w)) = (2iy Re v - 2 Re(v conj w)) / ((iy - w)(iy - conj w))
    coeff = torch.cat([v.real, (v * w.conj()[:, None]).real], dim=1)  # (H 2K N/2)
    return CauchyConjugate.apply(coeff, y, w)


def _pair_reciprocal(y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """1 / ((iy - w)(iy - conj w)) (H, N/2, l) for y (H, l) real and w (H, N/2).

    The product is |w|^2 - y^2 - 2iy Re(w). Near y = |w| its real part cancels, but no
    worse than the rounding of y and w themselves (the factored form agrees to float
    precision: tests/ssm/test_kernel.py compares both with dense references)."""
    re = (w.real.square() + w.imag.square())[:, :, None] - y.square()[:, None, :]
    im = (-2 * w.real)[:, :, None] * y[:, None, :]
    return torch.complex(re, im).reciprocal_()


def _as_real(x: torch.Tensor) -> torch.Tensor:
    """(..., l) complex -> (..., 2l) real, real and imaginary parts interleaved."""
    return torch.view_as_real(x).flatten(-2)


def _as_complex(x: torch.Tensor) -> torch.Tensor:
    """(..., 2l) real, interleaved -> (..., l) complex."""
    return torch.view_as_complex(x.unflatten(-1, (-1, 2)))


# Up to this many pair reciprocals (H x N/2 x L) forward keeps them for backward (32 MiB
# in complex64); beyond, backward recomputes them chunk by chunk.
_SAVED_ELEMENTS = 2**22


class CauchyConjugate(torch.autograd.Function):
    """Chunked `cauchy_conjugate` from real coefficients.

    Inputs: coeff (H, 2K, N/2) = [a ; b] = [Re v ; Re(v conj w)], y (H, L), w (H, N/2).
    With R the pair reciprocal (H, N/2, l): out = 2 (iy a@R - b@R) (H, K, l), where
    a@R and b@R come from one real matrix product with R's real and imaginary parts
    interleaved. y gets no gradient.
    """

    @staticmethod
    def forward(ctx, coeff: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        H, K2, N2 = coeff.shape
        K, L = K2 // 2, y.shape[-1]
        out = torch.empty(H, K, L, 2, dtype=coeff.dtype, device=coeff.device)  # Re, Im
        keep = H * N2 * L <= _SAVED_ELEMENTS
        saved = []
        step = _chunk_size(H, 2 * N2, L)
        for s in range(0, L, step):
            ys = y[:, None, s : s + step]  # (H 1 l)
            R = _pair_reciprocal(ys[:, 0], w)  # (H N/2 l)
            M = torch.bmm(coeff, _as_real(R)).unflatten(-1, (-1, 2))  # (H 2K l 2): a@R ; b@R
            a, b = M[:, :K], M[:, K:]
            out[:, :, s : s + step, 0] = -2 * (ys * a[..., 1] + b[..., 0])
            out[:, :, s : s + step, 1] = 2 * (ys * a[..., 0] - b[..., 1])
            if keep:
                saved.append(R)
        ctx.save_for_backward(coeff, y, w, *saved)
        return torch.view_as_complex(out)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        # grad_out = dLoss/dRe(out) + i dLoss/dIm(out); the same convention for w's gradient.
        coeff, y, w, *saved = ctx.saved_tensors
        H, K2, N2 = coeff.shape
        K, L = K2 // 2, y.shape[-1]
        grad_coeff = torch.zeros_like(coeff) if ctx.needs_input_grad[0] else None
        sums = torch.zeros(H, N2, 2, dtype=w.dtype, device=w.device)  # Σ_l conj(E) R^2 [1, y_l]
        step = _chunk_size(H, 2 * N2, L)
        for i, s in enumerate(range(0, L, step)):
            ys = y[:, None, s : s + step]  # (H 1 l)
            G = torch.view_as_real(grad_out[..., s : s + step])  # (H K l 2)
            # Gradients of a@R and b@R (re, im interleaved): 2y(Im G, -Re G) and -2 G.
            grad_M = torch.empty(H, K2, ys.shape[-1], 2, dtype=coeff.dtype, device=coeff.device)
            grad_M[:, :K, :, 0] = 2 * ys * G[..., 1]
            grad_M[:, :K, :, 1] = -2 * ys * G[..., 0]
            grad_M[:, K:] = -2 * G
            grad_M = grad_M.flatten(-2)  # (H 2K 2l)
            R = saved[i] if saved else _pair_reciprocal(ys[:, 0], w)  # (H N/2 l)
            if grad_coeff is not None:
                grad_coeff += torch.bmm(grad_M, _as_real(R).transpose(1, 2))  # (H 2K N/2)
            if ctx.needs_input_grad[2]:
                # E = dLoss/dR; conj(E) straight from the product with grad_M's Im negated.
                grad_M.unflatten(-1, (-1, 2))[..., 1].neg_()
                conj_E = _as_complex(torch.bmm(coeff.transpose(1, 2), grad_M))  # (H N/2 l)
                R2 = R * R if saved else R.mul_(R)  # (complex pow is several times slower)
                weights = torch.stack([torch.ones_like(ys[:, 0]), ys[:, 0]], -1).to(R.dtype)  # (H l 2)
                sums += torch.bmm(R2.mul_(conj_E), weights)
        if not ctx.needs_input_grad[2]:
            return grad_coeff, None, None
        # R = 1/D, D = |w|^2 - y^2 - 2iy Re w: dLoss/dD = -E conj(R^2); chain to Re w, Im w.
        re_sum, im_y_sum = sums[..., 0].real, sums[..., 1].imag  # Σ Re(conj(E) R^2), Σ Im(.) y
        grad_w = torch.complex(-2 * (w.real * re_sum + im_y_sum), -2 * w.imag * re_sum)
        return grad_coeff, None, grad_w


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
