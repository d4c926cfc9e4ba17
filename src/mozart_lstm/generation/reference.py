"""Mozart's reference: the features of the held-out split's own music, cut into stretches as long as the
generated pieces and placed in time with the corpus's real offsets and durations.

A stretch starts at a test-split window start and stays inside one piece; stretches do not overlap. With
the lab's `split_by=window` the test windows interleave with the training ones, so the reference is
Mozart's music but not music the model never saw; `data.split_by=piece` holds whole pieces out.
"""

import bisect
import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mozart_lstm.generation.features import piece_features
from mozart_lstm.generation.music import NoteEvent, Timing, note_events

log = logging.getLogger(__name__)


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


def reference_stretches(pieces, starts: Sequence[int], length: int, count: int) -> list[Stretch]:
    """Up to `count` stretches of `length` tokens at the corpus's real offsets and durations.

    `pieces` are the corpus's `Piece`s in the order their tokens were concatenated into the stream that
    `starts` index; every stretch's time starts at 0.
    """
    found = []
    for index, at in stretch_starts(starts, [len(p.tokens) for p in pieces], length, count):
        piece = pieces[index]
        tokens = piece.tokens[at : at + length]
        offsets = np.asarray(piece.offsets[at : at + length], dtype=float)
        timing = Timing(offsets - offsets[0], np.asarray(piece.durations[at : at + length], dtype=float))
        found.append(Stretch(piece.name, note_events(tokens, timing)))
    return found


def reference_features(pieces, starts: Sequence[int], length: int, count: int, train_ngrams: set) -> list[dict]:
    """The features (see `piece_features`) of the `reference_stretches`."""
    return [piece_features(s.events, train_ngrams) for s in reference_stretches(pieces, starts, length, count)]


def mozart_reference(datamodule, length: int, count: int, train_grams: set, split: str = "test") -> list[dict]:
    """The features of `mozart_stretches`."""
    return [piece_features(s.events, train_grams) for s in mozart_stretches(datamodule, length, count, split)]


def mozart_stretches(datamodule, length: int, count: int, split: str = "test") -> list[Stretch]:
    """`reference_stretches` of a set-up `MidiDataModule`'s held-out `split` ("test", or "val" where the run has a
    validation split); its pieces are re-read from the token cache, which holds their timing."""
    if count == 0:
        return []
    held_out = {"test": datamodule.test_set, "val": datamodule.val_set}[split]
    if held_out is None:
        raise ValueError(f"the data module has no {split} split")
    pieces = datamodule.pieces()  # the windows hold ids only; the timing is in the pieces
    found = reference_stretches(pieces, held_out.starts.tolist(), length, count)
    if count >= 2 and len(found) < 2:
        log.warning(
            "Mozart's reference: %d stretch(es) of %d tokens fit inside one %s piece, too few for a set "
            "comparison (a shorter n_notes, or a corpus with longer pieces, gives more)",
            len(found), length, split,
        )  # fmt: skip
    return found
