"""Causal FFT convolution of inputs with per-channel kernels, with a backward of real FFTs only.

    y[b, c, h, t] = Σ_s K[c, h, s] u[b, h, t - s]      (circular over n >= L + len(K) - 1,
                                                         zero-padded: linear for t < L)

torch's autograd differentiates `rfft` through a full complex FFT of the padded length; here
the backward is the two correlations the math gives, each one `rfft` / `irfft` pair:

    grad_u[b, h, s] = Σ_c Σ_t g[b, c, h, t] K[c, h, t - s]  = irfft(Σ_c G conj(K_f))[s]
    grad_K[c, h, m] = Σ_b Σ_t g[b, c, h, t] u[b, h, t - m]  = irfft(Σ_b G conj(U))[m]

Measured for (B, H, L) = (32, 64, 120), one kernel channel, forward + backward on 2 cores:
2.4-2.6 ms against 3.3-4.4 ms through autograd.

`fft_length` picks the circular length: an FFT whose length has a large prime factor is
several times slower (rfft + irfft of (32, 64) rows: 27 ms at n = 1,362 = 2 * 3 * 227
against 9 ms at 1,440 = 2^5 3^2 5, measured on 2 cores).
"""

from __future__ import annotations

import torch

__all__ = ["fft_conv", "fft_length"]


class _FFTConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u: torch.Tensor, K: torch.Tensor, n: int) -> torch.Tensor:
        L = u.shape[-1]
        u_f = torch.fft.rfft(u, n=n)[:, None]  # (B 1 H F)
        K_f = torch.fft.rfft(K, n=n)  # (C H F) or (B C H F)
        ctx.save_for_backward(u_f, K_f)
        ctx.n, ctx.L, ctx.kernel_shape = n, L, K.shape
        return torch.fft.irfft(u_f * K_f, n=n)[..., :L]  # (B C H L)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        u_f, K_f = ctx.saved_tensors
        g_f = torch.fft.rfft(grad, n=ctx.n)  # (B C H F)
        grad_u = grad_K = None
        if ctx.needs_input_grad[0]:
            grad_u = torch.fft.irfft((g_f * K_f.conj()).sum(1), n=ctx.n)[..., : ctx.L]  # (B H L)
        if ctx.needs_input_grad[1]:
            per_row = g_f * u_f.conj()  # (B C H F)
            summed = per_row if len(ctx.kernel_shape) == 4 else per_row.sum(0)  # a kernel per row: keep B
            grad_K = torch.fft.irfft(summed, n=ctx.n)[..., : ctx.kernel_shape[-1]]
        return grad_u, grad_K, None


def fft_conv(u: torch.Tensor, K: torch.Tensor, n: int) -> torch.Tensor:
    """u (B, H, L) * K (C, H, L_K) or (B, C, H, L_K) -> (B, C, H, L), circular over `n` steps."""
    return _FFTConv.apply(u, K, n)


def fft_length(n: int) -> int:
    """The smallest 2^a 3^b 5^c >= n: a length the FFT libraries transform fast."""
    best = 1 << max(n - 1, 0).bit_length()  # a power of two always qualifies
    power5 = 1
    while power5 < best:
        power35 = power5
        while power35 < best:
            m = power35
            while m < n:
                m *= 2
            best = min(best, m)
            power35 *= 3
        power5 *= 5
    return best
