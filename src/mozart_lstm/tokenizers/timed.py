"""Timed tokens (`data.tokenization=timed`): each token is a pitch token and the gap to the next event's onset,
`E-5:1/4` or `B3.B2:0`, so that the model learns when a note comes and not only which note.

Gaps are quarter lengths quantised to GAPS, the values music21's parse leaves in the lab's 20 sonatas (it
quantises MIDI onsets to sixteenths and eighth-note triplets), each to the nearest value (a tie goes to the
shorter one); a gap longer than 2 quarters is capped at 2. On the corpus, 99.68% of the gaps quantise exactly,
the cap touches 147 of 114195, and the vocabulary grows from 1147 tokens to 2908 (see docs/timed_tokens.md).
The last event of a piece has no next event: its gap is its own duration, so a piece's last note still has a
length. Decoded, each token lasts until the next later onset (see rhythm.legato_durations).

Timed tokens are derived from the cached pitch tokens, offsets and durations: switching the tokenization never
re-parses.
"""

import functools
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from mozart_lstm.notes import GAP_TICKS, GAPS, TICKS_PER_QUARTER
from mozart_lstm.tokenizers.base import Piece
from mozart_lstm.tokenizers.nearest import NearestPitches
from mozart_lstm.tokenizers.pitch import PitchTokenizer

SEPARATOR = ":"  # never part of a pitch token (`E-5`, `F#4`, `B3.B2`)
GAP_LABELS = tuple(str(gap) for gap in GAPS)
LABEL_TICKS = dict(zip(GAP_LABELS, GAP_TICKS, strict=True))


@functools.lru_cache(maxsize=1024)
def _nearest_gap(ticks: int) -> int:
    """The index in GAPS nearest to `ticks`, ties to the shorter gap, the longest for anything beyond it."""
    return min(range(len(GAP_TICKS)), key=lambda i: (abs(GAP_TICKS[i] - ticks), GAP_TICKS[i]))


def gap_label(gap: float) -> str:
    """The quantised gap as its token suffix: `0`, `1/4`, `3/2`..."""
    return GAP_LABELS[_nearest_gap(round(gap * TICKS_PER_QUARTER))]


@functools.lru_cache(maxsize=64)
def _gap_value(label: str) -> float:
    return float(Fraction(label))


class TimedTokenizer(PitchTokenizer):
    """Pitch tokens, each with the gap to the next onset after SEPARATOR."""

    kind = "timed"
    carries_timing = True

    def split(self, token: str) -> tuple[str, str]:
        name, separator, gap = token.partition(SEPARATOR)
        return name, separator + gap

    def with_gaps(self, names: Sequence[str], offsets: Sequence[float], durations: Sequence[float]) -> list[str]:
        """Pitch tokens with the gap from each onset to the next (the last: its own duration)."""
        if not names:
            return []
        gaps = np.diff(np.asarray(offsets, dtype=float), append=offsets[-1] + durations[-1])
        return [f"{name}{SEPARATOR}{gap_label(gap)}" for name, gap in zip(names, gaps.tolist(), strict=True)]

    def encode(self, piece: Piece) -> list[str]:
        return self.with_gaps(self.pitch_tokens(piece), piece.offsets, piece.durations)

    def gaps(self, tokens: Sequence[str]) -> np.ndarray | None:
        return np.array([_gap_value(token.partition(SEPARATOR)[2]) for token in tokens])

    def parts(self, vocab: Sequence[str]) -> dict[str, list[int]]:
        """The index of each token's pitch part among the distinct pitch parts, and of its gap in GAPS."""
        names = [self.split(token)[0] for token in vocab]
        pitch_index = {name: i for i, name in enumerate(sorted(set(names)))}
        gap_index = {label: i for i, label in enumerate(GAP_LABELS)}
        return {
            "pitch": [pitch_index[name] for name in names],
            "timing": [gap_index[token.partition(SEPARATOR)[2]] for token in vocab],
        }

    def fit_rest(self, names, offsets, durations, nearest: NearestPitches) -> tuple[list[str], set[int]]:
        """The gaps between the onsets that remain (a dropped note leaves no hole in the time), each the nearest
        gap its pitch token is known with."""
        exact = self.with_gaps(names, offsets, durations)
        tokens = [token if token in nearest.known else self._nearest_gap(token, nearest) for token in exact]
        return tokens, {i for i, (a, b) in enumerate(zip(exact, tokens, strict=True)) if a != b}

    def _nearest_gap(self, token: str, nearest: NearestPitches) -> str:
        name, _, gap = token.partition(SEPARATOR)
        ticks = LABEL_TICKS[gap]
        known = [rest.removeprefix(SEPARATOR) for rest in nearest.rests[name]]
        closest = min(known, key=lambda label: (abs(LABEL_TICKS[label] - ticks), LABEL_TICKS[label]))
        return f"{name}{SEPARATOR}{closest}"
