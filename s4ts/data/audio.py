"""Audio input: WAV files, anti-aliased decimation and MFCC features, all in numpy/torch."""

from __future__ import annotations

import math
import os
import wave

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "MFCC",
    "dct_matrix",
    "decimate",
    "lowpass_filter",
    "mel_filterbank",
    "pad_or_crop",
    "read_wav",
    "write_wav",
]

_PCM_DTYPES = {1: np.uint8, 2: np.int16, 4: np.int32}


def read_wav(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read a PCM WAV file as float32 samples in [-1, 1], shape (channels, length), and its rate."""
    with wave.open(os.fspath(path), "rb") as f:
        width = f.getsampwidth()
        n_channels = f.getnchannels()
        sample_rate = f.getframerate()
        raw = f.readframes(f.getnframes())
    if width not in _PCM_DTYPES:
        raise ValueError(
            f"{os.fspath(path)!r}: {8 * width}-bit samples are not supported; "
            "convert the file to 8, 16 or 32-bit integer PCM"
        )
    data = np.frombuffer(raw, dtype=_PCM_DTYPES[width]).astype(np.float32)
    if width == 1:
        # 8-bit WAV is unsigned with its zero at 128.
        data = (data - 128.0) / 128.0
    else:
        data /= float(2 ** (8 * width - 1))
    return data.reshape(-1, n_channels).T.copy(), sample_rate  # (C, L)


def write_wav(path: str | os.PathLike, audio: np.ndarray, sample_rate: int) -> None:
    """Write float samples in [-1, 1] of shape (length,) or (channels, length) as 16-bit PCM."""
    audio = np.asarray(audio, dtype=np.float64)
    if audio.ndim == 1:
        audio = audio[None, :]
    if audio.ndim != 2:
        raise ValueError(f"audio must be (length,) or (channels, length); got shape {audio.shape}")
    pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")  # (C, L)
    with wave.open(os.fspath(path), "wb") as f:
        f.setnchannels(audio.shape[0])
        f.setsampwidth(2)
        f.setframerate(int(sample_rate))
        f.writeframes(pcm.T.tobytes())


def pad_or_crop(audio: np.ndarray, length: int) -> np.ndarray:
    """Zero-pad at the end or crop the end so the last axis has exactly `length` samples."""
    n = audio.shape[-1]
    if n >= length:
        return audio[..., :length]
    pad = [(0, 0)] * (audio.ndim - 1) + [(0, length - n)]
    return np.pad(audio, pad)


def _sinc_lowpass_taps(cutoff: float, half_width: int) -> Tensor:
    """Windowed-sinc low-pass FIR taps; cutoff is a fraction of the Nyquist frequency."""
    n = torch.arange(-half_width, half_width + 1, dtype=torch.float64)  # (T,)
    taps = cutoff * torch.sinc(cutoff * n) * torch.kaiser_window(
        2 * half_width + 1, periodic=False, beta=8.6, dtype=torch.float64
    )
    return taps / taps.sum()  # unit DC gain


def lowpass_filter(x: Tensor, cutoff: float, half_width: int = 64) -> Tensor:
    """Zero-phase low-pass filter along the last axis; cutoff is a fraction of Nyquist in (0, 1]."""
    if not 0.0 < cutoff <= 1.0:
        raise ValueError(f"cutoff must be in (0, 1] (fraction of Nyquist); got {cutoff}")
    taps = _sinc_lowpass_taps(cutoff, half_width).to(x.dtype)  # (T,)
    shape = x.shape
    flat = x.reshape(-1, 1, shape[-1])  # (B, 1, L)
    # Reflect padding keeps the edges from ringing against an artificial step to zero;
    # it needs more samples than the half width, otherwise fall back to zeros.
    mode = "reflect" if shape[-1] > half_width else "constant"
    flat = torch.nn.functional.pad(flat, (half_width, half_width), mode=mode)
    out = torch.nn.functional.conv1d(flat, taps.view(1, 1, -1))  # (B, 1, L)
    return out.reshape(shape)


def decimate(x: Tensor | np.ndarray, factor: int, half_width: int = 64) -> Tensor:
    """Anti-aliased downsampling by an integer factor along the last axis (low-pass, then keep every factor-th sample)."""
    if not isinstance(factor, int) or factor < 1:
        raise ValueError(f"factor must be a positive integer; got {factor!r}")
    x = torch.as_tensor(x)
    if not torch.is_floating_point(x):
        x = x.to(torch.float32)
    if factor == 1:
        return x.clone()
    # A cutoff slightly under the new Nyquist leaves room for the filter's transition band.
    return lowpass_filter(x, 0.9 / factor, half_width)[..., ::factor]


def _hz_to_mel(f: Tensor) -> Tensor:
    return 2595.0 * torch.log10(1.0 + f / 700.0)


def _mel_to_hz(m: Tensor) -> Tensor:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def mel_filterbank(
    n_freqs: int, n_mels: int, sample_rate: float, f_min: float = 0.0, f_max: float | None = None
) -> Tensor:
    """Triangular mel filters (HTK mel scale), shape (n_freqs, n_mels), for a one-sided spectrum.

    f_max may exceed the Nyquist frequency: bands above it stay empty, which lets audio at a
    lower sample rate share the filterbank of a model trained at a higher one.
    """
    f_max = sample_rate / 2 if f_max is None else f_max
    if not 0.0 <= f_min < f_max:
        raise ValueError(f"need 0 <= f_min < f_max; got f_min={f_min}, f_max={f_max}")
    freqs = torch.linspace(0.0, sample_rate / 2, n_freqs, dtype=torch.float64)  # (F,)
    mel_pts = torch.linspace(
        _hz_to_mel(torch.tensor(f_min, dtype=torch.float64)).item(),
        _hz_to_mel(torch.tensor(f_max, dtype=torch.float64)).item(),
        n_mels + 2,
        dtype=torch.float64,
    )
    hz_pts = _mel_to_hz(mel_pts)  # (M + 2,)
    lower, center, upper = hz_pts[:-2], hz_pts[1:-1], hz_pts[2:]  # (M,) each
    rising = (freqs[:, None] - lower) / (center - lower)  # (F, M)
    falling = (upper - freqs[:, None]) / (upper - center)  # (F, M)
    return torch.clamp(torch.minimum(rising, falling), min=0.0).to(torch.float32)


def dct_matrix(n_in: int, n_out: int) -> Tensor:
    """Orthonormal DCT-II matrix, shape (n_in, n_out): x @ D gives the first n_out coefficients."""
    n = torch.arange(n_in, dtype=torch.float64)[:, None]  # (n_in, 1)
    k = torch.arange(n_out, dtype=torch.float64)[None, :]  # (1, n_out)
    d = torch.cos(math.pi / n_in * (n + 0.5) * k) * math.sqrt(2.0 / n_in)
    d[:, 0] /= math.sqrt(2.0)
    return d.to(torch.float32)


class MFCC(torch.nn.Module):
    """Mel-frequency cepstral coefficients: STFT power, mel filterbank, log, DCT-II."""

    def __init__(
        self,
        sample_rate: float = 16000,
        n_mfcc: int = 20,
        n_mels: int = 40,
        win_length: float = 0.025,
        hop_length: float = 0.010,
        f_min: float = 20.0,
        f_max: float | None = None,
        log_floor: float = 1e-6,
    ) -> None:
        super().__init__()
        if n_mfcc > n_mels:
            raise ValueError(f"n_mfcc={n_mfcc} cannot exceed n_mels={n_mels}")
        # Window and hop are given in seconds so the frame rate (hence the sequence's time
        # step seen by the model) does not depend on the audio's sample rate.
        self.sample_rate = float(sample_rate)
        self.win = max(2, round(win_length * sample_rate))
        self.hop = max(1, round(hop_length * sample_rate))
        self.n_fft = 1 << (self.win - 1).bit_length()
        self.log_floor = log_floor
        self.register_buffer("window", torch.hann_window(self.win), persistent=False)
        fb = mel_filterbank(self.n_fft // 2 + 1, n_mels, sample_rate, f_min, f_max)
        self.register_buffer("fb", fb, persistent=False)  # (F, M)
        self.register_buffer("dct", dct_matrix(n_mels, n_mfcc), persistent=False)  # (M, n_mfcc)

    @property
    def frame_rate(self) -> float:
        """Frames per second of the output sequence."""
        return self.sample_rate / self.hop

    def forward(self, waveform: Tensor) -> Tensor:
        """(..., L) waveform -> (..., n_mfcc, frames) coefficients."""
        shape = waveform.shape
        flat = waveform.reshape(-1, shape[-1]).to(self.window.dtype)  # (B, L)
        spec = torch.stft(
            flat,
            n_fft=self.n_fft,
            hop_length=self.hop,
            win_length=self.win,
            window=self.window,
            center=True,
            pad_mode="constant",
            return_complex=True,
        )  # (B, F, T)
        power = spec.abs().pow(2)  # (B, F, T)
        mel = torch.einsum("bft,fm->bmt", power, self.fb)  # (B, M, T)
        logmel = torch.log(mel.clamp_min(self.log_floor))
        coeffs = torch.einsum("bmt,mk->bkt", logmel, self.dct)  # (B, n_mfcc, T)
        return coeffs.reshape(*shape[:-1], *coeffs.shape[-2:])
