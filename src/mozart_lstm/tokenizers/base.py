"""The one interface every tokenization implements, as MidiTok's `MusicTokenizer` does: a parsed piece in,
tokens out, and tokens back to notes in time. Nothing outside this folder asks which tokenization it holds.

A tokenization is also asked what the rest of the project used to read off the token strings: each token's
pitches (the judge, the n-gram's note units), its parts (pitch and timing accuracy), transposition (data
augmentation), and the nearest known token for a primer.
"""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mozart_lstm.notes import NoteEvent, Timing, note_events
from mozart_lstm.tokenizers.rhythm import DEFAULT_RHYTHM, Rhythm, make_timing, mean_gap


@dataclass
class Piece:
    """One MIDI file as music21 parses it: a pitch token per Note or Chord (`E-5`, `B3.B2` in music21's chord
    order) with its offset and duration in quarter lengths. After `load_pieces`, `tokens` are a tokenizer's."""

    name: str
    tokens: list[str]
    offsets: list[float]  # in quarter lengths from the start of the piece
    durations: list[float]


class MusicTokenizer(ABC):
    """One tokenization. `kind` names it in `data.tokenization`; `settings` are what a checkpoint needs to
    rebuild it (with `kind`, the data settings a checkpoint stores)."""

    kind: str
    # True when the tokens carry their own onset gaps: rhythm.offset=auto is then "learned"
    carries_timing: bool = False

    @property
    @abstractmethod
    def settings(self) -> dict:
        """The keyword arguments that rebuild this tokenizer."""

    @abstractmethod
    def encode(self, piece: Piece) -> list[str]:
        """A parsed piece's tokens."""

    @abstractmethod
    def pitches(self, token: str) -> tuple[int, ...]:
        """The MIDI numbers a token sounds, in its own order."""

    @abstractmethod
    def gaps(self, tokens: Sequence[str]) -> np.ndarray | None:
        """The onset gap each token says comes after it, in quarter lengths; None when tokens carry none."""

    @abstractmethod
    def parts(self, vocab: Sequence[str]) -> dict[str, list[int]]:
        """Per named part of a token (e.g. "pitch", "timing"), each vocabulary token's class of that part: a
        prediction is right on a part when its class is the label's. {} for tokens of one part."""

    @abstractmethod
    def pitch_range(self, token: str) -> tuple[int, int]:
        """The lowest and highest MIDI number of a token."""

    @abstractmethod
    def transpose(self, token: str, semitones: int) -> str:
        """The token shifted by whole semitones, spelled as a parsed token of those pitches would be."""

    @abstractmethod
    def encode_in_vocab(self, piece: Piece, vocab: Sequence[str]) -> tuple[list[str], int, int]:
        """A parsed piece (a primer) in a checkpoint's vocabulary: (tokens, how many were mapped to the nearest
        known token, how many were dropped for having none near)."""

    def offset_kind(self, offset: str) -> str:
        """rhythm.offset with auto resolved: the tokens' own gaps when they carry them, else the fixed grid."""
        if offset != "auto":
            return offset
        return "learned" if self.carries_timing else "fixed"

    def rhythm_problem(self, rhythm: Rhythm) -> str | None:
        """Why `rhythm` cannot place these tokens, or None."""
        if self.offset_kind(rhythm.offset) == "learned" and not self.carries_timing:
            return "rhythm.offset=learned needs a model trained on data.tokenization=timed; use fixed"
        return None

    def mean_gap(self, rhythm: Rhythm, corpus: dict | None) -> float:
        """Quarter lengths between consecutive decoded tokens, on average (see rhythm.mean_gap)."""
        return mean_gap(self.offset_kind(rhythm.offset), rhythm.offset_step, corpus)

    def timing(
        self, tokens: Sequence[str], rhythm: Rhythm = DEFAULT_RHYTHM, corpus: dict | None = None, seed: int = 0
    ) -> Timing:
        """Where the tokens fall in time as `rhythm` says (see make_timing); `corpus` is the corpus rhythm a
        checkpoint carries, for the empirical choices, and `seed` seeds their draws."""
        return make_timing(len(tokens), rhythm, corpus=corpus, seed=seed, learned_gaps=self.gaps(tokens))

    def events(self, tokens: Sequence[str], timing: Timing) -> list[NoteEvent]:
        """The tokens' notes at a given timing (Mozart's own, for the reference)."""
        return note_events((self.pitches(token) for token in tokens), timing)

    def decode(
        self, tokens: Sequence[str], rhythm: Rhythm = DEFAULT_RHYTHM, corpus: dict | None = None, seed: int = 0
    ) -> list[NoteEvent]:
        """Tokens → notes in time: what the MIDI, the WAV, the piano roll and the judge take."""
        return self.events(tokens, self.timing(tokens, rhythm, corpus, seed))
