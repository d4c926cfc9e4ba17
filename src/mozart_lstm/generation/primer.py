"""`primer=path.mid`: continue the user's own MIDI, as Magenta's generators do with `--primer_midi`.

The file is parsed as the corpus is (`data.tokenize.tokenize_file`, the checkpoint's chord order) and tokenized
in the checkpoint's vocabulary: pitch tokens, or timed tokens with the gaps between the primer's own onsets.
A token the vocabulary lacks is mapped to the nearest one it has: the same pitches in another spelling or order,
else a chord's largest known sub-chord (its top note first), else the known note nearest the top note within an
octave; anything further is dropped. A timed token then takes the nearest gap its pitch part is known with.
One line says how many were mapped and dropped.

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
from mozart_lstm.data.timed_tokens import GAP_LABELS, GAP_TICKS, SEPARATOR, is_timed, pitch_part, timed_tokens
from mozart_lstm.generation.music import midi_numbers

log = logging.getLogger(__name__)

# a note further than this from every known pitch is not mapped but dropped: it is outside the corpus's piano
MAX_SHIFT = 12
LABEL_TICKS = dict(zip(GAP_LABELS, GAP_TICKS, strict=True))


def check_primer(primer) -> Path | None:
    """The primer's path, checked before the checkpoint is read; None when no primer= is given."""
    if primer in (None, ""):
        return None
    path = Path(str(primer)).expanduser()
    if not path.is_file():
        missing = "is a folder" if path.is_dir() else "does not exist"
        raise UserError(f"primer={primer}: {missing}; pass a MIDI file (.mid) to continue")
    return path


class NearestTokens:
    """The nearest token of a vocabulary to any pitch or timed token (see the module's docstring)."""

    def __init__(self, vocab: Sequence[str]):
        self.known = set(vocab)
        self.names = {pitch_part(token) for token in vocab}
        self.by_notes = {}  # a known pitch part for each set of MIDI numbers
        self.gaps = {}  # the gap labels each known pitch part comes with, when the tokens are timed
        for token in vocab:
            name, _, gap = token.partition(SEPARATOR)
            self.by_notes.setdefault(frozenset(midi_numbers(name)), name)
            self.gaps.setdefault(name, set()).add(gap)
        self._pitches: dict[str, str | None] = {}

    def pitch(self, token: str) -> str | None:
        """The known pitch part nearest to the pitch token `token`, None when none is within MAX_SHIFT."""
        if token in self.names:
            return token
        if token not in self._pitches:
            self._pitches[token] = self._nearest_pitch(frozenset(midi_numbers(token)))
        return self._pitches[token]

    def _nearest_pitch(self, notes: frozenset) -> str | None:
        top = max(notes)
        inside = [known for known in self.by_notes if known <= notes]
        if inside:  # the largest known sub-chord: the same pitches in another order or spelling come first
            return self.by_notes[max(inside, key=lambda known: (len(known), top in known, max(known)))]
        singles = [next(iter(known)) for known in self.by_notes if len(known) == 1]
        nearest = min(singles, key=lambda number: (abs(number - top), number), default=None)
        if nearest is None or abs(nearest - top) > MAX_SHIFT:
            return None
        return self.by_notes[frozenset([nearest])]

    def timed(self, token: str) -> str:
        """The known timed token with the (known) pitch part of `token` and the gap nearest to its own."""
        if token in self.known:
            return token
        name, _, gap = token.partition(SEPARATOR)
        ticks = LABEL_TICKS[gap]
        nearest = min(self.gaps[name], key=lambda known: (abs(LABEL_TICKS[known] - ticks), LABEL_TICKS[known]))
        return f"{name}{SEPARATOR}{nearest}"


def read_primer(path: Path, vocab: Sequence[str], chord_order: str, seq_len: int) -> list[str]:
    """The primer's tokens in the checkpoint's vocabulary; one log line on what was mapped and dropped."""
    from mozart_lstm.data.tokenize import tokenize_file

    try:
        piece = tokenize_file(path, chord_order)
    except Exception as err:  # music21 raises many types for a file it cannot read; each means the same here
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UserError(f"primer={path}: music21 cannot read it as MIDI ({reason}); pass a standard MIDI file") from err
    if not piece.tokens:
        raise UserError(f"primer={path}: holds no pitched notes or chords to continue; pass a MIDI file with notes")
    nearest = NearestTokens(vocab)
    mapped_pitches = [nearest.pitch(token) for token in piece.tokens]
    kept = [i for i, name in enumerate(mapped_pitches) if name is not None]
    if not kept:
        raise UserError(
            f"primer={path}: none of its {len(piece.tokens)} notes and chords is within an octave of a pitch the "
            "checkpoint knows; pass music in the piano range the checkpoint was trained on"
        )
    tokens = [mapped_pitches[i] for i in kept]
    mapped = {i for i, k in enumerate(kept) if tokens[i] != piece.tokens[k]}
    if is_timed(vocab):  # the gaps between the onsets that remain: a dropped note leaves no hole in the time
        offsets, durations = [piece.offsets[i] for i in kept], [piece.durations[i] for i in kept]
        exact = timed_tokens(tokens, offsets, durations)
        tokens = [nearest.timed(token) for token in exact]
        mapped |= {i for i, (a, b) in enumerate(zip(exact, tokens, strict=True)) if a != b}
    dropped = len(piece.tokens) - len(kept)
    context = (
        f"the model continues from its last {seq_len}"
        if len(tokens) >= seq_len
        else f"shorter than the checkpoint's window of {seq_len}: the model starts from all of them"
    )
    log.info(
        "primer %s: %d tokens, %d mapped to the nearest token the checkpoint knows, %d dropped (no known pitch "
        "within an octave); %s; the MIDI holds the primer, then the continuation",
        path, len(tokens), len(mapped), dropped, context,
    )  # fmt: skip
    return tokens


def primer_seeds(tokens: Sequence[str], vocab: Sequence[str], count: int) -> torch.Tensor:
    """(count, len(tokens)) ids: every sample continues the same primer."""
    index = {token: i for i, token in enumerate(vocab)}
    return torch.tensor([index[token] for token in tokens]).repeat(count, 1)
