"""Where decoded tokens fall in time (Problem 5): a fixed grid, the corpus's empirical gaps and durations, or
the gaps that tokens carry themselves. conf/rhythm/ builds a `Rhythm`; a tokenizer's `decode` applies it.
"""

from dataclasses import dataclass

import numpy as np

from labtools.checks import is_positive
from labtools.errors import check_fields
from mozart_lstm.notes import Timing

# auto: learned when the tokens carry their timing (timed tokens), else fixed
OFFSETS = ("auto", "fixed", "empirical", "learned")
DURATIONS = ("fixed", "empirical")
# A MIDI time step holds at most 2^28 ticks, 26630 quarters at music21's 10080 ticks per quarter; 1000 quarters
# (over 8 minutes at 120 bpm) is far beyond music and well inside that.
MAX_QUARTERS = 1000


@dataclass(frozen=True)
class Rhythm:
    """Where the tokens fall in time, in quarter lengths (see make_timing); conf/rhythm/ builds one.

    `offset="fixed"` steps `offset_step` between onsets (the lab's 0.5); `"empirical"` draws each gap from the
    corpus's distribution of offset differences (0.0 gaps sound together); `"learned"` takes the gaps the tokens
    carry (timed tokens); `"auto"` is learned when there are learned gaps, else fixed.
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
    the empirical choices; `learned_gaps` are the gaps the tokens carry; `seed` seeds the empirical draws.
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


def onsets(gaps: np.ndarray) -> np.ndarray:
    """Each token's onset: the first at 0, every next one its gap later."""
    return np.concatenate([[0.0], np.cumsum(gaps[:-1])])


def legato_durations(gaps: np.ndarray, last: float) -> np.ndarray:
    """Each token lasts until the next onset later than its own: tokens with gap 0 start together and end
    together. The final onset lasts its own gap, or `last` when that is 0."""
    durations = np.empty(len(gaps))
    following = last  # the duration of the token after this one
    for i in range(len(gaps) - 1, -1, -1):
        durations[i] = gaps[i] if gaps[i] > 0 else following
        following = durations[i]
    return durations


def mean_gap(offset: str, offset_step: float, corpus: dict | None) -> float:
    """Quarter lengths between consecutive notes, on average, for a resolved `offset` (not auto). Learned gaps are
    unknown until generated; the corpus's mean gap, which they imitate, stands in."""
    if offset in ("learned", "empirical") and corpus:
        gaps = corpus["offset_gaps"]
        return sum(v * p for v, p in zip(gaps["values"], gaps["probs"], strict=True))
    return offset_step
