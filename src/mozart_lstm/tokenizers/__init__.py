"""The tokenizations, one class each behind `MusicTokenizer` (tokenizers/base.py): the lab's pitch tokens and
the timed tokens. `build_tokenizer` makes one from the data settings a run and its checkpoint hold."""

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
    "tokenizer_of",
]


def build_tokenizer(tokenization: str = "pitch", chord_order: str = "music21") -> MusicTokenizer:
    """The tokenizer `data.tokenization` names, or one UserError naming the key."""
    if tokenization not in TOKENIZERS:
        raise UserError(f"data.tokenization={tokenization!r} is not one of {', '.join(TOKENIZATIONS)}")
    try:
        return TOKENIZERS[tokenization](chord_order)
    except ValueError as err:
        raise UserError(str(err)) from None


def tokenizer_of(data_settings: dict) -> MusicTokenizer:
    """The tokenizer of a checkpoint's data settings; checkpoints that predate a setting used its default."""
    return build_tokenizer(data_settings.get("tokenization", "pitch"), data_settings.get("chord_order", "music21"))
