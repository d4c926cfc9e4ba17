"""The tokenizations, one class each behind `MusicTokenizer` (tokenizers/base.py): the lab's pitch tokens and
the timed tokens. `build_tokenizer` makes one from the data settings a run and its checkpoint hold (chord_order:
conf/data's default for those who build one by hand)."""

from labtools.errors import UserError
from mozart_lstm.tokenizers.base import MusicTokenizer, Piece
from mozart_lstm.tokenizers.pitch import CHORD_ORDERS, PitchTokenizer
from mozart_lstm.tokenizers.rhythm import DEFAULT_RHYTHM, Rhythm
from mozart_lstm.tokenizers.timed import TimedTokenizer

TOKENIZERS = {tokenizer.kind: tokenizer for tokenizer in (PitchTokenizer, TimedTokenizer)}
TOKENIZATIONS = tuple(TOKENIZERS)

__all__ = [
    "CHORD_ORDERS",
    "DEFAULT_RHYTHM",
    "TOKENIZATIONS",
    "MusicTokenizer",
    "Piece",
    "Rhythm",
    "build_tokenizer",
]


def build_tokenizer(tokenization: str, chord_order: str = "music21") -> MusicTokenizer:
    """The tokenizer `data.tokenization` names, or one UserError naming the key."""
    if tokenization not in TOKENIZERS:
        raise UserError(f"data.tokenization={tokenization!r} is not one of {', '.join(TOKENIZATIONS)}")
    try:
        return TOKENIZERS[tokenization](chord_order)
    except ValueError as err:
        raise UserError(str(err)) from None
