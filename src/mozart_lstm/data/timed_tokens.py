"""Timed tokens (`data.tokenization=timed`): each token is a pitch token and the gap to the next event's onset,
`E-5:1/4` or `B3.B2:0`, so that the model learns when a note comes and not only which note.

Gaps are quarter lengths quantised to GAPS, the values music21's parse leaves in the lab's 20 sonatas (it
quantises MIDI onsets to sixteenths and eighth-note triplets), each to the nearest value (a tie goes to the
shorter one); a gap longer than 2 quarters is capped at 2. On the corpus, 99.68% of the gaps quantise exactly,
the cap touches 147 of 114195, and the vocabulary grows from 1147 tokens to 2908 (see docs/timed_tokens.md).
The last event of a piece has no next event: its gap is its own duration, so a piece's last note still has a
length.

Timed tokens are derived from the cached tokens, offsets and durations: switching the tokenization never
re-parses.
"""

import functools
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

TOKENIZATIONS = ("pitch", "timed")
SEPARATOR = ":"  # never part of a pitch token (`E-5`, `F#4`, `B3.B2`)
# Whole ticks for every gap below, so that quantising is integer arithmetic.
TICKS_PER_QUARTER = 48
GAPS = tuple(Fraction(value) for value in ("0", "1/12", "1/6", "1/4", "1/3", "1/2", "3/4", "1", "3/2", "2"))
GAP_TICKS = tuple(int(gap * TICKS_PER_QUARTER) for gap in GAPS)
GAP_LABELS = tuple(str(gap) for gap in GAPS)


@functools.lru_cache(maxsize=1024)
def _nearest_gap(ticks: int) -> int:
    """The index in GAPS nearest to `ticks`, ties to the shorter gap, the longest for anything beyond it."""
    return min(range(len(GAP_TICKS)), key=lambda i: (abs(GAP_TICKS[i] - ticks), GAP_TICKS[i]))


def gap_label(gap: float) -> str:
    """The quantised gap as its token suffix: `0`, `1/4`, `3/2`..."""
    return GAP_LABELS[_nearest_gap(round(gap * TICKS_PER_QUARTER))]


def timed_tokens(tokens: Sequence[str], offsets: Sequence[float], durations: Sequence[float]) -> list[str]:
    """One piece's pitch tokens with the gap from each onset to the next (the last: its own duration)."""
    if not tokens:
        return []
    gaps = np.diff(np.asarray(offsets, dtype=float), append=offsets[-1] + durations[-1])
    return [f"{token}{SEPARATOR}{gap_label(gap)}" for token, gap in zip(tokens, gaps.tolist(), strict=True)]


def pitch_part(token: str) -> str:
    """`E-5:1/4` → `E-5`; a pitch-only token is returned as it is."""
    return token.partition(SEPARATOR)[0]


@functools.lru_cache(maxsize=64)
def _gap_value(label: str) -> float:
    return float(Fraction(label))


def is_timed(tokens: Sequence[str]) -> bool:
    return bool(tokens) and all(SEPARATOR in token for token in tokens)


def token_gaps(tokens: Sequence[str]) -> np.ndarray | None:
    """The gap each token says comes after it, in quarter lengths; None for pitch-only tokens."""
    if not is_timed(tokens):
        return None
    return np.array([_gap_value(token.partition(SEPARATOR)[2]) for token in tokens])


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


def part_ids(vocab: Sequence[str]) -> tuple[list[int], list[int]]:
    """For each timed token of `vocab`, the index of its pitch part among the distinct pitch parts and the
    index of its gap in GAPS: what pitch and timing accuracy compare."""
    pitches = sorted({pitch_part(token) for token in vocab})
    pitch_index = {name: i for i, name in enumerate(pitches)}
    gap_index = {label: i for i, label in enumerate(GAP_LABELS)}
    return (
        [pitch_index[pitch_part(token)] for token in vocab],
        [gap_index[token.partition(SEPARATOR)[2]] for token in vocab],
    )
