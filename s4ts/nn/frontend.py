"""Learned S4 filterbank: audio-rate samples -> log band energies per frame."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from s4ts.nn.fftconv import fft_length
from s4ts.nn.pooling import masked_pool, pool_steps
from s4ts.ssm.kernel import DiagKernel

__all__ = ["S4Filterbank"]


class S4Filterbank(nn.Module):
    """(B, L, C) samples -> (B, T, C * n_filters) log frame energies, T = ceil(L / frame_length).

    Each filter is an S4D convolution (its own learned step Δ and modes), so the bank
    is defined in continuous time: at another sampling rate the filters are the same
    after rescaling Δ, and a frame spans `frame_length / rate` samples, that is the
    same duration. Frames therefore come out at one rate whatever the input rate,
    and what follows the front end never sees the rate change.

    Squared filter outputs are averaged per frame (band energy; the mean over a frame
    keeps oscillations that would cancel in a mean of the signal itself), compressed
    by a log with a floor, and centred per series and band over its valid frames
    (cepstral mean normalisation: a fixed gain or an empty band becomes a constant 0).
    `bandlimit` keeps the filters below that fraction of the training Nyquist
    frequency (see `DiagKernel`). The default 0.4 stays under the passband edge of
    `s4ts.data.audio.decimate` by 2 (0.45), so halving the rate removes nothing the
    filters use; at coarser rates modes past the new Nyquist frequency are cut, not aliased.
    """

    def __init__(
        self,
        d_input: int,
        n_filters: int = 64,
        frame_length: int = 160,
        d_state: int = 16,
        dt_min: float = 1e-2,
        dt_max: float = 0.5,
        bandlimit: float | None = 0.4,
        floor: float = 1e-4,
        ssm_lr: float | None = 1e-3,
    ) -> None:
        super().__init__()
        for name, value in (("d_input", d_input), ("n_filters", n_filters), ("frame_length", frame_length)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.frame_length, self.floor = frame_length, floor
        self.d_output = d_input * n_filters
        self.kernel = DiagKernel(
            n_filters, d_state, channels=1, dt_min=dt_min, dt_max=dt_max, lr=ssm_lr, bandlimit=bandlimit
        )

    def frame_steps(self, rate: float) -> int:
        """Samples per frame at `rate` (data step / training step); must be a whole number."""
        steps = self.frame_length / rate
        if round(steps) < 1 or not math.isclose(steps, round(steps), rel_tol=1e-6):
            raise ValueError(
                f"a frame of {self.frame_length} samples at the training rate is {steps:g} samples at "
                f"rate {rate:g}; the filterbank needs a whole number of samples per frame, so the "
                "rate must divide the frame length (e.g. 16 kHz -> 8 kHz with frames of 160)"
            )
        return round(steps)

    def forward(self, x: Tensor, mask: Tensor | None = None, rate: float = 1.0) -> tuple[Tensor, Tensor | None]:
        """x (B, L, C), mask (B, L) -> features (B, T, C * n_filters), frame mask (B, T)."""
        if isinstance(rate, Tensor):
            raise TypeError("the filterbank takes one rate for the batch (a float)")
        frame = self.frame_steps(rate)
        B, L, _ = x.shape
        u = x.transpose(1, 2)  # (B C L)
        if mask is not None:
            u = u * mask[:, None]
        n = fft_length(2 * L)  # zero padding: linear, not circular, convolution
        K = self.kernel(L, rate)[0]  # (F L)
        y = torch.fft.irfft(torch.fft.rfft(u, n=n)[:, :, None] * torch.fft.rfft(K, n=n), n=n)[..., :L]
        energy = y.square().reshape(B, self.d_output, L).transpose(1, 2)  # (B L C*F)
        energy, mask = pool_steps(energy, mask, frame)  # (B T C*F)
        z = torch.log(energy + self.floor)
        z = z - masked_pool(z, mask, "mean")[:, None]
        if mask is not None:
            z = z * mask[..., None]
        return z, mask
