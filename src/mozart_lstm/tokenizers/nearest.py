"""The nearest token a checkpoint knows to a primer's token (`primer=path.mid`).

A pitch token the vocabulary lacks is mapped to the nearest known one: the same pitches in another spelling or
order, else a chord's largest known sub-chord (its top note first), else the known note nearest the top note
within an octave; anything further is dropped. A tokenization whose tokens carry more than pitch (a rest, such as
a timed token's gap) then picks, among the rests its pitch part is known with, the nearest.
"""

from collections.abc import Callable, Sequence

# a note further than this from every known pitch is not mapped but dropped: it is outside the corpus's piano
MAX_SHIFT = 12


class NearestPitches:
    """Over a vocabulary split into (pitch token, rest) pairs; `pitches` gives a pitch token's MIDI numbers."""

    def __init__(self, split_vocab: Sequence[tuple[str, str]], pitches: Callable[[str], tuple[int, ...]]):
        self.known = {name + rest for name, rest in split_vocab}
        self.pitches = pitches
        self.by_notes = {}  # a known pitch token for each set of MIDI numbers
        self.rests = {}  # the rests each known pitch token comes with
        for name, rest in split_vocab:
            self.by_notes.setdefault(frozenset(pitches(name)), name)
            self.rests.setdefault(name, set()).add(rest)
        self._pitches: dict[str, str | None] = {}

    def pitch(self, name: str) -> str | None:
        """The known pitch token nearest to the pitch token `name`, None when none is within MAX_SHIFT."""
        if name in self.rests:
            return name
        if name not in self._pitches:
            self._pitches[name] = self._nearest_pitch(frozenset(self.pitches(name)))
        return self._pitches[name]

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
