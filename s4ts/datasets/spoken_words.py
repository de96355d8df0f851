"""Synthetic spoken-word corpus in the Speech Commands layout, spoken by espeak-ng.

Each speaker is one espeak-ng voice (accent) combined with one voice variant; every
utterance also draws its own speed, pitch, gain, time shift, channel colouring and
background noise, so the task is not a lookup of identical waveforms. Speakers are
split between train, validation and test, so test accuracy measures generalisation
to unseen speakers.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from s4ts.data.audio import read_wav, write_wav
from s4ts.datasets.speech_commands import SAMPLE_RATE, SC10_WORDS

__all__ = ["ACCENTS", "BABBLE_WORDS", "VARIANTS", "Speaker", "espeak_available", "generate_corpus"]

# espeak-ng's own English voices (no mbrola data needed): one accent each.
ACCENTS = (
    "en-gb",
    "en-us",
    "en-gb-scotland",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-gb-x-rp",
    "en-029",
    "en-us-nyc",
)
# Voice variants shipped with espeak-ng (espeak-ng-data/voices/!v): male, female, child-like,
# whispery and klatt-synthesised timbres. Robot-like and effect variants are left out.
VARIANTS = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8",
    "f1", "f2", "f3", "f4", "f5",
    "klatt", "klatt2", "klatt3", "klatt4",
    "Alex", "Alicia", "Andrea", "Andy", "Annie", "Denis", "Diogo", "Gene", "Henrique",
    "Hugo", "Jacky", "Lee", "Marco", "Mario", "Michael", "Mike", "Nguyen", "Tweaky",
    "adam", "anika", "announcer", "antonio", "aunty", "belinda", "benjamin", "boris",
    "caleb", "david", "ed", "edward", "grandma", "grandpa", "gustave", "iven", "iven2",
    "john", "kaukovalta", "linda", "max", "michel", "miguel", "norbert", "pablo", "paul",
    "pedro", "quincy", "rob", "robert", "steph", "steph2", "travis", "victor", "zac",
)  # fmt: skip
# Words outside the Speech Commands ten, spoken quietly behind the target word as babble.
BABBLE_WORDS = (
    "house", "tree", "bird", "happy", "marvin", "sheila", "wow", "cat", "dog", "bed",
    "learn", "follow", "forward", "visual", "backward", "seven", "three", "nine",
)  # fmt: skip
_ESPEAK_RATE = 22050


@dataclass(frozen=True)
class Speaker:
    """One synthetic speaker: an espeak-ng accent plus a voice variant."""

    accent: str
    variant: str

    @property
    def voice(self) -> str:
        """The espeak-ng -v argument."""
        return f"{self.accent}+{self.variant}"

    @property
    def id(self) -> str:
        """A stable 8-hex-digit id, like Speech Commands' speaker hashes."""
        return hashlib.sha1(self.voice.encode()).hexdigest()[:8]


def espeak_available() -> bool:
    """Whether the espeak-ng executable is on PATH."""
    return shutil.which("espeak-ng") is not None


def _speak(text: str, voice: str, speed: int, pitch: int, workdir: str) -> np.ndarray:
    """Synthesise `text` and return mono float32 samples at espeak-ng's 22050 Hz."""
    fd, path = tempfile.mkstemp(suffix=".wav", dir=workdir)
    os.close(fd)
    try:
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", path, text],
            check=True,
            capture_output=True,
        )
        audio, sr = read_wav(path)
    finally:
        os.unlink(path)
    if sr != _ESPEAK_RATE:
        raise RuntimeError(f"espeak-ng wrote {sr} Hz audio; expected {_ESPEAK_RATE} Hz")
    return audio.mean(axis=0)


def _to_16k(audio: np.ndarray) -> np.ndarray:
    """Resample espeak-ng's 22050 Hz output to 16 kHz (polyphase, anti-aliased)."""
    from scipy.signal import resample_poly

    return resample_poly(audio, SAMPLE_RATE // 50, _ESPEAK_RATE // 50).astype(np.float32)


def _trim(audio: np.ndarray, threshold: float = 0.02) -> np.ndarray:
    """Drop leading and trailing near-silence so the time shift decides where the word sits."""
    loud = np.flatnonzero(np.abs(audio) > threshold * np.abs(audio).max())
    return audio[loud[0] : loud[-1] + 1] if loud.size else audio


def _noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS background noise of one kind: white, pink, brown or mains hum."""
    if kind == "hum":
        t = np.arange(n) / SAMPLE_RATE
        base = rng.choice([50.0, 60.0])
        noise = sum(rng.uniform(0.2, 1.0) * np.sin(2 * np.pi * base * h * t + rng.uniform(0, 6.3))
                    for h in (1, 2, 3, 5))
        noise = noise + 0.05 * rng.standard_normal(n)
    else:
        spectrum = np.fft.rfft(rng.standard_normal(n))
        freqs = np.fft.rfftfreq(n)
        freqs[0] = freqs[1]
        # Pink noise falls off as 1/sqrt(f) in amplitude, brown as 1/f.
        exponent = {"white": 0.0, "pink": 0.5, "brown": 1.0}[kind]
        noise = np.fft.irfft(spectrum / freqs**exponent, n)
    return noise / (np.sqrt(np.mean(noise**2)) + 1e-12)


def _colour(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random microphone/channel colouring: one-pole low-pass or high-pass, or none."""
    from scipy.signal import lfilter

    kind = rng.choice(["none", "lowpass", "highpass"])
    if kind == "none":
        return audio
    cutoff = rng.uniform(1500, 5000) if kind == "lowpass" else rng.uniform(100, 600)
    a = np.exp(-2 * np.pi * cutoff / SAMPLE_RATE)
    low = lfilter([1 - a], [1, -a], audio)
    return (low if kind == "lowpass" else audio - low).astype(np.float32)


def _utterance(
    word: str, speaker: Speaker, rng: np.random.Generator, workdir: str
) -> tuple[np.ndarray, dict]:
    """One 1-second, 16 kHz utterance of `word` with random delivery, shift, gain and noise."""
    speed = int(rng.integers(110, 231))
    pitch = int(rng.integers(15, 86))
    speech = _trim(_to_16k(_speak(word, speaker.voice, speed, pitch, workdir)))
    speech = speech[: int(0.95 * SAMPLE_RATE)]
    speech = _colour(speech, rng)
    speech = speech / (np.abs(speech).max() + 1e-9)
    clip = np.zeros(SAMPLE_RATE, dtype=np.float64)
    start = int(rng.integers(0, SAMPLE_RATE - len(speech) + 1))
    clip[start : start + len(speech)] = speech
    speech_rms = np.sqrt(np.mean(speech**2))

    snr_db = float(rng.uniform(5.0, 25.0))
    kind = str(rng.choice(["white", "pink", "brown", "hum", "babble"]))
    if kind == "babble":
        other = Speaker(str(rng.choice(ACCENTS)), str(rng.choice(VARIANTS)))
        babble = _trim(_to_16k(_speak(str(rng.choice(BABBLE_WORDS)), other.voice,
                                      int(rng.integers(110, 231)), int(rng.integers(15, 86)),
                                      workdir)))[:SAMPLE_RATE]
        noise = np.zeros(SAMPLE_RATE)
        b_start = int(rng.integers(0, SAMPLE_RATE - len(babble) + 1))
        noise[b_start : b_start + len(babble)] = babble
        noise /= np.sqrt(np.mean(babble**2)) + 1e-12
        # Babble is another word: keep it clearly quieter than the target.
        snr_db += 5.0
    else:
        noise = _noise(kind, SAMPLE_RATE, rng)
    clip += noise * speech_rms * 10 ** (-snr_db / 20)

    gain_db = float(rng.uniform(-24.0, -3.0))
    clip *= 10 ** (gain_db / 20) / (np.abs(clip).max() + 1e-9)
    meta = {"speed": speed, "pitch": pitch, "noise": kind, "snr_db": round(snr_db, 1),
                "gain_db": round(gain_db, 1), "start": start}
    return clip.astype(np.float32), meta


def generate_corpus(
    out_dir: str | os.PathLike,
    words: Sequence[str] = SC10_WORDS,
    n_speakers: int = 160,
    repeats: int = 2,
    validation_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
    n_jobs: int = 2,
) -> dict[str, int]:
    """Write a Speech Commands-style corpus to `out_dir`; returns the file count per split."""
    if not espeak_available():
        raise RuntimeError(
            "espeak-ng is not installed; run datasets/spoken_words/install_deps.sh "
            "(Debian/Ubuntu, needs root or sudo)"
        )
    n_combos = len(ACCENTS) * len(VARIANTS)
    if not 3 <= n_speakers <= n_combos:
        raise ValueError(f"n_speakers must be in [3, {n_combos}]; got {n_speakers}")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1; got {repeats}")
    if not (0 < validation_fraction and 0 < test_fraction
            and validation_fraction + test_fraction < 1):
        raise ValueError(
            "validation_fraction and test_fraction must be positive and sum to less than 1; "
            f"got {validation_fraction} and {test_fraction}"
        )
    words = list(words)
    rng = np.random.default_rng(seed)
    combos = [Speaker(a, v) for a in ACCENTS for v in VARIANTS]
    speakers = [combos[i] for i in rng.choice(n_combos, size=n_speakers, replace=False)]
    n_val = max(1, round(validation_fraction * n_speakers))
    n_test = max(1, round(test_fraction * n_speakers))
    split_of = {s.id: "validation" for s in speakers[:n_val]}
    split_of.update({s.id: "test" for s in speakers[n_val : n_val + n_test]})

    out = Path(out_dir)
    for word in words:
        (out / word).mkdir(parents=True, exist_ok=True)
    jobs = [(w, si, r) for si in range(n_speakers) for w in words for r in range(repeats)]

    def make(job: tuple[str, int, int]) -> tuple[str, str, dict]:
        word, si, rep = job
        speaker = speakers[si]
        # One generator per file, seeded from its identity, so the corpus does not
        # depend on thread scheduling.
        file_rng = np.random.default_rng([seed, si, words.index(word), rep])
        audio, meta = _utterance(word, speaker, file_rng, workdir)
        rel = f"{word}/{speaker.id}_nohash_{rep}.wav"
        write_wav(out / rel, audio, SAMPLE_RATE)
        return rel, speaker.id, meta

    with tempfile.TemporaryDirectory() as workdir, ThreadPoolExecutor(n_jobs) as pool:
        results = list(pool.map(make, jobs))

    lists = {"validation": [], "test": []}
    rows = ["file,speaker,accent,variant,split,speed,pitch,noise,snr_db,gain_db,start"]
    by_id = {s.id: s for s in speakers}
    counts = {"train": 0, "validation": 0, "test": 0}
    for rel, sid, meta in results:
        split = split_of.get(sid, "train")
        counts[split] += 1
        if split != "train":
            lists[split].append(rel)
        s = by_id[sid]
        rows.append(",".join(str(v) for v in (rel, sid, s.accent, s.variant, split, *meta.values())))
    (out / "validation_list.txt").write_text("".join(f"{r}\n" for r in sorted(lists["validation"])))
    (out / "testing_list.txt").write_text("".join(f"{r}\n" for r in sorted(lists["test"])))
    (out / "metadata.csv").write_text("\n".join(rows) + "\n")
    return counts
