"""Set against set (Yang and Lerch, 2018): how far a set of generated pieces lies from a reference set.

For one feature, two samples of distances between pieces are compared:
- intra: the reference's own, between every reference piece and every other (both orders);
- inter: between every generated piece and every reference piece.
Each gets a Gaussian kernel density (scipy.stats.gaussian_kde, Scott's bandwidth), both are evaluated on one
common grid and normalised there, and
- overlapped area OA = integral of min(p_intra, p_inter): 1 when the generated pieces lie among the
  reference ones as the reference pieces lie among themselves, 0 when the two never meet;
- KL divergence KL(p_intra || p_inter) in nats.

Degenerate cases, so no NaN or infinity ever comes out:
- a pair of pieces whose features are identical in every respect is one piece counted twice and is left
  out of both samples (Yang and Lerch leave a piece's distance to itself out), so a set compared with
  itself gives OA = 1 and KL = 0 exactly;
- a sample whose distances are all equal (zero variance: gaussian_kde cannot fit it) is smoothed with
  the bandwidth Scott's rule gives the two samples pooled; when those are all equal too, the two
  distributions are the same point and OA = 1, KL = 0;
- densities are floored at 1e-10 of their peak before the KL, so sets that never meet give a large
  finite KL (about 23) rather than infinity;
- with fewer than 2 reference pieces there is no intra sample: `compare_sets` refuses, naming the count;
  a feature whose sample is empty after leaving out duplicates gets None (null in JSON);
- a piece whose feature is None (the structure of a piece under two bars) takes no part in that feature.

The overall `overlap` and `kl` are the means over the features of OVERALL; the structure is compared, but
stands beside them (see features.py).
"""

from collections.abc import Sequence

import numpy as np
from scipy.spatial.distance import cdist
from scipy.stats import entropy, gaussian_kde, norm

from mozart_lstm.judging.features import COMPARED, OVERALL

GRID_POINTS = 2001
GRID_MARGIN = 4  # bandwidths beyond the extreme distances: the Gaussian tails left out weigh < 1e-4
DENSITY_FLOOR = 1e-10


def feature_matrix(pieces: Sequence[dict], name: str) -> np.ndarray:
    """One row per piece that has the feature (not None): a scalar as a 1-vector, the histogram as its 12 bins."""
    rows = [np.atleast_1d(np.asarray(p[name], dtype=float)) for p in pieces if p[name] is not None]
    return np.array(rows) if rows else np.empty((0, 1))


def is_constant(sample: np.ndarray) -> bool:
    return sample.size < 2 or np.ptp(sample) <= 1e-12 * max(1.0, float(np.abs(sample).max()))


def scott_width(sample: np.ndarray) -> float:
    return float(np.std(sample, ddof=1) * sample.size ** (-1 / 5))


def densities(intra: np.ndarray, inter: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(grid, p_intra, p_inter), each density normalised on the grid; None when both samples are one point."""
    pooled = np.concatenate([intra, inter])
    if is_constant(pooled):
        return None
    fallback = scott_width(pooled)
    kernels = [None if is_constant(s) else gaussian_kde(s) for s in (intra, inter)]
    widths = [fallback if k is None else float(np.sqrt(k.covariance[0, 0])) for k in kernels]
    grid = np.linspace(pooled.min() - GRID_MARGIN * max(widths), pooled.max() + GRID_MARGIN * max(widths), GRID_POINTS)
    curves = []
    for sample, kernel in zip((intra, inter), kernels, strict=True):
        curve = norm.pdf(grid[:, None], loc=sample, scale=fallback).mean(axis=1) if kernel is None else kernel(grid)
        curves.append(curve / np.trapezoid(curve, grid))
    return grid, curves[0], curves[1]


def overlap_and_kl(intra: np.ndarray, inter: np.ndarray) -> dict:
    """OA and KL(intra || inter) of two distance samples; None for both when a sample is empty."""
    if intra.size == 0 or inter.size == 0:
        return {"overlap": None, "kl": None}
    found = densities(intra, inter)
    if found is None:
        return {"overlap": 1.0, "kl": 0.0}
    grid, p, q = found
    overlap = float(np.clip(np.trapezoid(np.minimum(p, q), grid), 0.0, 1.0))
    floor = DENSITY_FLOOR * max(p.max(), q.max())
    return {"overlap": overlap, "kl": float(entropy(np.maximum(p, floor), np.maximum(q, floor)))}


def distance_samples(generated: Sequence[dict], reference: Sequence[dict], name: str, kept_rr, kept_gr):
    """(intra, inter) distances of one feature over the kept pairs (see `distinct_pairs`) of pieces that have it."""
    has_r = np.array([p[name] is not None for p in reference], dtype=bool)
    has_g = np.array([p[name] is not None for p in generated], dtype=bool)
    values_r, values_g = feature_matrix(reference, name), feature_matrix(generated, name)
    intra = cdist(values_r, values_r)[kept_rr[np.ix_(has_r, has_r)]] if has_r.any() else np.empty(0)
    inter = cdist(values_g, values_r)[kept_gr[np.ix_(has_g, has_r)]] if has_g.any() and has_r.any() else np.empty(0)
    return intra, inter


def distinct_pairs(pieces: Sequence[dict], reference: Sequence[dict]) -> np.ndarray:
    """True where two pieces differ in some feature: pairs that are one piece counted twice are left out
    (this includes a reference piece and itself)."""
    return np.array([[a != b for b in reference] for a in pieces], dtype=bool).reshape(len(pieces), len(reference))


def compare_sets(generated: Sequence[dict], reference: Sequence[dict]) -> dict:
    """Per feature of COMPARED its OA and KL, and the overall figures: `overlap`, the mean OA over the
    features of OVERALL, and `kl`, their mean KL (None where no feature has a value)."""
    if len(reference) < 2 or not generated:
        raise ValueError(
            f"a set comparison needs at least 2 reference pieces and 1 generated piece, "
            f"got {len(reference)} and {len(generated)}"
        )
    kept = distinct_pairs(reference, reference), distinct_pairs(generated, reference)
    per_feature = {name: overlap_and_kl(*distance_samples(generated, reference, name, *kept)) for name in COMPARED}
    return {"features": per_feature, **{key: mean_of(per_feature, key) for key in ("overlap", "kl")}}


def mean_of(per_feature: dict, key: str) -> float | None:
    values = [per_feature[name][key] for name in OVERALL if per_feature[name][key] is not None]
    return float(np.mean(values)) if values else None


def spread(pieces: Sequence[dict]) -> dict:
    """Mean and standard deviation of every feature over a set (per bin for the histogram); None for a feature
    that no piece has."""
    stats = {}
    for name in pieces[0] if pieces else ():
        values = feature_matrix(pieces, name)
        has = len(values) > 0
        stats[name] = {"mean": plain(values.mean(axis=0)), "std": plain(values.std(axis=0))} if has else None
    return stats


def plain(vector: np.ndarray) -> float | list[float]:
    """A 1-vector as its float, a longer vector as a list: what JSON and the tables take."""
    return float(vector[0]) if vector.size == 1 else vector.tolist()
