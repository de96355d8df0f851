"""The S4 (DPLR) kernel's Cauchy sums, over conjugate pairs of poles.

y[h, k, l] = Σ_n v/(iy_l - w_n) + conj(v)/(iy_l - conj(w_n)) over the N/2 stored modes:
the full-basis sum Σ_n v[h, k, n] / (z[h, l] - w[h, n]) for a real system, whose poles and
numerators come in conjugate pairs, evaluated on the imaginary axis z = iy (where the
bilinear map sends the roots of unity). Each pair folds into one real-coefficient term over
(iy - w)(iy - conj w), so the sum needs half the reciprocals of the full basis and real
matrix products instead of complex ones.

The torch backend chunks over l; backward keeps the reciprocals up to `_SAVED_ELEMENTS`
and recomputes them chunk by chunk beyond, so memory stays O(H (N + L)) at any length.
The compiled backend (cauchy_compiled.py, the CPU default) writes the same sums as fused
loops through torch.compile, and for rank 1 the Woodbury step after them too
(`fused_dplr_spectrum`); it falls back to the torch backend, with one warning, where
compiling fails. It serves the calls that record a gradient (training); the others take
the torch backend, so forecasting from a loaded model builds nothing. The pykeops backend
does the reduction in its own compiled kernel (CPU or GPU).
"""

from __future__ import annotations

import torch

from s4ts.ssm._backend import resolve_backend
from s4ts.ssm.cauchy_compiled import (
    CompiledUnavailable,
    cauchy_conjugate_compiled,
    compiled_usable,
    dplr_spectrum_compiled,
    note_compiled_failure,
)

# Elements of one (H, N/2, chunk) block of pair reciprocals, counted twice: 4 MiB in complex64.
_CHUNK_ELEMENTS = 2**20


def _chunk_size(H: int, N: int, L: int) -> int:
    return max(1, min(L, _CHUNK_ELEMENTS // max(1, H * N)))


def cauchy_conjugate(
    v: torch.Tensor, y: torch.Tensor, w: torch.Tensor, backend: str | None = None
) -> torch.Tensor:
    """Σ_n v/(iy - w) + conj(v)/(iy - conj(w)); v (H, K, N/2) complex, y (H, L) real,
    w (H, N/2) complex -> (H, K, L) complex."""
    name = resolve_backend(backend, v.device)
    if name == "keops":
        return _cauchy_conjugate_keops(v, y, w)
    if name == "compiled" and _trains(v, w):
        try:
            return cauchy_conjugate_compiled(v, y, w)
        except CompiledUnavailable as err:
            note_compiled_failure(str(err))
    # v/(iy - w) + conj(v)/(iy - conj(w)) = (2iy Re v - 2 Re(v conj w)) / ((iy - w)(iy - conj w))
    coeff = torch.cat([v.real, (v * w.conj()[:, None]).real], dim=1)  # (H 2K N/2)
    return CauchyConjugate.apply(coeff, y, w)


def _trains(*tensors: torch.Tensor) -> bool:
    """Whether a call takes the compiled loops: where they build (once per process) and the
    call records a gradient. Calls without one (forecasts, validation) run the torch backend,
    a few milliseconds more per kernel, so a process that only predicts builds nothing."""
    return compiled_usable() and torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def fused_dplr_spectrum(
    v: torch.Tensor, y: torch.Tensor, w: torch.Tensor, front: torch.Tensor,
    nyquist: torch.Tensor | None, channels: int, backend: str | None = None,
) -> torch.Tensor | None:
    """The rank-1 DPLR spectrum (channels, H, F[+1]) in fused loops where the compiled
    backend serves (`dplr_spectrum_compiled`), else None: the caller then takes the Cauchy
    sums from `cauchy_conjugate` and applies the Woodbury step itself."""
    if resolve_backend(backend, v.device) != "compiled" or not _trains(v, w):
        return None
    try:
        return dplr_spectrum_compiled(v, y, w, front, nyquist, channels)
    except CompiledUnavailable as err:
        note_compiled_failure(str(err))
        return None


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


def _cauchy_conjugate_keops(v: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """`cauchy_conjugate` as one pykeops reduction over the pairs:
    Σ_n (-2 Re(v conj w) + 2iy Re v) / ((iy - w)(iy - conj w))."""
    from pykeops.torch import Genred

    H, K, N2 = v.shape
    L = y.shape[-1]
    # i indexes l (kept), j indexes the pairs (summed); K folds into the batch axis. Complex
    # numbers travel as (re, im) pairs. Written with Real2Complex, Imag2Complex and Conj of
    # the variables, pykeops 2.3 computed the sums but failed to build their derivative
    # (ValueError from VectorizedComplexScalarOp), so every variable here is complex already.
    reduce_pairs = Genred(
        "ComplexDivide(ComplexMult(z, a) + b, ComplexMult(z - w, z - wc))",
        ["a = Vj(2)", "b = Vj(2)", "z = Vi(2)", "w = Vj(2)", "wc = Vj(2)"],
        reduction_op="Sum",
        axis=1,
    )
    as_pairs = lambda x: torch.view_as_real(x.to(w.dtype).reshape(H * K, N2)).contiguous()  # (HK N/2 2)
    a = as_pairs(2 * v.real)  # 2 Re v
    b = as_pairs(-2 * (v * w.conj()[:, None]).real)  # -2 Re(v conj w)
    z = torch.view_as_real(torch.complex(torch.zeros_like(y), y)).repeat_interleave(K, dim=0)  # (HK L 2)
    w_r = torch.view_as_real(w).repeat_interleave(K, dim=0)  # (HK N/2 2)
    wc_r = torch.view_as_real(w.conj().resolve_conj()).repeat_interleave(K, dim=0)
    out = reduce_pairs(a, b, z, w_r, wc_r, backend="auto")  # (HK L 2)
    return torch.view_as_complex(out.contiguous()).reshape(H, K, L)
