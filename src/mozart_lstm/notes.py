"""Notes in time: what every tokenization decodes to, and all that the MIDI writer, the synthesizer, the piano
roll and the judge ever see of the music. Nothing here knows a token.

Times are in quarter lengths from the start of the piece; pitches are MIDI numbers.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

# Whole ticks for every onset grid the project uses (sixteenths and eighth-note triplets), so that comparing
# times is integer arithmetic.
TICKS_PER_QUARTER = 48
# The gaps between onsets that music21's parse leaves in the corpus (it quantises MIDI onsets to sixteenths and
# eighth-note triplets), up to 2 quarters: the timed tokens' gaps and the judge's bins of inter-onset intervals.
GAPS = tuple(Fraction(value) for value in ("0", "1/12", "1/6", "1/4", "1/3", "1/2", "3/4", "1", "3/2", "2"))
GAP_TICKS = tuple(int(gap * TICKS_PER_QUARTER) for gap in GAPS)
# music21's spelling of a MIDI number's pitch class (pitch.Pitch(midi=m).name)
PITCH_CLASS_NAMES = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "G#", "A", "B-", "B")


def pitch_name(midi: int) -> str:
    """A MIDI number's name as music21 spells it: 60 → `C4`, 75 → `E-5`."""
    return f"{PITCH_CLASS_NAMES[midi % 12]}{midi // 12 - 1}"


@dataclass(frozen=True)
class Timing:
    """Where a sequence of events falls in time: an onset and a duration per event."""

    offsets: np.ndarray
    durations: np.ndarray


@dataclass(frozen=True)
class NoteEvent:
    """One event placed in time (a note, or a chord's notes together): what the synthesizer plays and the piano
    roll draws."""

    offset: float
    duration: float
    pitches: tuple[int, ...]  # MIDI numbers


def note_events(pitches: Iterable[Sequence[int]], timing: Timing) -> list[NoteEvent]:
    """One NoteEvent per pitch set, at the timing's offsets and durations."""
    return [
        NoteEvent(float(offset), float(duration), tuple(numbers))
        for numbers, offset, duration in zip(pitches, timing.offsets, timing.durations, strict=True)
    ]
