"""`primer=path.mid`: continue the user's own MIDI, as Magenta's generators do with `--primer_midi`.

The file is parsed as the corpus is (`data.tokenize.tokenize_file`) and tokenized by the checkpoint's tokenizer in
the checkpoint's vocabulary: a token the vocabulary lacks becomes the nearest one it has, or is dropped
(`MusicTokenizer.encode_in_vocab`, tokenizers/nearest.py). One line says how many were mapped and dropped.

The primer replaces the random test window as the seed, and the output MIDI holds all of it, followed by the
continuation. The model reads its last `seq_len` tokens, as it reads a seed window. A primer shorter than that is
read whole: training windows start from a zero state too, so the model starts as at the beginning of a window,
with less context; in window mode the window then fills up as the model composes, in stateful mode the state
carries on.
"""

import logging
from collections.abc import Sequence
from pathlib import Path

import torch

from labtools.errors import UserError
from mozart_lstm.tokenizers import MusicTokenizer

log = logging.getLogger(__name__)


def check_primer(primer) -> Path | None:
    """The primer's path, checked before the checkpoint is read; None when no primer= is given."""
    if primer in (None, ""):
        return None
    path = Path(str(primer)).expanduser()
    if not path.is_file():
        missing = "is a folder" if path.is_dir() else "does not exist"
        raise UserError(f"primer={primer}: {missing}; pass a MIDI file (.mid) to continue")
    return path


def read_primer(path: Path, vocab: Sequence[str], tokenizer: MusicTokenizer, seq_len: int) -> list[str]:
    """The primer's tokens in the checkpoint's vocabulary; one log line on what was mapped and dropped."""
    from mozart_lstm.data.tokenize import tokenize_file

    try:
        piece = tokenize_file(path)
    except Exception as err:  # music21 raises many types for a file it cannot read; each means the same here
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UserError(f"primer={path}: music21 cannot read it as MIDI ({reason}); pass a standard MIDI file") from err
    if not piece.tokens:
        raise UserError(f"primer={path}: holds no pitched notes or chords to continue; pass a MIDI file with notes")
    tokens, mapped, dropped = tokenizer.encode_in_vocab(piece, vocab)
    if not tokens:
        raise UserError(
            f"primer={path}: none of its {len(piece.tokens)} notes and chords is within an octave of a pitch the "
            "checkpoint knows; pass music in the piano range the checkpoint was trained on"
        )
    context = (
        f"the model continues from its last {seq_len}"
        if len(tokens) >= seq_len
        else f"shorter than the checkpoint's window of {seq_len}: the model starts from all of them"
    )
    log.info(
        "primer %s: %d tokens, %d mapped to the nearest token the checkpoint knows, %d dropped (no known pitch "
        "within an octave); %s; the MIDI holds the primer, then the continuation",
        path, len(tokens), mapped, dropped, context,
    )  # fmt: skip
    return tokens


def primer_seeds(tokens: Sequence[str], vocab: Sequence[str], count: int) -> torch.Tensor:
    """(count, len(tokens)) ids: every sample continues the same primer."""
    index = {token: i for i, token in enumerate(vocab)}
    return torch.tensor([index[token] for token in tokens]).repeat(count, 1)
