"""A small additive piano-like synthesizer: hear a piece without a system MIDI player.

Each pitch is a few slightly stretched harmonics (piano strings are a little inharmonic), each decaying
exponentially, the higher ones faster and low notes slower; a short attack avoids clicks and a short
release ends the note at its duration. Pure numpy, so the same notes always give the same samples.
"""

from pathlib import Path

import numpy as np
from scipy.io import wavfile

from labtools.fileio import atomic_path

HARMONICS = 6
INHARMONICITY = 2e-4
ATTACK_S = 0.005
RELEASE_S = 0.08
TAIL_S = 4 * RELEASE_S  # after this the release has faded below 2%
PEAK = 0.9


def seconds_per_quarter(bpm: float) -> float:
    return 60.0 / bpm


def render(events, sample_rate: int = 22050, bpm: float = 120.0) -> np.ndarray:
    """Mix `events` (objects with `.offset`, `.duration` in quarter lengths and `.pitches` as MIDI
    numbers) into a mono float32 signal peak-normalised to 0.9; its length is the end of the last note
    plus a short release tail."""
    spq = seconds_per_quarter(bpm)
    end_s = max((e.offset + e.duration) * spq for e in events) + TAIL_S if events else 0.0
    audio = np.zeros(int(np.ceil(end_s * sample_rate)), dtype=np.float64)
    tones: dict[tuple[int, int], np.ndarray] = {}
    for event in events:
        start = int(round(event.offset * spq * sample_rate))
        held = int(round(event.duration * spq * sample_rate))
        for midi in event.pitches:
            if (midi, held) not in tones:
                tones[midi, held] = tone(midi, held, sample_rate)
            wave = tones[midi, held]
            audio[start : start + len(wave)] += wave[: len(audio) - start]
    peak = np.abs(audio).max(initial=0.0)
    if peak > 0:
        audio *= PEAK / peak
    return audio.astype(np.float32)


def tone(midi: int, held: int, sample_rate: int) -> np.ndarray:
    """One piano-like note held for `held` samples, followed by its release."""
    t = np.arange(held + int(TAIL_S * sample_rate)) / sample_rate
    f0 = 440.0 * 2.0 ** ((midi - 69) / 12)
    sustain_s = np.clip(1.5 * np.sqrt(261.6 / f0), 0.3, 3.0)
    wave = np.zeros_like(t)
    for k in range(1, HARMONICS + 1):
        fk = k * f0 * np.sqrt(1 + INHARMONICITY * k * k)
        if fk >= sample_rate / 2:
            break
        wave += np.sin(2 * np.pi * fk * t) * np.exp(-t * k / sustain_s) / k**1.5
    envelope = np.minimum(t / ATTACK_S, 1.0)
    released = t > held / sample_rate
    envelope[released] *= np.exp(-(t[released] - held / sample_rate) / RELEASE_S)
    return wave * envelope


def write_wav(path, audio: np.ndarray, sample_rate: int = 22050) -> Path:
    """Write a float signal in [-1, 1] as 16-bit PCM."""
    path = Path(path)
    pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
    with atomic_path(path) as tmp:
        wavfile.write(tmp, sample_rate, pcm)
    return path
