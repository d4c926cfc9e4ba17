"""Problem 5: tokens → music21 Notes and Chords on a piano → a MIDI file, with a fixed, empirical or learned rhythm.

A token holding `.` (e.g. `B3.E4`) becomes a Chord of Notes, any other token (e.g. `E5`) a Note; a timed
token (`E5:1/4`, see `data.timed_tokens`) sounds its pitch part. Offsets and durations are in quarter lengths.
"""

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from music21 import chord, instrument, note, pitch, stream

from labtools.checks import is_positive
from labtools.fileio import atomic_path
from mozart_lstm.data.timed_tokens import legato_durations, onsets, pitch_part, token_gaps

# auto: learned when the tokens carry their timing (timed tokens), else fixed
OFFSETS = ("auto", "fixed", "empirical", "learned")
DURATIONS = ("fixed", "empirical")
# A MIDI time step holds at most 2^28 ticks, 26630 quarters at music21's 10080 ticks per quarter; 1000 quarters
# (over 8 minutes at 120 bpm) is far beyond music and well inside that.
MAX_QUARTERS = 1000


@dataclass(frozen=True)
class Timing:
    offsets: np.ndarray
    durations: np.ndarray


@dataclass(frozen=True)
class NoteEvent:
    """One token placed in time: what the synthesizer plays and the piano roll draws."""

    offset: float
    duration: float
    pitches: tuple[int, ...]  # MIDI numbers


def make_timing(
    n: int,
    *,
    offset: str = "auto",
    offset_step: float = 0.5,
    duration: str = "fixed",
    duration_value: float | None = None,
    rhythm: dict | None = None,
    seed: int | None = 0,
    learned_gaps: np.ndarray | None = None,
) -> Timing:
    """Place `n` tokens in time.

    `offset="fixed"` steps `offset_step` between onsets (the lab's 0.5); `"empirical"` draws each gap
    from `rhythm["offset_gaps"]`, the corpus's distribution of offset differences (0.0 gaps sound
    together); `"learned"` takes the gaps the timed tokens carry (`learned_gaps`, see `data.timed_tokens`);
    `"auto"` is learned when there are learned gaps, else fixed. `duration="fixed"` gives every token
    `duration_value` (null: until the next onset, `offset_step` unless learned; 1.0 is the lab's music21
    default); `"empirical"` draws from `rhythm["durations"]`, leaving out zero-length grace notes.
    """
    check_rhythm(offset, offset_step, duration, duration_value)
    if offset == "auto":
        offset = "fixed" if learned_gaps is None else "learned"
    if "empirical" in (offset, duration) and not rhythm:
        raise ValueError("offset/duration=empirical needs the corpus rhythm, which this model lacks; use fixed")
    if offset == "learned" and learned_gaps is None:
        raise ValueError("offset=learned needs timed tokens (a model trained with data.tokenization=timed)")
    if offset == "learned" and len(learned_gaps) != n:
        raise ValueError(f"offset=learned needs one gap per token: {len(learned_gaps)} gaps for {n} tokens")
    rng = np.random.default_rng(seed)
    if offset == "learned":
        offsets = onsets(np.asarray(learned_gaps, dtype=float))
    else:
        gaps = np.full(n - 1, float(offset_step)) if offset == "fixed" else draw(rhythm["offset_gaps"], n - 1, rng)
        offsets = np.concatenate([[0.0], np.cumsum(gaps)])
    if duration == "fixed" and duration_value is None and offset == "learned":
        durations = legato_durations(np.asarray(learned_gaps, dtype=float), last=float(offset_step))
    elif duration == "fixed":
        durations = np.full(n, float(offset_step if duration_value is None else duration_value))
    else:
        durations = draw(rhythm["durations"], n, rng, positive=True)
    return Timing(offsets, durations)


def draw(distribution: dict, n: int, rng: np.random.Generator, positive: bool = False) -> np.ndarray:
    values = np.asarray(distribution["values"], dtype=float)
    probs = np.asarray(distribution["probs"], dtype=float)
    if positive:
        probs = np.where(values > 0, probs, 0.0)
    return rng.choice(values, size=max(n, 0), p=probs / probs.sum())


def check_rhythm(offset, offset_step, duration, duration_value):
    """Raise ValueError naming the first bad rhythm option."""
    if offset not in OFFSETS:
        raise ValueError(f"offset must be one of {OFFSETS}, got {offset!r}")
    if duration not in DURATIONS:
        raise ValueError(f"duration must be one of {DURATIONS}, got {duration!r}")
    if not is_positive(offset_step) or offset_step > MAX_QUARTERS:
        raise ValueError(f"offset_step must be in (0, {MAX_QUARTERS}] (quarter lengths), got {offset_step!r}")
    if duration_value is not None and (not is_positive(duration_value) or duration_value > MAX_QUARTERS):
        raise ValueError(
            f"duration_value must be in (0, {MAX_QUARTERS}] (quarter lengths) or null, got {duration_value!r}"
        )


def to_music21(token: str):
    token = pitch_part(token)
    if "." in token:
        return chord.Chord([note.Note(name) for name in token.split(".")])
    return note.Note(token)


@functools.lru_cache(maxsize=4096)
def midi_numbers(token: str) -> tuple[int, ...]:
    return tuple(pitch.Pitch(name).midi for name in pitch_part(token).split("."))


def note_events(tokens: list[str], timing: Timing) -> list[NoteEvent]:
    return [
        NoteEvent(float(o), float(d), midi_numbers(token))
        for token, o, d in zip(tokens, timing.offsets, timing.durations, strict=True)
    ]


def build_stream(tokens: list[str], timing: Timing):
    """A music21 Stream of the tokens on a piano, each at its offset with its duration."""
    piece = stream.Stream()
    piece.insert(0, instrument.Piano())
    for token, offset, duration in zip(tokens, timing.offsets, timing.durations, strict=True):
        element = to_music21(token)
        element.quarterLength = float(duration)
        piece.insert(float(offset), element)
    return piece


def write_midi(tokens: list[str], path, *, timing: Timing | None = None, **rhythm) -> Path:
    """Write the tokens as a piano MIDI file at `path` and return the path.

    Pass a ready `timing`, or the keyword arguments of `make_timing` (fixed 0.5 steps by default; the
    tokens' own gaps for timed tokens).
    """
    if timing is None:
        timing = make_timing(len(tokens), learned_gaps=token_gaps(tokens), **rhythm)
    path = Path(path)
    with atomic_path(path) as tmp:
        build_stream(tokens, timing).write("midi", fp=tmp)
    return path
