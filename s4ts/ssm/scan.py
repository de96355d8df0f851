"""Diagonal SSM with a per-step Δ_k (irregular time grids), by a blocked linear scan.

On an irregular grid Ā_k = a(Δ_k Λ) differs at every step, so there is no
convolution kernel; the states follow

    x_k = a_k x_{k-1} + (a_k - 1) R u_k,   R = B / Λ,   y_k = 2 Re(C x_k),

which is zero-order hold for a = exp (B̄ = (e^{ΔΛ} - 1) Λ^-1 B) and bilinear
for a = (1 + ΔΛ/2) / (1 - ΔΛ/2) (then (a - 1) R = Δ B / (1 - ΔΛ/2)).

The recurrence is solved by a blocked scan on time-first tensors: about √L
chunks of about √L steps; one Python loop runs the recurrence inside all
chunks at once, a second carries the state from chunk to chunk, a third adds
each chunk's incoming state. That is O(L) work in about 3√L tensor operations
on contiguous slices. It only multiplies by the a_k (|a_k| <= 1 for a stable
SSM) and never divides, so long gaps (a_k -> 0) are safe.

Autograd through these steps stored a dozen (L, B, H, N) complex
intermediates per layer; `DiagSSMScan` writes the backward pass by hand (the
adjoint scan, then closed-form gradients) and saves only a_k and the states.
"""

from __future__ import annotations

import math

import torch

from s4ts.ssm import discretize


def _scan_(x: torch.Tensor, c: torch.Tensor, reverse: bool = False) -> torch.Tensor:
    """In place along the first axis: x_k += c_k x_{k-1} for k = 1..L-1 (x_k += c_k x_{k+1}
    for k = L-2..0 when `reverse`), so x (L, ...) holding inputs ends holding states."""
    L = x.shape[0]
    size = max(1, math.isqrt(L))  # steps per chunk
    n = L // size  # whole chunks; the other L - n*size steps run one by one
    rest = L - n * size
    main = slice(rest, L) if reverse else slice(0, n * size)
    xc = x[main].unflatten(0, (n, size))  # (n size ...), views of x and c
    cc = c[main].unflatten(0, (n, size))
    src = 1 if reverse else -1  # offset of the step a state comes from
    inner = range(size - 2, -1, -1) if reverse else range(1, size)
    total = cc[:, 0].clone()  # product of c over each chunk (n ...)
    for i in range(1, size):
        total *= cc[:, i]
    for i in inner:
        xc[:, i] += cc[:, i] * xc[:, i + src]
    # State entering each chunk: its neighbour's edge state, carried from chunk to chunk.
    edge = 0 if reverse else -1
    entering = torch.zeros_like(xc[:, 0])  # (n ...)
    for j in range(n - 2, -1, -1) if reverse else range(1, n):
        entering[j] = xc[j + src, edge] + total[j + src] * entering[j + src]
    carry = entering
    for i in range(size - 1, -1, -1) if reverse else range(size):
        carry = cc[:, i] * carry
        xc[:, i] += carry
    for k in range(rest - 1, -1, -1) if reverse else range(n * size, L):
        x[k] += c[k] * x[k + src]
    return x


def _transition(step: torch.Tensor, Lambda: torch.Tensor, method: str) -> tuple[torch.Tensor, torch.Tensor]:
    """a(z) and a(z) - 1 for z = Δ Λ, step (..., 1) real and Λ (H, N) complex; no cancellation in
    a - 1 for tiny z."""
    if method == "zoh":
        # Real and imaginary parts from real products: a complex z would be one more pass.
        return discretize.exp_expm1(step * Lambda.real, step * Lambda.imag)
    if method == "bilinear":
        z = step * Lambda
        a_minus_1 = z / (1 - z / 2)
        return 1 + a_minus_1, a_minus_1
    raise ValueError(f"unknown discretisation {method!r}; choose one of {discretize.METHODS}")


def _output(C: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """y = 2 Re Σ_n C x: C (C, H, N), x (L, B, H, N) -> (B, C, H, L) real."""
    # Multiply-and-sum over the contiguous last axis; einsum would permute all of x first.
    return torch.stack([2 * (x * Cc).real.sum(-1) for Cc in C]).permute(2, 0, 3, 1)


class DiagSSMScan(torch.autograd.Function):
    """(y, last state) of the per-step-Δ diagonal SSM; see the module docstring.

    Lambda, R (H, N) complex, C (C, H, N) complex, step (B, H, L) real Δ_k, u (B, H, L) real
    -> y (B, C, H, L) real, x_{L-1} (B, H, N) complex.
    """

    @staticmethod
    def forward(ctx, Lambda, R, C, step, u, method):
        a, x = _transition(step.permute(2, 0, 1)[..., None], Lambda, method)  # (L B H N), time first
        x *= R * u.permute(2, 0, 1)[..., None]  # (a - 1) R u_k, then states in place
        _scan_(x, a)
        ctx.method = method
        ctx.save_for_backward(Lambda, R, C, step, u, a, x)
        return _output(C, x), x[-1]

    @staticmethod
    def backward(ctx, grad_y, grad_last):
        # Conjugate Wirtinger gradients (torch's convention) are conj(G) times a holomorphic
        # derivative; the pass below carries G = conj(dLoss/dx) so that every conjugation
        # falls on an (H, N)-sized result, never on an (L, B, H, N) tensor.
        Lambda, R, C, step, u, a, x = ctx.saved_tensors
        uT = u.permute(2, 0, 1)[..., None].to(x.dtype)  # (L B H 1)
        gyT = grad_y.permute(3, 0, 1, 2).to(x.dtype)  # (L B C H)
        # G_k = 2 Σ_c C_c grad_y_ck + a_{k+1} G_{k+1}, a scan backwards in time.
        G = 2 * gyT[:, :, 0, :, None] * C[0]  # (L B H N)
        for c in range(1, C.shape[0]):
            G += 2 * gyT[:, :, c, :, None] * C[c]
        if grad_last is not None:
            G[-1] += grad_last.conj()
        if G.shape[0] > 1:
            G[-2] += a[-1] * G[-1]
            _scan_(G[:-1], a[1:], reverse=True)
        # x_k = a(z_k) w_k - R u_k with w_k = x_{k-1} + R u_k, so conj(dLoss/dz_k) = G_k a'(z_k) w_k.
        if ctx.method == "zoh":
            v = torch.addcmul(x, R, uT)  # a' w = a w = x_k + R u_k
        else:
            v = R * uT
            v[1:] += x[:-1]
            v *= (1 + a) ** 2 / 4  # bilinear a'(z) = 1 / (1 - z/2)^2 = (1 + a)^2 / 4
        v *= G  # conj(dLoss/dz_k)
        # z = Δ_k Λ with real Δ_k: Λ gets Σ Δ_k dz_k, Δ_k gets Re Σ_n conj(Λ) dz_k.
        grad_Lambda = (v * step.permute(2, 0, 1)[..., None]).sum((0, 1)).conj()
        grad_step = (v * Lambda).real.sum(-1).permute(1, 2, 0)
        # (a - 1) R u_k: R gets Σ conj((a - 1) u) G*, u gets Re Σ_n conj((a - 1) R) G*.
        torch.sub(a, 1, out=v)
        v *= G
        grad_R = (v * uT).sum((0, 1)).conj()
        grad_u = (v * R).real.sum(-1).permute(1, 2, 0)
        grad_C = torch.stack([2 * (x * gyT[:, :, c, :, None]).sum((0, 1)).conj() for c in range(C.shape[0])])
        return grad_Lambda, grad_R, grad_C, grad_step, grad_u, None


# Rows of (H, N, L) complex states evaluated together, so that a group's tensors stay near the
# cache: one layer's forward + backward at (B, H, N, L) = (32, 64, 32, 240) took 0.51 / 0.53 /
# 0.48 / 0.80 s in groups of 2^17 / 2^19 / 2^21 / 2^23 states x steps (autograd through the
# scan: 18.2 s for the default network's training step in one piece, 5.8 s in groups of 2^21).
_SCAN_ELEMENTS = 1 << 21


def diag_ssm_scan(
    u: torch.Tensor,
    Lambda: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    dt: torch.Tensor,
    method: str = "zoh",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Diagonal SSM with per-step Δ: y_k = 2 Re(C x_k), x_k = Ā(Δ_k) x_{k-1} + B̄(Δ_k) u_k.

    u (B, H, L) real, Λ and B (H, N), C (C, H, N), dt (B, H, L) per-step Δ
    -> y (B, C, H, L), last state (B, H, N), from a zero state.
    Rows go through in groups of at most `_SCAN_ELEMENTS` states x steps.
    """
    rows = max(1, _SCAN_ELEMENTS // (Lambda.numel() * u.shape[-1]))
    R = B / Lambda  # (H N)
    parts = [
        DiagSSMScan.apply(Lambda, R, C, dt[i : i + rows], u[i : i + rows], method)
        for i in range(0, u.shape[0], rows)
    ]
    if len(parts) == 1:
        return parts[0]
    return torch.cat([y for y, _ in parts]), torch.cat([last for _, last in parts])
