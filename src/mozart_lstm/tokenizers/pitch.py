"""The lab's pitch tokens (Problem 1): a Note is its pitch (`E-5`), a Chord its pitches joined by `.` (`B3.B2`),
in the chord order `data.chord_order` names. The tokens carry no time: a rhythm places them (conf/rhythm/).

Pitch names are read and spelled here, without music21: a name's octave number belongs to its letter, as in
music21 (`B#3` is 60), and a MIDI number is spelled as music21 spells it (`E-5`, `F#4`).
"""

import functools
import re
from collections.abc import Sequence

import numpy as np

from mozart_lstm.notes import pitch_name
from mozart_lstm.tokenizers.base import MusicTokenizer, Piece
from mozart_lstm.tokenizers.nearest import NearestPitches

CHORD_ORDERS = ("music21", "sorted", "sorted_unique")
CHORD_JOIN = "."
STEPS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
PITCH = re.compile(r"([A-G])([#-]*)(-?\d+)")


@functools.lru_cache(maxsize=512)
def midi_number(name: str) -> int:
    """`E-5` → 75, `B#3` → 60."""
    match = PITCH.fullmatch(name)
    if match is None:
        raise ValueError(f"not a pitch name: {name!r}")
    letter, accidentals, octave = match.groups()
    return 12 * (int(octave) + 1) + STEPS[letter] + accidentals.count("#") - accidentals.count("-")


def chord_token(pitch_names: list[str], chord_order: str) -> str:
    if chord_order == "sorted":
        pitch_names = sorted(pitch_names)
    elif chord_order == "sorted_unique":  # the lab's current revision
        pitch_names = sorted(set(pitch_names))
    return CHORD_JOIN.join(pitch_names)


class PitchTokenizer(MusicTokenizer):
    """The lab's tokens. A subclass may add a suffix to each pitch token (`split` parts it off again)."""

    kind = "pitch"

    def __init__(self, chord_order: str = "music21"):
        if chord_order not in CHORD_ORDERS:
            raise ValueError(f"data.chord_order={chord_order!r} is not one of {', '.join(CHORD_ORDERS)}")
        self.chord_order = chord_order

    @property
    def settings(self) -> dict:
        return {"chord_order": self.chord_order}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(chord_order={self.chord_order!r})"

    def split(self, token: str) -> tuple[str, str]:
        """(the pitch token, the rest); pitch tokens have no rest."""
        return token, ""

    def pitch_tokens(self, piece: Piece) -> list[str]:
        """The piece's pitch tokens in this chord order (a parse, or the cache, holds music21's)."""
        if self.chord_order == "music21":
            return list(piece.tokens)
        return [chord_token(t.split(CHORD_JOIN), self.chord_order) if CHORD_JOIN in t else t for t in piece.tokens]

    def encode(self, piece: Piece) -> list[str]:
        return self.pitch_tokens(piece)

    def pitches(self, token: str) -> tuple[int, ...]:
        return _midi_numbers(self.split(token)[0])

    def gaps(self, tokens: Sequence[str]) -> np.ndarray | None:
        return None

    def parts(self, vocab: Sequence[str]) -> dict[str, list[int]]:
        return {}

    def pitch_range(self, token: str) -> tuple[int, int]:
        numbers = self.pitches(token)
        return min(numbers), max(numbers)

    def transpose(self, token: str, semitones: int) -> str:
        if semitones == 0:
            return token
        names, rest = self.split(token)
        shifted = [pitch_name(midi_number(name) + semitones) for name in names.split(CHORD_JOIN)]
        return (chord_token(shifted, self.chord_order) if len(shifted) > 1 else shifted[0]) + rest

    def encode_in_vocab(self, piece: Piece, vocab: Sequence[str]) -> tuple[list[str], int, int]:
        nearest = NearestPitches([self.split(token) for token in vocab], self.pitches)
        names = self.pitch_tokens(piece)
        mapped_names = [nearest.pitch(name) for name in names]
        kept = [i for i, name in enumerate(mapped_names) if name is not None]
        tokens = [mapped_names[i] for i in kept]
        mapped = {i for i, k in enumerate(kept) if tokens[i] != names[k]}
        offsets, durations = [piece.offsets[i] for i in kept], [piece.durations[i] for i in kept]
        tokens, refitted = self.fit_rest(tokens, offsets, durations, nearest)
        return tokens, len(mapped | refitted), len(names) - len(kept)

    def fit_rest(self, names, offsets, durations, nearest: NearestPitches) -> tuple[list[str], set[int]]:
        """Known pitch tokens of a primer as known tokens, and the positions whose rest was mapped."""
        return names, set()


@functools.lru_cache(maxsize=4096)
def _midi_numbers(pitch_token: str) -> tuple[int, ...]:
    return tuple(midi_number(name) for name in pitch_token.split(CHORD_JOIN))
