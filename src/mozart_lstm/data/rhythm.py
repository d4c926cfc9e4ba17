"""The corpus's rhythm: empirical distributions of note spacing and length, for generation."""

from collections import Counter
from collections.abc import Iterable

# Quantise to 1/12 of a quarter so triplets and sixteenths both survive and float noise merges.
GRID = 12


def distribution(values: Iterable[float]) -> dict:
    counts = Counter(round(value * GRID) / GRID for value in values)
    total = sum(counts.values())
    support = sorted(counts)
    return {"values": support, "probs": [counts[value] / total for value in support]}


def rhythm_of(pieces) -> dict:
    """Offset gaps between consecutive elements (0.0 means simultaneous) and element durations."""
    gaps = (b - a for piece in pieces for a, b in zip(piece.offsets, piece.offsets[1:], strict=False))
    durations = (d for piece in pieces for d in piece.durations)
    return {"offset_gaps": distribution(gaps), "durations": distribution(durations)}
