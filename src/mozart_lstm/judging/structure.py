"""Structure: how much of a piece repeats its own earlier material, as a sonata repeats and varies its themes.

On onsets, not tokens. The piece is read in bars of BAR quarters from its first onset. Each bar is the set of
(position in the bar on a twelfth-of-a-quarter grid, pitch class) pairs that start in it. A bar's recall is
the highest Jaccard similarity it has with any earlier stretch of one bar's length starting on a quarter: a
repeat a whole number of beats back is found whatever the metre (3/4, 6/8 and 2/4 bars are whole beats too).
Pitch classes, so a repeat an octave away counts. A transposed repeat (a sequence) does not; see
docs/judging_music.md. `self_similarity` is the mean recall over every bar after the first that has a note:
0 when nothing recurs, 1 when every bar is a copy of something before it (a loop).
"""

from collections.abc import Sequence

import numpy as np

from mozart_lstm.judging.onsets import Onset
from mozart_lstm.notes import TICKS_PER_QUARTER

BAR = 4  # quarters
SLOTS = 12  # per quarter: sixteenths and triplet eighths fall on it
MIN_BARS = 2  # a first bar and one that may recall it


def slot_grid(chords: Sequence[Onset]) -> np.ndarray:
    """(quarters * SLOTS, 12) booleans from the first onset: which pitch classes start in each slot."""
    first = chords[0].tick
    slots = [(onset.tick - first) * SLOTS // TICKS_PER_QUARTER for onset in chords]
    grid = np.zeros(((slots[-1] // SLOTS + 1) * SLOTS, 12), dtype=bool)
    for slot, onset in zip(slots, chords, strict=True):
        grid[slot, [p % 12 for p in onset.pitches]] = True
    return grid


def self_similarity(chords: Sequence[Onset]) -> float | None:
    """The mean recall of the bars after the first (see the module); None for a piece shorter than MIN_BARS bars."""
    if not chords:
        return None
    grid = slot_grid(chords)
    quarters, width = len(grid) // SLOTS, BAR * SLOTS
    if quarters < MIN_BARS * BAR:
        return None
    starts = range(quarters - BAR + 1)  # every one-bar stretch starting on a quarter
    windows = np.stack([grid[s * SLOTS : s * SLOTS + width].ravel() for s in starts]).astype(np.float32)
    sizes = windows.sum(axis=1)
    common = windows @ windows.T
    union = sizes[:, None] + sizes[None, :] - common
    jaccard = np.divide(common, union, out=np.zeros_like(common), where=union > 0)
    recalls = [jaccard[bar * BAR, : bar * BAR - BAR + 1].max() for bar in range(1, quarters // BAR) if sizes[bar * BAR]]
    return float(np.mean(recalls)) if recalls else 0.0
