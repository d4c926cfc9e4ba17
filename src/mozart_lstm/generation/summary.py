"""Per-sample statistics of a generated piece, aimed at the usual complaints: one note repeated over
and over, a narrow range, and melodies copied from the training set (8-grams found verbatim there)."""

import itertools
from collections.abc import Sequence

import numpy as np
from music21 import pitch

from mozart_lstm.generation.music import midi_numbers

NGRAM = 8


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


def summarize(tokens: Sequence[str], n_seed: int, train_ngrams: set[tuple]) -> dict:
    """Statistics of the generated part `tokens[n_seed:]`; the seed window comes from the data."""
    new = list(tokens[n_seed:])
    pitches = [m for token in new for m in midi_numbers(token)]
    grams = [tuple(new[i : i + NGRAM]) for i in range(len(new) - NGRAM + 1)]
    return {
        "repeated": sum(a == b for a, b in itertools.pairwise(new)) / max(len(new) - 1, 1),
        "distinct": len(set(new)),
        "longest_run": max((len(list(run)) for _, run in itertools.groupby(new)), default=0),
        "lowest": pitch.Pitch(midi=min(pitches)).nameWithOctave if pitches else "",
        "highest": pitch.Pitch(midi=max(pitches)).nameWithOctave if pitches else "",
        "semitones": max(pitches) - min(pitches) if pitches else 0,
        "copied_8grams": sum(g in train_ngrams for g in grams) / len(grams) if grams else 0.0,
    }


def format_table(summaries: Sequence[dict]) -> str:
    """A small fixed-width table, one row per sample."""
    rows = [["sample", "repeated", "distinct", "longest run", "pitch range", "copied 8-grams"]]
    for i, s in enumerate(summaries):
        rows.append(
            [
                str(i),
                f"{s['repeated']:.1%}",
                str(s["distinct"]),
                str(s["longest_run"]),
                f"{s['lowest']}-{s['highest']} ({s['semitones']} st)",
                f"{s['copied_8grams']:.1%}",
            ]
        )
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)
