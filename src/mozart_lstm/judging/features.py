"""Features of one piece, computed from its decoded notes (the events that go into the MIDI), never from token
strings: one judge for every tokenization (see `generation.onsets`).

Sources: MusPy (Dong et al., ISMIR 2020, `muspy/metrics`) and mgeval (Yang and Lerch, "On the evaluation
of generative models in music", 2018). Every pitch of every event counts as one note, as in MusPy (not
weighted by duration), so a feature does not change with the rhythm chosen at generation time unless it
is about time: an onset is a time at which one or more notes start together.
"""

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mozart_lstm.judging.long_range import long_range
from mozart_lstm.judging.onsets import onsets
from mozart_lstm.judging.structure import self_similarity
from mozart_lstm.notes import NoteEvent

NGRAM = 8
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)  # natural minor, as MusPy


@dataclass(frozen=True)
class Feature:
    name: str
    label: str  # column or row heading in the tables
    kind: str  # how to print it: count, share, number, pitch, histogram
    definition: str
    compared: bool = True  # part of the set comparison with the reference (OA, KL)
    in_overall: bool = True  # part of the overall overlap, the mean OA


FEATURES = (
    Feature("pitch_range", "pitch range (st)", "count", "highest minus lowest MIDI pitch (MusPy pitch_range)"),
    Feature("lowest_pitch", "lowest pitch", "pitch", "lowest MIDI pitch (the register; this project)"),
    Feature("highest_pitch", "highest pitch", "pitch", "highest MIDI pitch (the register; this project)"),
    Feature("pitches_used", "pitches used", "count", "distinct MIDI pitches (MusPy n_pitches_used, mgeval PU)"),
    Feature("pitch_classes_used", "pitch classes used", "count", "distinct pitch classes (MusPy n_pitch_classes_used)"),
    Feature(
        "pitch_class_histogram",
        "pitch-class histogram (peak)",
        "histogram",
        "share of notes in each of the 12 pitch classes; compared by Euclidean distance (mgeval PCH)",
    ),
    Feature(
        "pitch_class_entropy",
        "pitch-class entropy (bits)",
        "number",
        "-sum p log2 p over the 12-bin pitch-class histogram (MusPy pitch_class_entropy)",
    ),
    Feature(
        "scale_consistency",
        "scale consistency",
        "share",
        "largest share of notes inside one of the 24 major and natural-minor scales (MusPy scale_consistency)",
    ),
    Feature(
        "polyphony",
        "polyphony (notes/onset)",
        "number",
        "mean number of distinct pitches starting at an onset (MusPy polyphony, counted per onset)",
    ),
    Feature(
        "chord_share",
        "chords (share of onsets)",
        "share",
        "share of onsets where two or more pitches start (MusPy polyphony_rate with threshold 1)",
    ),
    Feature(
        "mean_interval",
        "mean interval (st)",
        "number",
        "mean absolute step in semitones between the highest pitches of consecutive onsets (mgeval PI)",
    ),
    Feature("distinct_onsets", "distinct onsets", "count", "number of different pitch sets at onsets (this project)"),
    Feature("longest_run", "longest run", "count", "most consecutive onsets with the same pitch set (this project)"),
    Feature("repeated", "repeated", "share", "share of onsets whose pitch set equals the one before (this project)"),
    Feature(
        "structure",
        "structure (self-similarity)",
        "share",
        "mean best Jaccard similarity of each bar's (position, pitch class) onsets with an earlier bar's (this "
        "project, judging/structure.py); null for a piece under 2 bars",
        in_overall=False,  # reported beside the overall figure, so that it stays comparable with earlier runs
    ),
    # the long range (judging/long_range.py): beside the overall figure, as structure is
    Feature(
        "key_changes",
        "key changes (4-bar stretches)",
        "share",
        "share of consecutive 4-bar stretches whose best Krumhansl-Kessler key differs (Krumhansl 1990; this project)",
        in_overall=False,
    ),
    Feature(
        "keys_per_32_bars",
        "keys per 32 bars",
        "number",
        "distinct keys of the 4-bar stretches in each whole 32-bar span, mean; null under 32 bars (this project)",
        in_overall=False,
    ),
    Feature(
        "longest_bass_loop",
        "longest bass loop (bars)",
        "count",
        "most consecutive bars with the same set of bass pitches, the lowest of each onset (this project)",
        in_overall=False,
    ),
    Feature(
        "repeated_bass",
        "repeated bass bars",
        "share",
        "share of bars whose bass (each onset's lowest pitch and its position) equals the bar before's (this project)",
        in_overall=False,
    ),
    Feature(
        "both_hands",
        "both hands (share of beats)",
        "share",
        "share of beats with onsets that hold pitches both below middle C and at or above it (this project)",
        in_overall=False,
    ),
    Feature(
        "copied_8grams",
        "copied 8-grams",
        "share",
        "share of the piece's 8-grams of notes (each event's pitches) found verbatim in the training split: "
        "memorisation (this project)",
        compared=False,  # closer to the reference is not better here: it is a warning, not a likeness
    ),
)
COMPARED = tuple(f.name for f in FEATURES if f.compared)
OVERALL = tuple(f.name for f in FEATURES if f.compared and f.in_overall)
# Pieces shorter than this get no set comparison: mean_interval and repeated are steps between neighbouring
# onsets, and a single token has none, so every piece would carry the same stand-in 0 for them and the
# pitch features of one chord; the densities would compare placeholders.
MIN_COMPARED_TOKENS = 2


def ngrams(tokens: Sequence, n: int = NGRAM) -> set[tuple]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def training_ngrams(stream: Sequence, starts: Sequence[int], span: int, n: int = NGRAM) -> set[tuple]:
    """The n-grams of a split that holds `stream[s : s + span]` for every `s` in `starts`.

    Overlapping windows are merged into the stretches of the stream they cover, so each n-gram is
    built once instead of once per window.
    """
    starts = np.asarray(starts, dtype=np.int64)
    change = np.zeros(len(stream) + 1, dtype=np.int64)
    np.add.at(change, starts, 1)
    np.add.at(change, np.minimum(starts + span, len(stream)), -1)
    covered = np.concatenate([[0], np.cumsum(change)[:-1] > 0, [0]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(covered))
    found: set[tuple] = set()
    for begin, end in zip(edges[::2], edges[1::2], strict=True):
        found |= ngrams(stream[begin:end], n)
    return found


def note_unit(pitches: Sequence[int]) -> tuple[int, ...]:
    """What one event of an 8-gram is: its pitches, sorted, so that neither the gap a timed token carries nor the
    chord order of a token tells two equal events apart."""
    return tuple(sorted(pitches))


def split_ngrams(dataset, vocab_pitches: Sequence[Sequence[int]]) -> set[tuple]:
    """The 8-grams of a WindowDataset's windows and their targets, as `note_unit`s; `vocab_pitches` are the MIDI
    numbers of each vocabulary id's token (`[tokenizer.pitches(token) for token in vocab]`)."""
    units = [note_unit(pitches) for pitches in vocab_pitches]
    stream = [units[i] for i in dataset.ids.tolist()]
    return training_ngrams(stream, dataset.starts, dataset.seq_len + 1)


def pitch_class_histogram(pitches: Sequence[int]) -> np.ndarray:
    """Share of the notes in each pitch class, C first; all zeros for no notes."""
    counts = np.bincount(np.asarray(pitches, dtype=np.int64) % 12, minlength=12).astype(float)
    return counts / max(counts.sum(), 1.0)


def entropy_bits(probs: np.ndarray) -> float:
    nonzero = probs[probs > 0]
    return 0.0 - float((nonzero * np.log2(nonzero)).sum())  # 0.0 - x, not -x: one pitch class prints 0, not -0


# the 24 major and natural-minor scales, one row of 12 pitch-class memberships each
SCALES = np.array([np.roll(np.isin(np.arange(12), steps), root) for steps in (MAJOR, MINOR) for root in range(12)])


def scale_consistency(histogram: np.ndarray) -> float:
    """The largest share of notes in one major or minor scale, over all 12 roots."""
    return float(max(histogram[scale].sum() for scale in SCALES))  # masks, not a product: a full scale sums to 1.0


def piece_features(events: Sequence[NoteEvent], train_ngrams: set[tuple]) -> dict:
    """Every feature of FEATURES for one piece, from its decoded notes (`note_events`); `train_ngrams` are
    `split_ngrams`."""
    if not events:
        raise ValueError("a piece needs at least one note")
    pitches = [midi for event in events for midi in event.pitches]
    histogram = pitch_class_histogram(pitches)
    chords = onsets(events)
    sets = [onset.pitches for onset in chords]
    tops = [max(pitches) for pitches in sets]
    units = [note_unit(event.pitches) for event in events]
    grams = [tuple(units[i : i + NGRAM]) for i in range(len(units) - NGRAM + 1)]
    return {
        "pitch_range": max(pitches) - min(pitches),
        "lowest_pitch": min(pitches),
        "highest_pitch": max(pitches),
        "pitches_used": len(set(pitches)),
        "pitch_classes_used": int(np.count_nonzero(histogram)),
        "pitch_class_histogram": histogram.tolist(),
        "pitch_class_entropy": entropy_bits(histogram),
        "scale_consistency": scale_consistency(histogram),
        "polyphony": float(np.mean([len(onset) for onset in sets])),
        "chord_share": float(np.mean([len(onset) > 1 for onset in sets])),
        "mean_interval": float(np.abs(np.diff(tops)).mean()) if len(tops) > 1 else 0.0,
        "distinct_onsets": len(set(sets)),
        "longest_run": max(len(list(run)) for _, run in itertools.groupby(sets)),
        "repeated": sum(a == b for a, b in itertools.pairwise(sets)) / max(len(sets) - 1, 1),
        "structure": self_similarity(chords),
        **long_range(chords),
        "copied_8grams": sum(g in train_ngrams for g in grams) / len(grams) if grams else 0.0,
    }
