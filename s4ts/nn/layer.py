"""S4 layer: y = K * u + D u, with K from an S4 (DPLR) or S4D kernel, plus its recurrence."""

from __future__ import annotations

import torch
from torch import nn

from s4ts.nn.fftconv import fft_conv, fft_length
from s4ts.ssm.kernel import DiagKernel, Rate, make_kernel
from s4ts.ssm.scan import diag_ssm_scan


class S4Layer(nn.Module):
    """Sequence-to-sequence SSM layer on (B, H, L); no norm, activation or mixing.

    `rate` rescales the learned step (Δ * rate), `dt` (B, L) gives one step
    multiplier per time step (irregular grids; mode='diag' only). `disc=None`
    picks zero-order hold for S4D and bilinear for S4 (the only rule its kernel has).
    """

    def __init__(
        self,
        d_model: int,
        d_state: int = 64,
        mode: str = "diag",
        init: str | None = None,
        channels: int = 1,
        bidirectional: bool = False,
        disc: str | None = None,
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
        ssm_lr: float | None = 1e-3,
    ) -> None:
        super().__init__()
        self.d_model, self.channels, self.bidirectional, self.mode = d_model, channels, bidirectional, mode
        kernel_channels = channels * (2 if bidirectional else 1)
        self.kernel = make_kernel(
            mode, d_model, d_state, kernel_channels, init,
            disc=disc, dt_min=dt_min, dt_max=dt_max, lr=ssm_lr,
        )
        self.D = nn.Parameter(torch.randn(channels, d_model))
        self._step_cache: tuple | None = None

    @property
    def d_output(self) -> int:
        return self.channels * self.d_model

    def forward(
        self,
        u: torch.Tensor,
        rate: Rate = 1.0,
        dt: torch.Tensor | None = None,
        return_state: bool = False,
        kernel: torch.Tensor | None = None,
    ):
        """u (B, H, L) -> y (B, C*H, L) [, end state]. `kernel`: this layer's K for (L, rate)
        when the caller computed it (`s4ts.ssm.kernel.stacked_diag_kernels`)."""
        if return_state and self.bidirectional:
            raise ValueError("return_state needs a causal layer (bidirectional=False)")
        if dt is not None:
            y, state = self._scan(u, dt)
            y = y + self.D[:, :, None] * u[:, None]  # (B C H L)
        else:
            y = self._convolve(u, rate, kernel)
            state = self.kernel.final_state(u, rate) if return_state else None
        y = y.reshape(u.shape[0], self.d_output, u.shape[-1])
        return (y, state) if return_state else y

    def _convolve(self, u: torch.Tensor, rate: Rate, K: torch.Tensor | None) -> torch.Tensor:
        L = u.shape[-1]
        K = self.kernel(L, rate) if K is None else K  # (C' H L) or (B C' H L)
        # The skip D u is a convolution with D at tap 0: folding it into K saves
        # two passes over (B, H, L) forward and backward.
        D = torch.nn.functional.pad(self.D, (0, 0, 0, K.shape[-3] - self.channels))  # (C' H)
        K = torch.cat([K[..., :1] + D[..., None], K[..., 1:]], dim=-1)
        # Zero padding to n >= 2L turns the circular FFT convolution into a linear one.
        n = fft_length(2 * L)
        if self.bidirectional:
            fwd, bwd = K.split(self.channels, dim=-3)
            # The backward kernel acts on strictly later inputs (S4 paper's bidirectional layer):
            # its taps sit at the end of the circle, at shifts -1 .. -L.
            pad = torch.nn.functional.pad
            K = pad(fwd, (0, n - L)) + pad(bwd.flip(-1), (n - L, 0))  # (... C H n)
        return fft_conv(u, K, n)  # (B C H L)

    def _scan(self, u: torch.Tensor, dt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(self.kernel, DiagKernel):
            raise ValueError(  # noqa: TRY004 - a wrong setting (mode), not a wrong argument type
                "per-step dt (irregular time grids) needs mode='diag' (S4D): the DPLR "
                "kernel has no per-step discretisation"
            )
        k = self.kernel
        if dt.shape != (u.shape[0], u.shape[-1]):
            raise ValueError(f"dt must have shape (batch, length)={(u.shape[0], u.shape[-1])}, got {tuple(dt.shape)}")
        step = torch.exp(k.log_dt)[None, :, None] * dt[:, None, :].to(k.log_dt)  # (B H L)
        C = torch.view_as_complex(k.C)
        B = torch.view_as_complex(k.B)
        y, state = diag_ssm_scan(u, k.Lambda, B, C[: self.channels], step, k.disc)
        if self.bidirectional:
            # Reversed time: the gap before reversed step j is the gap after step L-j.
            step_rev = torch.cat([step[..., :1], step.flip(-1)[..., :-1]], dim=-1)
            y_rev, _ = diag_ssm_scan(u.flip(-1), k.Lambda, B, C[self.channels :], step_rev, k.disc)
            # Output at t reads the reversed state after absorbing u[t+1] (strictly later inputs).
            y = y + torch.nn.functional.pad(y_rev.flip(-1)[..., 1:], (0, 1))
        return y, state

    def default_state(self, batch: int) -> torch.Tensor:
        """Zero recurrent state for `batch` sequences."""
        return self.kernel.default_state(batch)

    def step(self, u: torch.Tensor, state: torch.Tensor, rate: Rate = 1.0):
        """One recurrent step: u (B, H), state -> y (B, C*H), new state.

        `rate` may be a (B,) tensor (one step size per row, e.g. the next gap
        of each irregular series); the diagonal form supports that directly.
        """
        if self.bidirectional:
            raise ValueError("step() needs a causal layer (bidirectional=False)")
        if isinstance(rate, torch.Tensor) and rate.ndim > 0:
            if bool((rate == rate[0]).all()):
                rate = float(rate[0])
            elif isinstance(self.kernel, DiagKernel):
                mats = self.kernel.step_matrices(rate)  # (B H N/2) per row, not cached
                y, state = self.kernel.step(u, state, mats)
                y = y + self.D * u[:, None]
                return y.reshape(u.shape[0], self.d_output), state
            else:
                raise ValueError("per-row step rates need mode='diag'; the DPLR step is dense per rate")
        y, state = self.kernel.step(u, state, self._step_matrices(rate))
        y = y + self.D * u[:, None]  # (B C H)
        return y.reshape(u.shape[0], self.d_output), state

    def _step_matrices(self, rate: float) -> tuple:
        # Discretising the DPLR form costs a dense solve; redo it only when the
        # rate or a parameter (tracked by its in-place version counter) changed.
        key = (float(rate), tuple((p.data_ptr(), p._version) for p in self.kernel.parameters()))
        if self._step_cache is None or self._step_cache[0] != key:
            self._step_cache = (key, self.kernel.step_matrices(rate))
        return self._step_cache[1]
