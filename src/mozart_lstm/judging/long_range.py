"""The long range of a piece, on onsets (issue 35): does it hold a key, does its bass loop, do both hands play.

The piece is read from its first onset in bars of BAR quarters (4/4; a sonata's 3/4 or 2/4 bars are read as
4-quarter spans all the same, for the generated music and Mozart's alike).

- Key: each 4-bar stretch's best-fitting key, the major or minor Krumhansl-Kessler profile (Krumhansl 1990)
  most correlated with the stretch's pitch-class counts (each starting pitch once, as every measure here counts).
  `key_changes` is the share of consecutive stretches whose keys differ; `keys_per_32_bars` the mean number of
  distinct keys in the piece's whole 32-bar spans (null for a piece shorter than 32 bars).
- Bass: a bar's bass is the lowest pitch of each of its onsets. `longest_bass_loop` is the most consecutive bars
  with the same set of bass pitches, whatever their rhythm ("the bass stays on the same notes"); `repeated_bass`
  the share of bars whose bass, pitch and position, equals the bar before's exactly.
- Hands: `both_hands` is the share of beats with an onset that hold pitches both below middle C (60) and at or
  above it: music in one register for many bars lowers it.
"""

import itertools
from collections.abc import Sequence

import numpy as np

from mozart_lstm.judging.onsets import Onset, cut
from mozart_lstm.judging.structure import BAR
from mozart_lstm.notes import TICKS_PER_QUARTER

KEY_BARS = 4  # a key per stretch of this many bars
SPAN_BARS = 32
MIDDLE_C = 60
# Krumhansl and Kessler's probe-tone ratings, tonic first
MAJOR_PROFILE = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
MINOR_PROFILE = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
# the 24 keys' profiles, C major .. B major, then C minor .. B minor, centred for a correlation
PROFILES = np.array([np.roll(profile, tonic) for profile in (MAJOR_PROFILE, MINOR_PROFILE) for tonic in range(12)])
PROFILES = PROFILES - PROFILES.mean(axis=1, keepdims=True)


def best_key(stretch: Sequence[Onset]) -> int | None:
    """The index (0-11 major, 12-23 minor, by tonic from C) of the key whose profile best fits the stretch's
    pitch-class counts; None for a stretch without notes."""
    counts = np.bincount([p % 12 for onset in stretch for p in onset.pitches], minlength=12).astype(float)
    if not counts.any():
        return None
    centred = counts - counts.mean()
    scale = np.linalg.norm(centred)
    if scale == 0.0:  # every pitch class equally often: every key fits as badly; the first in order stands
        return 0
    return int(np.argmax(PROFILES @ centred / (np.linalg.norm(PROFILES, axis=1) * scale)))


def stretch_keys(chords: Sequence[Onset]) -> list[int | None]:
    return [best_key(stretch) for stretch in cut(chords, BAR * KEY_BARS)]


def key_changes(keys: Sequence[int | None]) -> float | None:
    """The share of consecutive stretches (both with notes) in different keys; None with fewer than 2 pairs."""
    pairs = [(a, b) for a, b in itertools.pairwise(keys) if a is not None and b is not None]
    return sum(a != b for a, b in pairs) / len(pairs) if pairs else None


def keys_per_span(keys: Sequence[int | None]) -> float | None:
    """The mean number of distinct keys in each whole span of SPAN_BARS; None when the piece holds none."""
    per_span = SPAN_BARS // KEY_BARS
    spans = [keys[i : i + per_span] for i in range(0, len(keys) - per_span + 1, per_span)]
    counts = [len({key for key in span if key is not None}) for span in spans]
    return float(np.mean(counts)) if counts else None


def bar_basses(chords: Sequence[Onset]) -> list[tuple[tuple[int, int], ...]]:
    """Each whole bar's bass: (position in ticks, lowest pitch) of each onset, in time order."""
    return [tuple((onset.tick, min(onset.pitches)) for onset in bar) for bar in cut(chords, BAR)]


def longest_bass_loop(basses: Sequence[tuple]) -> int | None:
    """The most consecutive bars (with notes) whose sets of bass pitches are equal; None for a piece without a bar."""
    pitch_sets = [frozenset(pitch for _, pitch in bass) for bass in basses]
    runs = [len(list(run)) for notes, run in itertools.groupby(pitch_sets) if notes]
    return max(runs) if runs else None


def repeated_bass(basses: Sequence[tuple]) -> float | None:
    """The share of bars, after a bar with notes, whose bass equals that bar's exactly (pitches and positions)."""
    pairs = [(a, b) for a, b in itertools.pairwise(basses) if a]
    return sum(a == b for a, b in pairs) / len(pairs) if pairs else None


def both_hands(chords: Sequence[Onset]) -> float | None:
    """The share of beats with an onset whose onsets hold pitches both below MIDDLE_C and at or above it."""
    beats: dict[int, set[int]] = {}
    for onset in chords:
        beats.setdefault(onset.tick // TICKS_PER_QUARTER, set()).update(onset.pitches)
    if not beats:
        return None
    return sum(min(p) < MIDDLE_C <= max(p) for p in beats.values()) / len(beats)


def long_range(chords: Sequence[Onset]) -> dict:
    """Every measure above for one piece's onsets."""
    keys, basses = stretch_keys(chords), bar_basses(chords)
    return {
        "key_changes": key_changes(keys),
        "keys_per_32_bars": keys_per_span(keys),
        "longest_bass_loop": longest_bass_loop(basses),
        "repeated_bass": repeated_bass(basses),
        "both_hands": both_hands(chords),
    }
