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
from labtools.errors import check_fields
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


@dataclass(frozen=True)
class Rhythm:
    """Where the tokens fall in time, in quarter lengths (see make_timing); conf/rhythm/ builds one.

    `offset="fixed"` steps `offset_step` between onsets (the lab's 0.5); `"empirical"` draws each gap from the
    corpus's distribution of offset differences (0.0 gaps sound together); `"learned"` takes the gaps timed tokens
    carry (see `data.timed_tokens`); `"auto"` is learned when there are learned gaps, else fixed.
    `duration="fixed"` gives every token `duration_value` (null: until the next onset, `offset_step` unless
    learned; 1.0 is the lab's music21 default); `"empirical"` draws from the corpus, leaving out grace notes.
    """

    offset: str = "auto"
    offset_step: float = 0.5
    duration: str = "fixed"
    duration_value: float | None = None

    def __post_init__(self):
        """Each field is judged here and only here; the message starts with the field as a config sets it."""
        quarters = f"(0, {MAX_QUARTERS}] (quarter lengths)"
        value = self.duration_value
        problems = [
            (self.offset not in OFFSETS, f"offset={self.offset!r}: must be one of {OFFSETS}"),
            (self.duration not in DURATIONS, f"duration={self.duration!r}: must be one of {DURATIONS}"),
            (not in_quarters(self.offset_step), f"offset_step={self.offset_step!r}: must be in {quarters}"),
            (value is not None and not in_quarters(value), f"duration_value={value!r}: must be in {quarters} or null"),
        ]
        check_fields(problems)


def in_quarters(value) -> bool:
    return is_positive(value) and value <= MAX_QUARTERS


DEFAULT_RHYTHM = Rhythm()


def make_timing(
    n: int,
    rhythm: Rhythm = DEFAULT_RHYTHM,
    *,
    corpus: dict | None = None,
    seed: int | None = 0,
    learned_gaps: np.ndarray | None = None,
) -> Timing:
    """Place `n` tokens in time as `rhythm` says.

    `corpus` is the corpus rhythm a checkpoint carries (`offset_gaps` and `durations` distributions), needed by
    the empirical choices; `learned_gaps` are the gaps timed tokens carry; `seed` seeds the empirical draws.
    """
    offset, step = rhythm.offset, float(rhythm.offset_step)
    if offset == "auto":
        offset = "fixed" if learned_gaps is None else "learned"
    if "empirical" in (offset, rhythm.duration) and not corpus:
        raise ValueError("offset/duration=empirical needs the corpus rhythm, which this model lacks; use fixed")
    if offset == "learned" and learned_gaps is None:
        raise ValueError("offset=learned needs timed tokens (a model trained with data.tokenization=timed)")
    if offset == "learned" and len(learned_gaps) != n:
        raise ValueError(f"offset=learned needs one gap per token: {len(learned_gaps)} gaps for {n} tokens")
    rng = np.random.default_rng(seed)
    if offset == "learned":
        offsets = onsets(np.asarray(learned_gaps, dtype=float))
    else:
        gaps = np.full(n - 1, step) if offset == "fixed" else draw(corpus["offset_gaps"], n - 1, rng)
        offsets = np.concatenate([[0.0], np.cumsum(gaps)])
    if rhythm.duration == "fixed" and rhythm.duration_value is None and offset == "learned":
        durations = legato_durations(np.asarray(learned_gaps, dtype=float), last=step)
    elif rhythm.duration == "fixed":
        durations = np.full(n, step if rhythm.duration_value is None else float(rhythm.duration_value))
    else:
        durations = draw(corpus["durations"], n, rng, positive=True)
    return Timing(offsets, durations)


def draw(distribution: dict, n: int, rng: np.random.Generator, positive: bool = False) -> np.ndarray:
    values = np.asarray(distribution["values"], dtype=float)
    probs = np.asarray(distribution["probs"], dtype=float)
    if positive:
        probs = np.where(values > 0, probs, 0.0)
    return rng.choice(values, size=max(n, 0), p=probs / probs.sum())


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


def write_midi(tokens: list[str], path, *, timing: Timing | None = None, rhythm: Rhythm = DEFAULT_RHYTHM) -> Path:
    """Write the tokens as a piano MIDI file at `path` and return the path.

    Pass a ready `timing`, or a `rhythm` (fixed 0.5 steps by default; the tokens' own gaps for timed tokens).
    """
    if timing is None:
        timing = make_timing(len(tokens), rhythm, learned_gaps=token_gaps(tokens))
    path = Path(path)
    with atomic_path(path) as tmp:
        build_stream(tokens, timing).write("midi", fp=tmp)
    return path
