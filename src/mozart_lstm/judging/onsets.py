"""A piece as the judge sees it: its onsets, each the set of pitches starting there, whatever tokens held it.

Every measure of the music report starts from the decoded notes (`NoteEvent`s: what goes into the MIDI), never
from token strings: pitch tokens placed at the corpus's real offsets and timed tokens placed by their own gaps
give the same onsets when they hold the same music. Onset times are rounded to music21's grid (a 48th of a
quarter holds every sixteenth and triplet) so that float sums of gaps and parsed offsets meet. Durations are
left out on purpose: timed tokens carry none (their decoder plays legato), so a duration measure would judge
the decoder rather than the composer.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from mozart_lstm.notes import TICKS_PER_QUARTER, NoteEvent


@dataclass(frozen=True)
class Onset:
    tick: int  # TICKS_PER_QUARTER to a quarter, from the piece's start
    pitches: frozenset[int]  # MIDI numbers starting here

    @property
    def quarters(self) -> float:
        return self.tick / TICKS_PER_QUARTER


def to_ticks(quarters: float) -> int:
    return round(quarters * TICKS_PER_QUARTER)


def onsets(events: Sequence[NoteEvent]) -> list[Onset]:
    """The distinct pitches starting at each onset, in time order (events at one time sound together)."""
    starting: dict[int, set[int]] = {}
    for event in events:
        starting.setdefault(to_ticks(event.offset), set()).update(event.pitches)
    return [Onset(tick, frozenset(pitches)) for tick, pitches in sorted(starting.items())]


def shifted(events: Sequence[NoteEvent], start: float) -> list[NoteEvent]:
    """The events with time counted from `start`."""
    return [NoteEvent(e.offset - start, e.duration, e.pitches) for e in events]


def cut(chords: Sequence[Onset], quarters: float) -> list[list[Onset]]:
    """The piece's whole stretches of `quarters` from its first onset (the last, unfinished one is left out),
    each with its ticks counted from the stretch's start; a stretch of silence is an empty list."""
    if not chords:
        return []
    span, first = to_ticks(quarters), chords[0].tick
    count = (chords[-1].tick - first) // span  # the stretch holding the last onset may be unfinished
    found: list[list[Onset]] = [[] for _ in range(count)]
    for onset in chords:
        index = (onset.tick - first) // span
        if index < count:
            found[index].append(Onset(onset.tick - first - index * span, onset.pitches))
    return found
