"""What the two-sample classifier sees: one vector of simple, key-free features per stretch of STRETCH_QUARTERS
quarters of onsets (see `generation.onsets`: decoded notes, whatever the tokens; no durations).

The vector: how dense (onsets and notes per quarter, quarters without an onset), how thick (polyphony, chord
share), the register (mean, spread, lowest, highest pitch), the top line's motion (mean and spread of its steps,
its share of repeats, steps of 1-2 semitones and leaps over a fifth) and the bass line's, the tonality
(pitch-class entropy, scale consistency and the pitch-class histogram rotated to the best major scale's root,
so that two sonatas in different keys are not told apart by their key), the rhythm (onsets on the beat, on the
off-beat eighth, on sixteenths, on triplets, elsewhere; the entropy of the gaps between onsets) and how much
it repeats itself (onsets equal to the one before, distinct pitch sets per onset).
"""

from collections.abc import Sequence

import numpy as np

from mozart_lstm.judging.features import SCALES, entropy_bits, pitch_class_histogram, scale_consistency
from mozart_lstm.judging.onsets import Onset, cut, onsets
from mozart_lstm.notes import GAP_TICKS, TICKS_PER_QUARTER, NoteEvent

STRETCH_QUARTERS = 16  # four 4/4 bars
SCALAR_NAMES = (
    "onsets_per_quarter",
    "notes_per_quarter",
    "silent_quarters",
    "polyphony",
    "chord_share",
    "mean_pitch",
    "pitch_sd",
    "lowest_pitch",
    "highest_pitch",
    "top_step_mean",
    "top_step_sd",
    "top_repeats",
    "top_steps",
    "top_leaps",
    "bass_step_mean",
    "pitch_class_entropy",
    "scale_consistency",
    "on_beat",
    "on_eighth",
    "on_sixteenth",
    "on_triplet",
    "off_grid",
    "gap_entropy",
    "repeated_onsets",
    "distinct_per_onset",
)
NAMES = SCALAR_NAMES + tuple(f"degree_{k}" for k in range(12))


def key_relative(histogram: np.ndarray) -> np.ndarray:
    """The histogram rolled so that the root of the major scale holding most notes comes first (ties: lowest)."""
    return np.roll(histogram, -int(np.argmax(SCALES[:12] @ histogram)))  # SCALES' first 12 rows: major, root 0-11


def positions(chords: Sequence[Onset]) -> np.ndarray:
    """Shares of the onsets on the beat, the off-beat eighth, the other sixteenths, triplets, elsewhere."""
    within = np.array([onset.tick % TICKS_PER_QUARTER for onset in chords])
    quarter = TICKS_PER_QUARTER
    kinds = [
        within == 0,
        within == quarter // 2,
        np.isin(within, (quarter // 4, 3 * quarter // 4)),
        np.isin(within, (quarter // 3, 2 * quarter // 3)),
    ]
    shares = [float(kind.mean()) for kind in kinds]
    return np.array([*shares, 1.0 - sum(shares)])


def gap_entropy(chords: Sequence[Onset]) -> float:
    """Entropy (bits) of the gaps between consecutive onsets, each put to the nearest timed-token gap."""
    gaps = np.diff([onset.tick for onset in chords])
    if gaps.size == 0:
        return 0.0
    nearest = np.abs(gaps[:, None] - np.array(GAP_TICKS)[None, :]).argmin(axis=1)
    counts = np.bincount(nearest, minlength=len(GAP_TICKS)).astype(float)
    return entropy_bits(counts / counts.sum())


def steps(line: Sequence[int]) -> np.ndarray:
    return np.abs(np.diff(line)) if len(line) > 1 else np.zeros(1)


def stretch_vector(chords: Sequence[Onset], quarters: float = STRETCH_QUARTERS) -> np.ndarray:
    """The NAMES of one stretch that holds at least one onset."""
    sets = [sorted(onset.pitches) for onset in chords]
    pitches = np.array([p for pitches in sets for p in pitches], dtype=float)
    histogram = pitch_class_histogram(pitches.astype(int))
    top, bass = steps([s[-1] for s in sets]), steps([s[0] for s in sets])
    heard = {onset.tick // TICKS_PER_QUARTER for onset in chords}
    repeats = [a.pitches == b.pitches for a, b in zip(chords, chords[1:], strict=False)]
    scalars = [
        len(chords) / quarters,
        len(pitches) / quarters,
        1.0 - len(heard) / quarters,
        len(pitches) / len(chords),
        float(np.mean([len(s) > 1 for s in sets])),
        pitches.mean(),
        pitches.std(),
        pitches.min(),
        pitches.max(),
        top.mean(),
        top.std(),
        float(np.mean(top == 0)),
        float(np.mean((top >= 1) & (top <= 2))),
        float(np.mean(top > 7)),
        bass.mean(),
        entropy_bits(histogram),
        scale_consistency(histogram),
        *positions(chords),
        gap_entropy(chords),
        float(np.mean(repeats)) if repeats else 0.0,
        len({onset.pitches for onset in chords}) / len(chords),
    ]
    return np.concatenate([scalars, key_relative(histogram)])


def piece_vectors(events: Sequence[NoteEvent], quarters: float = STRETCH_QUARTERS) -> np.ndarray:
    """(stretches, len(NAMES)): the piece's whole stretches of `quarters` that hold a note (silent ones are left
    out: there is nothing to measure in them)."""
    rows = [stretch_vector(chords, quarters) for chords in cut(onsets(events), quarters) if chords]
    return np.array(rows).reshape(len(rows), len(NAMES))
