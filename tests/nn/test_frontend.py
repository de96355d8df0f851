"""S4Filterbank: shapes, masking, frame durations across sample rates."""

from __future__ import annotations

import math

import pytest
import torch

from s4ts.data.audio import decimate
from s4ts.nn import S4Filterbank


def tones(n: int, length: int, sample_rate: float, seed: int = 0) -> torch.Tensor:
    """(n, length, 1) sums of three tones below 2 kHz with random amplitudes and phases."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(length) / sample_rate
    freqs = torch.rand(n, 3, 1, generator=g) * 1800 + 100
    amps = torch.rand(n, 3, 1, generator=g) + 0.2
    phase = torch.rand(n, 3, 1, generator=g) * 2 * math.pi
    return (amps * torch.sin(2 * math.pi * freqs * t + phase)).sum(1)[..., None]


def test_shapes_and_frame_mask():
    fb = S4Filterbank(2, n_filters=6, frame_length=10)
    x = torch.randn(3, 95, 2)
    mask = torch.arange(95)[None] < torch.tensor([[95], [40], [7]])
    z, frames = fb(x, mask)
    assert z.shape == (3, 10, 12) and fb.d_output == 12
    assert frames.sum(1).tolist() == [10, 4, 1]
    assert (z[~frames] == 0).all()
    # centred per series and band over its valid frames
    means = (z * frames[..., None]).sum(1) / frames.sum(1, keepdim=True)
    assert means.abs().max() < 1e-5


def test_padding_never_changes_the_features():
    torch.manual_seed(0)
    fb = S4Filterbank(1, n_filters=4, frame_length=8)
    short = torch.randn(1, 37, 1)
    padded = torch.cat([short, torch.randn(1, 43, 1)], dim=1)  # junk after the end
    mask = torch.arange(80)[None] < 37
    alone, _ = fb(short)
    in_batch, frames = fb(padded, mask)
    assert frames.sum() == alone.shape[1] == 5
    torch.testing.assert_close(in_batch[:, :5], alone, atol=1e-5, rtol=1e-5)


def test_half_the_sample_rate_gives_the_same_frames():
    torch.manual_seed(0)
    fb = S4Filterbank(1, n_filters=16, frame_length=160, bandlimit=0.5)
    with torch.no_grad():
        fb.kernel.log_dt.uniform_(math.log(0.02), math.log(0.3))
    x16 = tones(4, 16000, 16000.0)  # content below 2 kHz: nothing is lost at 8 kHz
    x8 = decimate(x16.transpose(1, 2), 2).transpose(1, 2)
    with torch.no_grad():
        native, _ = fb(x16)
        zero_shot, _ = fb(x8, rate=2.0)
        naive, _ = fb(x8)  # the rate change ignored: frames twice as long, filters an octave off
    assert native.shape == zero_shot.shape == (4, 100, 16)
    err = (zero_shot - native).pow(2).mean() / native.pow(2).mean()
    naive_err = (naive[:, :50] - native[:, ::2]).pow(2).mean() / native.pow(2).mean()
    assert err < 0.05 and naive_err > 10 * err


def test_rate_must_divide_the_frame():
    fb = S4Filterbank(1, n_filters=2, frame_length=160)
    assert fb.frame_steps(2.0) == 80 and fb.frame_steps(0.5) == 320
    with pytest.raises(ValueError, match="whole number of samples per frame"):
        fb(torch.randn(1, 300, 1), rate=3.0)
    with pytest.raises(ValueError, match="n_filters"):
        S4Filterbank(1, n_filters=0)
