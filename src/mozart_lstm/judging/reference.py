"""Mozart's reference as the judge takes it: stretches of held-out music as notes in time, each with the piece
it comes from, and where such stretches may start (composing/held_out.py cuts them from the data).

A stretch starts at a window start of the held-out split and stays inside one piece; stretches do not overlap.
"""

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mozart_lstm.notes import NoteEvent


def stretch_starts(starts: Sequence[int], piece_lengths: Sequence[int], length: int, count: int):
    """(piece index, position in the piece) of up to `count` stretches of `length` tokens of the
    concatenated pieces: each begins at one of `starts`, lies inside one piece and overlaps no other.
    When more fit, `count` of them are taken evenly spread over the corpus."""
    bounds = list(itertools.accumulate(piece_lengths, initial=0))
    found, free_from = [], 0
    for start in sorted(int(s) for s in starts):
        piece = bisect.bisect_right(bounds, start) - 1
        if start >= free_from and piece < len(piece_lengths) and start + length <= bounds[piece + 1]:
            found.append((piece, start - bounds[piece]))
            free_from = start + length
    if len(found) <= count:
        return found
    return [found[i] for i in np.linspace(0, len(found) - 1, count).round().astype(int)]


@dataclass(frozen=True)
class Stretch:
    """Mozart's notes of one reference stretch, time from 0, and the piece they come from (the two-sample test
    never trains and tests on one piece)."""

    piece: str
    events: list[NoteEvent]
