"""Transposition augmentation (`data.transpose=K`): each training piece shifted by whole semitones.

The data's tokenizer shifts a token (`MusicTokenizer.transpose`), spelled so that a shifted token and a parsed one
of the same pitches are the same token. A shift that would take any note of a piece outside the
piano (MIDI 21-108) is never drawn for that piece.

Shifting works on ids: `ShiftTable` maps every (shift, id) to the shifted token's id, in a vocabulary that
covers every token the shifted training pieces can produce. Held-out data is never shifted, and a stream's
positions never move, so a mask of held-out labels holds for every shifted copy.
"""

from collections.abc import Sequence

import torch

from labtools.checks import is_whole
from labtools.errors import UserError
from mozart_lstm.tokenizers import MusicTokenizer

PIANO = (21, 108)
NO_ID = -1


def check_transpose(value) -> int:
    """data.transpose as a number of semitones, or one UserError."""
    if not is_whole(value, minimum=0):
        raise UserError(f"data.transpose={value!r}: must be a whole number of semitones >= 0 (0: no transposition)")
    return value


def allowed_shifts(tokens: Sequence[str], limit: int, tokenizer: MusicTokenizer) -> list[int]:
    """The shifts in [-limit, limit] that keep every note of `tokens` on the piano."""
    ranges = [tokenizer.pitch_range(token) for token in set(tokens)]
    low, high = min(lo for lo, _ in ranges), max(hi for _, hi in ranges)
    return [s for s in range(-limit, limit + 1) if PIANO[0] <= low + s and high + s <= PIANO[1]]


def shifted_tokens(pieces: Sequence[Sequence[str]], limit: int, tokenizer: MusicTokenizer) -> set[str]:
    """Every token that shifting these pieces by their allowed shifts can produce."""
    produced = set()
    for tokens in pieces:
        distinct = set(tokens)
        for shift in allowed_shifts(distinct, limit, tokenizer):
            produced.update(tokenizer.transpose(token, shift) for token in distinct)
    return produced


class ShiftTable:
    """`table[shift + limit, id]`: the id of token `id` shifted by `shift`, or NO_ID where no token is."""

    def __init__(self, vocab_tokens: Sequence[str], index: dict[str, int], limit: int, tokenizer: MusicTokenizer):
        self.limit = limit
        self.table = torch.full((2 * limit + 1, len(vocab_tokens)), NO_ID, dtype=torch.long)
        for token_id, token in enumerate(vocab_tokens):
            low, high = tokenizer.pitch_range(token)
            for shift in range(max(-limit, PIANO[0] - low), min(limit, PIANO[1] - high) + 1):
                self.table[shift + limit, token_id] = index.get(tokenizer.transpose(token, shift), NO_ID)

    def apply(self, ids: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
        """`ids` with position i shifted by `shifts[i]`; negative ids (masked targets) stay as they are."""
        keep = ids < 0
        shifted = self.table[shifts + self.limit, ids.clamp(min=0)]
        if bool((shifted[~keep] == NO_ID).any()):
            raise RuntimeError("a shift left the vocabulary: the vocabulary must cover every shifted token")
        return torch.where(keep, ids, shifted)


class PieceShifts:
    """One random allowed shift per training piece, drawn anew each epoch from (seed, epoch) alone, so that a
    resumed run draws what an uninterrupted one would.

    `bounds` are each piece's [start, end) in the token stream; `allowed` each piece's allowed shifts. Positions
    outside every training piece (held-out pieces) keep shift 0.
    """

    def __init__(self, bounds: Sequence[tuple[int, int]], allowed: Sequence[Sequence[int]], length: int, seed: int):
        self.bounds, self.allowed, self.length, self.seed = list(bounds), [list(a) for a in allowed], length, seed

    def draw(self, epoch: int) -> list[int]:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        return [shifts[int(torch.randint(len(shifts), (1,), generator=generator))] for shifts in self.allowed]

    def per_position(self, epoch: int) -> torch.Tensor:
        shifts = torch.zeros(self.length, dtype=torch.long)
        for (start, end), shift in zip(self.bounds, self.draw(epoch), strict=True):
            shifts[start:end] = shift
        return shifts
