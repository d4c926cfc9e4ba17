"""Mozart's reference, cut from the data: the held-out split's own music in stretches as long as the generated
pieces, decoded by the data's tokenizer at the corpus's real offsets and durations, for the judge.

With the lab's `split_by=window` the test windows interleave with the training ones, so the reference is
Mozart's music but not music the model never saw; `data.split_by=piece` holds whole pieces out.
"""

import logging
from collections.abc import Sequence

import numpy as np

from mozart_lstm.judging.features import piece_features, split_ngrams
from mozart_lstm.judging.reference import Stretch, stretch_starts
from mozart_lstm.notes import Timing

log = logging.getLogger(__name__)


def training_grams(datamodule) -> set[tuple]:
    """The 8-grams of the training split as notes: what the judge's `copied_8grams` looks for."""
    tokenizer = datamodule.tokenizer
    return split_ngrams(datamodule.train_set, [tokenizer.pitches(token) for token in datamodule.vocab.tokens])


def reference_stretches(pieces, starts: Sequence[int], length: int, count: int, tokenizer) -> list[Stretch]:
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
        found.append(Stretch(piece.name, tokenizer.events(tokens, timing)))
    return found


def reference_features(pieces, starts, length: int, count: int, train_ngrams: set, tokenizer) -> list[dict]:
    """The features (see `piece_features`) of the `reference_stretches`."""
    stretches = reference_stretches(pieces, starts, length, count, tokenizer)
    return [piece_features(s.events, train_ngrams) for s in stretches]


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
    found = reference_stretches(pieces, held_out.starts.tolist(), length, count, datamodule.tokenizer)
    if count >= 2 and len(found) < 2:
        log.warning(
            "Mozart's reference: %d stretch(es) of %d tokens fit inside one %s piece, too few for a set "
            "comparison (a shorter n_notes, or a corpus with longer pieces, gives more)",
            len(found), length, split,
        )  # fmt: skip
    return found
