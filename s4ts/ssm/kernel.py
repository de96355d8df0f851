"""S4 (DPLR) and S4D (diagonal) convolution kernels, their recurrences and end states.

Both kernels map (L, rate) to K (C, H, L) with K_l = C Ā^l B̄ and Ā, B̄ the
discretisation of the continuous SSM at step Δ * rate. Conjugate pairs are
stored once (N/2 complex modes for a state of size N); outputs are real.

Parameters that define the SSM (Δ, Λ, P, B) carry an `_optim` dict with their
own learning rate and no weight decay (see `s4ts.nn.ssm_param_groups`).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from s4ts.ssm import discretize, hippo
from s4ts.ssm.cauchy import cauchy_conjugate, fused_dplr_spectrum
from s4ts.ssm.hippo import diag_init
from s4ts.ssm.vandermonde import power_sum, vandermonde

DPLR_INITS = ("legs", "legt", "fout")
Rate = float | torch.Tensor  # a scalar, or one rate per batch row (B,)


def _param(module: nn.Module, name: str, value: torch.Tensor, lr: float | None) -> None:
    """Register a parameter; complex values are stored as real (..., 2) views."""
    if value.is_complex():
        value = torch.view_as_real(value.to(torch.complex64))
    p = nn.Parameter(value.float())
    if lr is not None:
        p._optim = {"lr": lr, "weight_decay": 0.0}
    module.register_parameter(name, p)


def _complex(p: torch.Tensor) -> torch.Tensor:
    return torch.view_as_complex(p)


class _SSMBase(nn.Module):
    """Shared Δ and Λ parameterisation: log-uniform Δ, Re Λ < 0 by construction."""

    def __init__(
        self,
        d_model: int,
        Lambda: torch.Tensor,  # (H N/2) complex
        dt_min: float,
        dt_max: float,
        lr: float | None,
    ) -> None:
        super().__init__()
        if not 0 < dt_min <= dt_max:
            raise ValueError(f"need 0 < dt_min <= dt_max, got dt_min={dt_min}, dt_max={dt_max}")
        H = d_model
        log_dt = torch.rand(H) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min)
        _param(self, "log_dt", log_dt, lr)  # (H)
        # Re Λ = -exp(.) keeps every mode stable; HiPPO-LegT/FouT sit on the
        # imaginary axis, so their real part starts at a small -1e-4.
        _param(self, "log_neg_real", torch.log((-Lambda.real).clamp(min=1e-4)), lr)  # (H N/2)
        _param(self, "imag", Lambda.imag, lr)  # (H N/2)

    @property
    def Lambda(self) -> torch.Tensor:
        return torch.complex(-torch.exp(self.log_neg_real), self.imag)  # (H N/2)

    def _zeros(self, *shape: int) -> torch.Tensor:
        """Complex zeros matching the parameters' precision and device."""
        dtype = torch.complex128 if self.log_dt.dtype == torch.float64 else torch.complex64
        return torch.zeros(*shape, dtype=dtype, device=self.log_dt.device)

    def dt(self, rate: Rate = 1.0) -> torch.Tensor:
        """Step Δ * rate: (H) for a scalar rate, (B, H) for a per-row rate."""
        return _scaled(torch.exp(self.log_dt), rate)


def _scaled(dt: torch.Tensor, rate: Rate) -> torch.Tensor:
    """Steps dt (H) times a scalar rate (H), or times a per-row rate (B,) -> (B, H)."""
    if isinstance(rate, torch.Tensor) and rate.ndim > 0:
        return rate.to(dt)[:, None] * dt  # (B H)
    return dt * float(rate)


def lost_energy(modes: tuple[torch.Tensor, torch.Tensor, torch.Tensor], rate: float) -> tuple[float, float]:
    """Impulse-response energy resolved at rate 1, and the part of it that aliases at `rate`.

    A mode e^{λt} sampled every Δ·rate turns by |Im λ| Δ rate radians per
    step; past π it aliases onto a lower frequency, so the discrete model no
    longer follows the continuous one. A mode's weight is the energy of its
    impulse response, |c b|^2 / (2 |Re λ|). Modes already past π at the
    training rate were never resolved, so they do not count.
    """
    eigvals, weights, dt = modes
    energy = weights.abs().pow(2).sum(0) / (2 * eigvals.real.abs().clamp(min=1e-12))  # (H N)
    turn = eigvals.imag.abs() * dt[:, None]  # (H N) radians per training step
    resolved = turn <= math.pi
    return float(energy[resolved].sum()), float(energy[resolved & (turn * rate > math.pi)].sum())


def _check_length(L: int) -> None:
    if not isinstance(L, int) or L < 1:
        raise ValueError(f"kernel length L must be a positive integer, got {L!r}")


class DiagKernel(_SSMBase):
    """S4D: diagonal A = Λ, kernel by a Vandermonde reduction.

    `bandlimit` (in (0, 1]) cuts modes by frequency (S4ND's bandlimiting, Nguyen et
    al. 2022): a mode is kept if it turns by at most bandlimit·π radians per learned
    step Δ, and by at most π per step actually taken, Δ·rate. So the model uses
    frequencies up to `bandlimit` times the training Nyquist frequency, and on a
    coarser grid a mode past that grid's Nyquist frequency is cut instead of
    aliasing onto a lower one. At most 0.5 keeps a model within what half its
    sampling rate can carry; a real anti-aliasing filter cuts a little below the
    new Nyquist frequency, so leave it room (0.4 under `s4ts.data.audio.decimate`).
    """

    def __init__(
        self,
        d_model: int,
        d_state: int = 64,
        channels: int = 1,
        init: str = "diag-lin",
        disc: str = "zoh",
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
        lr: float | None = None,
        bandlimit: float | None = None,
    ) -> None:
        if d_state % 2:
            raise ValueError(f"d_state must be even (conjugate pairs), got {d_state}")
        if bandlimit is not None and not 0 < bandlimit <= 1:
            raise ValueError(f"bandlimit must be in (0, 1] (a fraction of the Nyquist frequency), got {bandlimit}")
        if disc not in discretize.METHODS:
            raise ValueError(f"unknown disc={disc!r}; choose one of {discretize.METHODS}")
        H, N2 = d_model, d_state // 2
        Lambda, B = diag_init(init, d_state)
        super().__init__(d_model, Lambda.expand(H, N2), dt_min, dt_max, lr)
        self.disc, self.channels, self.d_state, self.bandlimit = disc, channels, d_state, bandlimit
        _param(self, "B", B.expand(H, N2).clone(), lr)  # (H N/2)
        _param(self, "C", torch.randn(channels, H, N2, dtype=torch.complex64) * 0.5**0.5, None)

    def discrete(self, rate: Rate = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Ā and B̄: (H, N/2) each, or (B, H, N/2) for a per-row rate."""
        dt = self.dt(rate)[..., None]
        return discretize.diag_discretize(self.Lambda, _complex(self.B), dt, self.disc)

    def forward(self, L: int, rate: Rate = 1.0) -> torch.Tensor:
        """Kernel K (C, H, L), or (B, C, H, L) for a per-row rate."""
        return _diag_kernel(torch.exp(self.log_dt), self.Lambda, _complex(self.B), _complex(self.C), L, rate,
                            self.disc, self.bandlimit)

    def _output(self, dt: torch.Tensor) -> torch.Tensor:
        """C (C, H, N/2), or (B, C, H, N/2) for a per-row step Δ·rate (B, H, 1), bandlimited."""
        return _bandlimited(_complex(self.C), self.Lambda, torch.exp(self.log_dt), dt, self.bandlimit)

    def step_matrices(self, rate: Rate = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Ā, B̄ (H, N/2) and C (C, H, N/2); with a per-row rate (B, H, N/2) and (B, C, H, N/2)."""
        dA, dB = self.discrete(rate)
        return dA, dB, self._output(self.dt(rate)[..., None])

    @staticmethod
    def step(u: torch.Tensor, state: torch.Tensor, mats: tuple) -> tuple[torch.Tensor, torch.Tensor]:
        """x <- Ā x + B̄ u, y = 2 Re(C x); u (B, H), state (B, H, N/2) -> y (B, C, H)."""
        dA, dB, C = mats
        state = dA * state + dB * u[..., None]
        y = 2 * torch.einsum("bchn,bhn->bch" if C.ndim == 4 else "chn,bhn->bch", C, state).real
        return y, state

    def default_state(self, batch: int) -> torch.Tensor:
        """Zero state (B, H, N/2), complex, on the parameters' device."""
        H, N2 = self.log_neg_real.shape
        return self._zeros(batch, H, N2)

    def modes(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Continuous eigenvalues (H, N/2), their output weights C_c B (C, H, N/2), and Δ (H)."""
        return self.Lambda, _complex(self.C) * _complex(self.B), self.dt()

    def final_state(self, u: torch.Tensor, rate: float = 1.0) -> torch.Tensor:
        """State after reading u (B, H, L) from a zero state: Σ_l Ā^(L-1-l) B̄ u_l -> (B, H, N/2)."""
        dt = self.dt(rate)[..., None]
        _, dB = discretize.diag_discretize(self.Lambda, _complex(self.B), dt, self.disc)
        log_dA = discretize.diag_log_dA(self.Lambda, dt, self.disc)  # (H N/2)
        return dB * power_sum(u.flip(-1), log_dA)


def _diag_kernel(
    dt: torch.Tensor,  # (H) trained steps Δ
    Lambda: torch.Tensor,  # (H N/2)
    B: torch.Tensor,  # (H N/2)
    C: torch.Tensor,  # (C H N/2)
    L: int,
    rate: Rate,
    disc: str,
    bandlimit: float | None,
) -> torch.Tensor:
    """S4D kernel K (C, H, L), or (B, C, H, L) for a per-row rate: 2 Re Σ_n C B̄ Ā^l."""
    _check_length(L)
    step = _scaled(dt, rate)[..., None]  # (H 1) or (B H 1)
    C = _bandlimited(C, Lambda, dt, step, bandlimit)
    _, dB = discretize.diag_discretize(Lambda, B, step, disc)
    log_dA = discretize.diag_log_dA(Lambda, step, disc)  # (... H N/2)
    v = (C * dB[..., None, :, :]).movedim(-3, -2)  # (... H C N/2)
    lead = v.shape[:-3]
    H, Cc, N2 = v.shape[-3:]
    K = vandermonde(2 * v.reshape(-1, Cc, N2), log_dA.reshape(-1, N2), L)  # (.H C L)
    K = K.reshape(*lead, H, Cc, L)
    return K.movedim(-2, -3)  # (... C H L)


def _bandlimited(
    C: torch.Tensor, Lambda: torch.Tensor, dt: torch.Tensor, step: torch.Tensor, bandlimit: float | None
) -> torch.Tensor:
    """C (C, H, N/2) with the modes past the band zeroed, (B, C, H, N/2) for per-row steps
    Δ·rate (B, H, 1); the band is set by the trained steps dt (H) (see DiagKernel)."""
    if bandlimit is None:
        return C
    turn = Lambda.imag.abs()  # (H N/2) radians per unit time
    limit = torch.minimum(bandlimit * math.pi / dt[:, None], math.pi / step)
    kept = turn <= limit  # (H N/2) or (B H N/2)
    return C * kept[..., None, :, :]


def stacked_diag_kernels(kernels: list[DiagKernel], L: int, rate: Rate = 1.0) -> list[torch.Tensor]:
    """Each S4D kernel's K for (L, rate), from one pass over all their channels.

    The layers of a backbone each compute a small kernel per training step; stacked, the
    same work runs as a quarter as many, larger ops (forecasting's 4 layers of (H, N/2, L)
    = (64, 32, 120): 4-7 ms less per training step on 2 cores, of 80-90). The kernels must
    share d_state, channels, disc and bandlimit."""
    first = kernels[0]
    shared = (first.d_state, first.channels, first.disc, first.bandlimit)
    for k in kernels[1:]:
        if (k.d_state, k.channels, k.disc, k.bandlimit) != shared:
            raise ValueError(
                f"stacked kernels must share (d_state, channels, disc, bandlimit); got {shared} "
                f"and {(k.d_state, k.channels, k.disc, k.bandlimit)}"
            )
    K = _diag_kernel(
        torch.cat([torch.exp(k.log_dt) for k in kernels]),
        torch.cat([k.Lambda for k in kernels]),
        torch.cat([_complex(k.B) for k in kernels]),
        torch.cat([_complex(k.C) for k in kernels], dim=1),
        L, rate, first.disc, first.bandlimit,
    )  # (... C sum(H) L)
    return list(K.split([k.log_dt.shape[0] for k in kernels], dim=-2))


class DPLRKernel(_SSMBase):
    """S4: A = Λ - P P^*, kernel by Cauchy kernels and the Woodbury identity at roots of unity."""

    def __init__(
        self,
        d_model: int,
        d_state: int = 64,
        channels: int = 1,
        init: str = "legs",
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
        lr: float | None = None,
    ) -> None:
        if init not in DPLR_INITS:
            raise ValueError(f"unknown init {init!r} for mode='dplr'; choose one of {DPLR_INITS}")
        H = d_model
        rep = hippo.nplr(init, d_state)
        N2 = d_state // 2
        super().__init__(d_model, rep.Lambda.expand(H, N2), dt_min, dt_max, lr)
        self.channels, self.d_state = channels, d_state
        _param(self, "P", rep.P[:, None, :].expand(-1, H, N2).clone(), lr)  # (r H N/2)
        _param(self, "B", rep.B.expand(H, N2).clone(), lr)  # (H N/2)
        _param(self, "C", torch.randn(channels, H, N2, dtype=torch.complex64) * 0.5**0.5, None)
        # What the parameter C holds: the output matrix itself while c_length is 0, else
        # C~ = C (I - Ā^c_length) at rate 1 (the authors' form). The kernel at length L
        # needs C~ at L (S4 paper, Lemma C.3); stored so, training at L <= c_length skips
        # Ā^L (repeated squaring: about half of a training step's kernel time at
        # L = 256-4,096). Training at a longer L re-anchors C~ there; any other (L, rate)
        # converts back to C and stays exact.
        self.register_buffer("c_length", torch.zeros((), dtype=torch.long))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        # Weights saved before C~ storage hold C itself.
        state_dict.setdefault(prefix + "c_length", torch.zeros((), dtype=torch.long))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def output_matrix(self) -> torch.Tensor:
        """The output matrix C (C, H, N/2), whichever form the parameter holds."""
        C = _complex(self.C)
        L0 = int(self.c_length)
        if L0 == 0:
            return C
        # C~ = C (I - Ā^L0) on the real basis: c = c~ (I - Ā^L0)^-1.
        T, power = self._real_power(L0, self.dt().to(C.real.dtype))
        eye = torch.eye(power.shape[-1], dtype=power.dtype, device=power.device)
        c_tilde = _to_real_basis(C, T)  # (C H 1 N)
        c = torch.linalg.solve(eye - power, c_tilde, left=False)
        return _from_real_basis(c, T)

    def set_length(self, L: int) -> None:
        """Store C as C~ at length L, rate 1 (training at lengths up to L then skips Ā^L)."""
        _check_length(L)
        with torch.no_grad():
            C = self.output_matrix()
            self.C.copy_(torch.view_as_real(self._truncated(C, L, self.dt().to(C.real.dtype))))
            self.c_length.fill_(L)

    def _real_power(self, L: int, dt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The pair basis T (N, N) and Ā^L (H, N, N) on the real basis at steps dt (H).

        Ā^L by repeated squaring costs O(H N^2 log L) memory, flat in L; the system is
        real, so the squaring runs on real matrices (4x fewer flops than complex)."""
        A = self._state_matrix()  # (H N N)
        N = A.shape[-1]
        T = _pair_basis(N, A.dtype, A.device)  # (N N) unitary: real coords -> pairs
        A_real = (T.conj().T @ A @ T).real  # (H N N)
        eye = torch.eye(N, dtype=A_real.dtype, device=A_real.device)
        half = (dt / 2)[:, None, None]
        dA_real = torch.linalg.solve(eye - half * A_real, eye + half * A_real)  # bilinear Ā
        return T, torch.linalg.matrix_power(dA_real, L)

    def _truncated(self, C: torch.Tensor, L: int, dt: torch.Tensor) -> torch.Tensor:
        """C~ = C (I - Ā^L) (C, H, N/2) for C (C, H, N/2) at steps dt (H)."""
        T, power = self._real_power(L, dt)
        c = _to_real_basis(C, T)  # (C H 1 N)
        return _from_real_basis(c - c @ power, T)

    def _state_matrix(self) -> torch.Tensor:
        """Continuous A = Λ - P P^* (H, N, N) on the full eigenbasis."""
        P = _both_halves(_complex(self.P))  # (r H N)
        return torch.diag_embed(_both_halves(self.Lambda)) - torch.einsum("rhn,rhm->hnm", P, P.conj())

    def dense(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Continuous A (H, N, N), B (H, N), C (C, H, N) on the full eigenbasis."""
        return self._state_matrix(), _both_halves(_complex(self.B)), _both_halves(self.output_matrix())

    def modes(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Eigenvalues of A = Λ - P P^* (H, N), modal weights (C, H, N), and Δ (H)."""
        A, B, C = self.dense()
        eigvals, W = torch.linalg.eig(A)  # the low-rank term moves the eigenvalues off Λ
        weights = torch.einsum("chn,hnm->chm", C, W) * torch.linalg.solve(W, B[..., None])[..., 0]
        return eigvals, weights, self.dt()

    def step_matrices(self, rate: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Bilinear Ā (H, N, N), B̄ (H, N) and C (C, H, N) on the full basis."""
        A, B, C = self.dense()
        dA, dB = discretize.bilinear(A, B, self.dt(rate).to(A.dtype))
        return dA, dB, C

    @staticmethod
    def step(u: torch.Tensor, state: torch.Tensor, mats: tuple) -> tuple[torch.Tensor, torch.Tensor]:
        """x <- Ā x + B̄ u, y = Re(C x); u (B, H), state (B, H, N) -> y (B, C, H)."""
        dA, dB, C = mats
        state = torch.einsum("hnm,bhm->bhn", dA, state) + dB * u[..., None]
        return torch.einsum("chn,bhn->bch", C, state).real, state

    def default_state(self, batch: int) -> torch.Tensor:
        """Zero state (B, H, N) on the full basis."""
        return self._zeros(batch, self.log_dt.shape[0], self.d_state)

    def final_state(self, u: torch.Tensor, rate: float = 1.0, block: int = 64) -> torch.Tensor:
        """State after reading u (B, H, L) from zero: blocks of `block` steps, one matmul each."""
        dA, dB, _ = self.step_matrices(rate)
        B, _, L = u.shape
        T = min(block, L)
        # M[:, :, t] = Ā^(T-1-t) B̄: the contribution of step t of a block to its end state.
        cols = [dB]
        for _ in range(T - 1):
            cols.append(torch.einsum("hnm,hm->hn", dA, cols[-1]))
        M = torch.stack(cols[::-1], dim=-1)  # (H N T)
        dA_T = torch.linalg.matrix_power(dA, T)  # (H N N)
        pad = (-L) % T
        u = torch.nn.functional.pad(u, (pad, 0)).to(M.dtype)  # leading zeros leave x = 0
        x = self.default_state(B)
        for s in range(0, L + pad, T):
            x = torch.einsum("hnm,bhm->bhn", dA_T, x) + torch.einsum("hnt,bht->bhn", M, u[..., s : s + T])
        return x

    def forward(self, L: int, rate: Rate = 1.0) -> torch.Tensor:
        """Kernel K (C, H, L), or (B, C, H, L) for a per-row rate."""
        _check_length(L)
        if isinstance(rate, torch.Tensor) and rate.ndim > 0:
            # One kernel per distinct rate: the Cauchy step has no batch axis.
            values, index = torch.unique(rate, return_inverse=True)
            kernels = torch.stack([self._kernel(L, float(r)) for r in values])
            return kernels[index]
        return self._kernel(L, float(rate))

    def _kernel(self, L: int, rate: float) -> torch.Tensor:
        """K (C, H, L) at scalar rate."""
        if rate == 1.0 and L > int(self.c_length) and self.training and isinstance(self.C, nn.Parameter):
            self.set_length(L)  # training anchors C~ at the longest length it has seen
        L0 = int(self.c_length)
        if rate == 1.0 and 0 < L <= L0:
            # K_l for l < L does not depend on the truncation length: slice the L0 kernel.
            return self._cauchy_kernel(_complex(self.C), L0, self.dt())[..., :L]
        dt = self.dt(rate)
        return self._cauchy_kernel(self._truncated(self.output_matrix(), L, dt), L, dt)

    def _cauchy_kernel(self, C_tilde: torch.Tensor, L: int, dt: torch.Tensor) -> torch.Tensor:
        """K (C, H, L) from C~ (C, H, N/2) at length L and steps dt (H): Cauchy kernels at
        the roots of unity, the Woodbury identity for the low-rank term, an inverse FFT.
        The system is real, so each sum runs over one half of each conjugate pair."""
        Lambda, P, B = self.Lambda, _complex(self.P), _complex(self.B)  # (H N/2) (r H N/2) (H N/2)
        r, H, N2 = P.shape
        Cc = C_tilde.shape[0]
        n_freq = L // 2 + 1
        has_nyquist = L % 2 == 0
        n_cauchy = n_freq - 1 if has_nyquist else n_freq
        real = Lambda.real.dtype
        theta = math.pi / L * torch.arange(n_cauchy, dtype=torch.float64, device=dt.device)
        z = torch.exp(-2j * theta).to(Lambda.dtype)  # (F) roots of unity
        # The bilinear map sends z to g = 2(1 - z)/(1 + z) = i 2 tan(θ): the imaginary axis.
        g_imag = (2 * torch.tan(theta)).to(real)  # (F)
        # Rows: C~B (Cc), C~P (Cc r), P^*B (r), P^*P (r r); reduced in one Cauchy call.
        Pc = P.conj()
        v = torch.cat(
            [
                C_tilde * B,
                (C_tilde[:, None] * P[None]).reshape(Cc * r, H, N2),
                Pc * B,
                (Pc[:, None] * P[None]).reshape(r * r, H, N2),
            ]
        ).transpose(0, 1)  # (H K N/2)
        # The sums are linear in v: scaling v by Δ is scaling the (larger) result.
        v, y, w = v * dt[:, None, None], g_imag.expand(H, -1).contiguous(), dt[:, None] * Lambda
        front = 2 / (1 + z)  # (F)
        # At z = -1 the bilinear map sends g to infinity; the limit is Δ/2 C~ B, and C~ B
        # over both halves of each pair is twice the real part over one.
        nyq = (dt * (C_tilde * B).sum(-1).real).to(real) if has_nyquist else None  # (Cc H)
        # The compiled backend runs the rank-1 formula below as fused loops.
        K_hat = fused_dplr_spectrum(v, y, w, front, nyq, Cc) if r == 1 else None
        if K_hat is not None:
            return torch.fft.irfft(K_hat, n=L)  # (Cc H L)
        k = cauchy_conjugate(v, y, w)
        # split, not slicing: its backward is one concatenation, not a zero-filled tensor per part
        k00, k01, k10, k11 = k.transpose(0, 1).split([Cc, Cc * r, r, r * r])  # (K H F) in four
        k01, k11 = k01.reshape(Cc, r, H, -1), k11.reshape(r, r, H, -1)
        if r == 1:
            woodbury = k01[:, 0] * k10[0] / (1 + k11[0, 0])
        else:
            eye = torch.eye(r, dtype=k.dtype, device=k.device)
            m = eye + k11.permute(2, 3, 0, 1)  # (H F r r)
            sol = torch.linalg.solve(m, k10.permute(1, 2, 0)[..., None])[..., 0]  # (H F r)
            woodbury = torch.einsum("crhf,hfr->chf", k01, sol)
        K_hat = front * (k00 - woodbury)  # (Cc H F)
        if has_nyquist:
            K_hat = torch.cat([K_hat, nyq[..., None].to(K_hat.dtype)], dim=-1)
        return torch.fft.irfft(K_hat, n=L)  # (Cc H L)


def _both_halves(x: torch.Tensor) -> torch.Tensor:
    """(..., N/2) on one half of each conjugate pair -> (..., N) on the full basis."""
    return torch.cat([x, x.conj()], dim=-1)


def _to_real_basis(C: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
    """Rows C (C, H, N/2) on one half of each pair -> real rows (C, H, 1, N)."""
    return (_both_halves(C) @ T).real[..., None, :]


def _from_real_basis(c: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
    """Real rows (C, H, 1, N) -> rows on one half of each pair (C, H, N/2)."""
    return (c[..., 0, :].to(T.dtype) @ T.conj().T)[..., : T.shape[0] // 2]


def _pair_basis(N: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Unitary T with x_full = T x_real for states stored as [x, conj(x)] (N/2 pairs)."""
    N2 = N // 2
    eye = torch.eye(N2, dtype=dtype, device=device) / math.sqrt(2.0)
    return torch.cat([torch.cat([eye, 1j * eye], 1), torch.cat([eye, -1j * eye], 1)], 0)


def make_kernel(mode: str, d_model: int, d_state: int, channels: int, init: str | None, **kw) -> nn.Module:
    """Build a DiagKernel (mode='diag') or DPLRKernel (mode='dplr')."""
    disc = kw.pop("disc", None)
    if mode == "diag":
        return DiagKernel(d_model, d_state, channels, init=init or "diag-lin", disc=disc or "zoh", **kw)
    if mode == "dplr":
        if disc not in (None, "bilinear"):
            raise ValueError(
                f"mode='dplr' uses the bilinear discretisation (its kernel needs it); got "
                f"disc={disc!r}. Use mode='diag' for zero-order hold."
            )
        return DPLRKernel(d_model, d_state, channels, init=init or "legs", **kw)
    raise ValueError(f"unknown mode {mode!r}; choose 'diag' (S4D) or 'dplr' (S4)")
