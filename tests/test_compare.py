"""Set against set: overlapped area and KL divergence of intra- and inter-set distances (Yang and Lerch)."""

import copy
import math

import numpy as np
import pytest

from mozart_lstm.judging.compare import COMPARED, compare_sets, overlap_and_kl, spread
from mozart_lstm.judging.features import piece_features
from mozart_lstm.tokenizers import build_tokenizer
from mozart_lstm.tokenizers.rhythm import make_timing

TIMED = build_tokenizer("timed")  # it reads pitch tokens too: their pitches, nothing after them

NAMES = ["C4", "D4", "E4", "F4", "G4", "A4", "B4", "C5", "C#4", "E-4", "F#4", "G#4"]


def random_pieces(count: int, n_pitch_names: int, seed: int, length: int = 40) -> list[dict]:
    rng = np.random.default_rng(seed)
    pieces = []
    for _ in range(count):
        tokens = [NAMES[i] for i in rng.integers(0, n_pitch_names, length)]
        pieces.append(piece_features(TIMED.events(tokens, make_timing(length)), set()))
    return pieces


def test_a_set_against_itself_overlaps_fully():
    """The generated side is other objects in another order, equal to the reference pieces: each is found to be
    a reference piece counted twice and its distance to itself left out, so the two samples are the same."""
    pieces = random_pieces(12, 8, seed=0)
    copies = [copy.deepcopy(piece) for piece in reversed(pieces)]
    result = compare_sets(copies, pieces)
    assert result["overlap"] == pytest.approx(1.0, abs=1e-9)
    assert result["kl"] == pytest.approx(0.0, abs=1e-9)
    assert set(result["features"]) == set(COMPARED)
    # a set drawn alike but of other pieces overlaps well, but not fully: 1 is not what any comparison gives
    alike = compare_sets(random_pieces(12, 8, seed=1), pieces)
    assert 0.5 < alike["overlap"] < 1 - 1e-3 and alike["kl"] > 1e-3


def test_a_different_set_overlaps_less_and_diverges_more():
    mozart_like = random_pieces(12, 7, seed=0)  # C major only
    same_kind = random_pieces(12, 7, seed=1)
    chromatic = random_pieces(12, 12, seed=2)
    near, far = compare_sets(same_kind, mozart_like), compare_sets(chromatic, mozart_like)
    assert far["overlap"] < near["overlap"] < 1.0
    assert far["kl"] > near["kl"]
    assert far["features"]["scale_consistency"]["overlap"] < 0.2


@pytest.mark.parametrize(
    ("intra", "inter"),
    [
        ([0.0, 0.0, 0.0], [0.0, 0.0]),  # both one point, the same: identical distributions
        ([0.0, 0.0, 0.0], [1.0, 1.0]),  # both zero variance, apart
        ([2.0], [1.0, 2.0, 3.0]),  # a single distance
        ([1.0, 2.0, 3.0], [50.0, 51.0, 52.0]),  # never meet
    ],
)
def test_degenerate_samples_give_finite_figures(intra, inter):
    figures = overlap_and_kl(np.array(intra), np.array(inter))
    assert 0.0 <= figures["overlap"] <= 1.0 and math.isfinite(figures["kl"]) and figures["kl"] >= 0.0
    if intra[0] == inter[0] == 0.0:
        assert figures == {"overlap": 1.0, "kl": 0.0}


def test_apart_samples_overlap_less_than_close_ones():
    base = np.array([1.0, 2.0, 3.0, 2.5])
    assert overlap_and_kl(base, base + 50)["overlap"] < 1e-6 < overlap_and_kl(base, base + 0.5)["overlap"]


def test_tiny_and_duplicate_sets():
    pieces = random_pieces(3, 8, seed=0)
    with pytest.raises(ValueError, match="at least 2 reference pieces.*got 1"):
        compare_sets(pieces, pieces[:1])
    twins = [pieces[0], pieces[0]]  # one piece counted twice: no intra distance is left
    result = compare_sets(pieces, twins)
    assert result["overlap"] is None and all(f["overlap"] is None for f in result["features"].values())
    assert compare_sets(pieces[:1], pieces[1:])["overlap"] is not None  # one generated piece is enough


def test_spread_gives_mean_and_sd_per_feature():
    pieces = random_pieces(5, 8, seed=3)
    stats = spread(pieces)
    ranges = [p["pitch_range"] for p in pieces]
    assert stats["pitch_range"] == {"mean": pytest.approx(np.mean(ranges)), "std": pytest.approx(np.std(ranges))}
    assert len(stats["pitch_class_histogram"]["mean"]) == 12
