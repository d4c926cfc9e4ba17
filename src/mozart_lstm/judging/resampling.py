"""Spread, not one number: bootstraps over pieces, and how many pieces a spread below TARGET needs.

A figure's spread is the standard deviation of its bootstrap replicates; its interval the 2.5 and 97.5
percentiles. The spread of a mean over n pieces falls as 1/sqrt(n), so a spread s measured on n pieces needs
about n (s / TARGET)^2 pieces to fall below TARGET.
"""

import math
from collections.abc import Callable, Sequence

import numpy as np

TARGET = 0.02
DRAWS = 200
SEED = 0


def summary(replicates: Sequence[float]) -> dict:
    values = np.asarray(replicates, dtype=float)
    return {"spread": float(values.std(ddof=1)), "ci95": [float(v) for v in np.percentile(values, [2.5, 97.5])]}


def pieces_needed(spread: float, pieces: int, fixed: float = 0.0) -> int | None:
    """Pieces for a spread below TARGET, when `spread` is measured on `pieces` and `fixed` is the part no more
    pieces remove (the reference's own); None when that part alone reaches TARGET."""
    room = TARGET**2 - fixed**2
    if room <= 0:
        return None
    return max(2, math.ceil(pieces * spread**2 / room))


def bootstrap(statistic: Callable[..., float], counts: Sequence[int], draws: int = DRAWS, seed: int = SEED) -> list:
    """`statistic(*indices)` over `draws` resamples: one array of indices per set of pieces, each `counts[k]`
    pieces drawn with replacement from that set's `counts[k]`."""
    rng = np.random.default_rng(seed)
    return [statistic(*(rng.integers(count, size=count) for count in counts)) for _ in range(draws)]
