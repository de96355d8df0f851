"""Audio features, the Speech Commands loader and the espeak-ng corpus generator."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from speech_corpus import SR, tone, write_fake_corpus

from s4ts.data.audio import (
    MFCC,
    dct_matrix,
    decimate,
    mel_filterbank,
    pad_or_crop,
    read_wav,
    write_wav,
)
from s4ts.datasets.speech_commands import SC10_WORDS, list_speech_commands, load_speech_commands
from s4ts.datasets.spoken_words import espeak_available, generate_corpus


def test_wav_round_trip(tmp_path):
    x = 0.5 * tone(440.0, 800)
    write_wav(tmp_path / "a.wav", x, SR)
    y, sr = read_wav(tmp_path / "a.wav")
    assert sr == SR and y.shape == (1, 800) and y.dtype == np.float32
    np.testing.assert_allclose(y[0], x, atol=1 / 32767)


def test_pad_or_crop():
    assert pad_or_crop(np.ones(5), 8).tolist() == [1, 1, 1, 1, 1, 0, 0, 0]
    assert pad_or_crop(np.arange(10), 4).tolist() == [0, 1, 2, 3]


def test_decimate_keeps_passband_and_removes_aliases():
    low, high = tone(500.0), tone(6000.0)
    out_low = decimate(torch.from_numpy(low), 2).numpy()
    np.testing.assert_allclose(out_low[200:-200], low[::2][200:-200], atol=2e-3)
    # 6 kHz is above the 4 kHz Nyquist of 8 kHz audio: plain slicing would alias it to
    # 2 kHz at full amplitude; the low-pass must remove it.
    assert np.abs(decimate(torch.from_numpy(high), 2).numpy()[200:-200]).max() < 1e-3
    assert np.abs(high[::2]).max() > 0.9


def test_dct_matrix_is_orthonormal_dct_ii():
    from scipy.fft import dct

    x = np.random.default_rng(0).standard_normal(16)
    d = dct_matrix(16, 16).double().numpy()
    np.testing.assert_allclose(x @ d, dct(x, type=2, norm="ortho"), atol=1e-6)


def test_mel_filterbank_peaks_increase():
    fb = mel_filterbank(257, 40, SR, f_min=20.0).numpy()  # (F, M)
    peaks = fb.argmax(axis=0)
    assert fb.shape == (257, 40) and (fb >= 0).all() and fb.max() <= 1.0
    assert (np.diff(peaks) >= 0).all()


def test_mfcc_shape_and_tone_energy():
    mfcc = MFCC(sample_rate=SR, n_mfcc=13, n_mels=40)
    out = mfcc(torch.from_numpy(np.stack([tone(300.0), tone(3000.0)])))
    assert out.shape == (2, 13, 101) and mfcc.frame_rate == 100.0
    # Undo the DCT to get log-mel energies: the louder mel band follows the tone frequency.
    logmel = out.transpose(1, 2) @ dct_matrix(40, 13).T  # (2, T, M), low-order reconstruction
    band = logmel[:, 50].argmax(dim=-1)
    assert band[0] < band[1]


def test_mfcc_frame_rate_does_not_depend_on_sample_rate():
    a = MFCC(sample_rate=16000)(torch.zeros(16000))
    b = MFCC(sample_rate=8000)(torch.zeros(8000))
    assert a.shape == b.shape == (20, 101)


def test_loader_splits_and_shapes(tmp_path):
    write_fake_corpus(tmp_path)
    train = load_speech_commands(tmp_path, "train", words="all")
    assert train.X.shape == (3, 1, SR) and train.sample_rate == SR
    assert sorted(train.y) == ["no", "up", "yes"]
    assert train.X[0, 0, 12000:].max() == 0.0  # padded at the end to one second
    test = list_speech_commands(tmp_path, "test", words=["yes"])
    assert [(p.name, w) for p, w in test] == [("spk2_nohash_0.wav", "yes")]
    mfcc = load_speech_commands(tmp_path, "validation", words="all", features="mfcc", n_mfcc=13)
    assert mfcc.X.shape == (3, 13, 101) and mfcc.sample_rate == 100.0


def test_loader_errors(tmp_path):
    write_fake_corpus(tmp_path)
    with pytest.raises(ValueError, match="word folders"):
        load_speech_commands(tmp_path, words="sc10")  # only three words exist here
    with pytest.raises(ValueError, match="split"):
        list_speech_commands(tmp_path, "dev")
    (tmp_path / "testing_list.txt").unlink()
    with pytest.raises(FileNotFoundError, match="testing_list.txt"):
        list_speech_commands(tmp_path, "train", words="all")


@pytest.mark.skipif(
    not espeak_available(),
    reason="espeak-ng not installed; run datasets/spoken_words/install_deps.sh",
)
def test_generated_corpus_holds_speakers_out(tmp_path):
    counts = generate_corpus(tmp_path, words=("yes", "no"), n_speakers=5, repeats=1, seed=3)
    assert counts == {"train": 6, "validation": 2, "test": 2}
    speakers = {}
    for split in ("train", "validation", "test"):
        items = list_speech_commands(tmp_path, split, words=["yes", "no"])
        speakers[split] = {p.name.split("_nohash_")[0] for p, _ in items}
    assert not speakers["train"] & speakers["test"]
    assert not speakers["train"] & speakers["validation"]
    data = load_speech_commands(tmp_path, "train", words=["yes", "no"])
    assert data.X.shape == (6, 1, SR)
    peak = np.abs(data.X).max(axis=-1)
    assert (peak > 0.01).all() and (peak < 1.0).all()
    # Different delivery per file: no two waveforms are identical.
    assert len({x.tobytes() for x in data.X}) == 6


def test_sc10_words():
    assert len(SC10_WORDS) == 10 and "stop" in SC10_WORDS
