"""The overlap's spread: a bootstrap over the generated pieces, Mozart's reference held as it is.

A full `compare_sets` takes about a second (kernel densities on a 2001-point grid), too slow to repeat a few
hundred times. So the bootstrap is smoothed: each feature's inter-set density keeps the bandwidth it has on the
whole set, and is a sum over the generated pieces of their own kernels; a resample that takes piece i m_i
times weighs its kernels by m_i. Every resample then costs a matrix product, and the whole set (every m_i = 1)
gives back `compare_sets`'s overlap exactly.
"""

from collections.abc import Sequence

import numpy as np
from scipy.stats import gaussian_kde, norm

from mozart_lstm.judging.compare import densities, distance_samples, distinct_pairs, is_constant, scott_width
from mozart_lstm.judging.features import OVERALL
from mozart_lstm.judging.resampling import DRAWS, SEED, pieces_needed, summary


def owners(generated: Sequence[dict], reference: Sequence[dict], name: str, kept_gr: np.ndarray) -> np.ndarray:
    """The generated piece of each inter-set distance `distance_samples` returns, in its order."""
    has_g = np.flatnonzero([p[name] is not None for p in generated])
    has_r = np.array([p[name] is not None for p in reference], dtype=bool)
    rows, _ = np.nonzero(kept_gr[np.ix_(has_g, has_r)])
    return has_g[rows]


ABSENT, FIXED = "absent", "fixed"


def overlap_curves(generated: Sequence[dict], reference: Sequence[dict], name: str, kept) -> tuple | str:
    """(grid, p_intra, per-piece kernel sums: one row per generated piece) of one feature; FIXED where its
    overlap is 1 whatever the draw (two sets of one point), ABSENT where it has none (an empty sample)."""
    intra, inter = distance_samples(generated, reference, name, *kept)
    if not (intra.size and inter.size):
        return ABSENT
    found = densities(intra, inter)
    if found is None:
        return FIXED
    grid, p_intra, _ = found
    pooled = np.concatenate([intra, inter])
    width = scott_width(pooled) if is_constant(inter) else float(np.sqrt(gaussian_kde(inter).covariance[0, 0]))
    kernels = norm.pdf(grid[:, None], loc=inter, scale=width)  # (grid, distances)
    belongs = owners(generated, reference, name, kept[1])[None, :] == np.arange(len(generated))[:, None]
    return grid, p_intra, belongs.astype(float) @ kernels.T


def resampled_overlaps(curves: tuple, weights: np.ndarray) -> np.ndarray:
    """The feature's OA for every row of `weights` (how often each generated piece is drawn)."""
    grid, p_intra, per_piece = curves
    q = weights @ per_piece
    q /= np.trapezoid(q, grid, axis=1)[:, None]
    return np.clip(np.trapezoid(np.minimum(p_intra[None, :], q), grid, axis=1), 0.0, 1.0)


def overlap_spread(generated: Sequence[dict], reference: Sequence[dict], draws: int = DRAWS, seed: int = SEED) -> dict:
    """Spread and 95% interval of the overall overlap (mean OA over OVERALL) and of the structure's OA, with the
    generated pieces a spread below 0.02 needs (see `resampling`)."""
    kept = distinct_pairs(reference, reference), distinct_pairs(generated, reference)
    rng = np.random.default_rng(seed)
    weights = np.stack([np.bincount(rng.integers(len(generated), size=len(generated)), minlength=len(generated))
                        for _ in range(draws)]).astype(float)  # fmt: skip
    found = {}
    for key, names in (("overlap", OVERALL), ("structure", ("structure",))):
        per_feature = []
        for name in names:
            curves = overlap_curves(generated, reference, name, kept)
            if curves != ABSENT:
                per_feature.append(np.ones(draws) if curves == FIXED else resampled_overlaps(curves, weights))
        stats = summary(np.mean(per_feature, axis=0)) if per_feature and len(generated) > 1 else None
        found[key] = stats and stats | {"pieces_needed": pieces_needed(stats["spread"], len(generated))}
    return found
