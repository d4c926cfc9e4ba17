"""Features of one piece on hand-built pieces whose values are known, and Mozart's reference stretches."""

import math

import numpy as np
import pytest

from mozart_lstm.composing.held_out import reference_features
from mozart_lstm.data.tokenize import Piece
from mozart_lstm.judging.features import FEATURES, ngrams, note_unit, piece_features, training_ngrams
from mozart_lstm.judging.reference import stretch_starts
from mozart_lstm.judging.report import music_report
from mozart_lstm.judging.summary import format_report, format_value
from mozart_lstm.notes import Timing
from mozart_lstm.tokenizers import build_tokenizer
from mozart_lstm.tokenizers.rhythm import make_timing

TIMED = build_tokenizer("timed")  # it reads pitch tokens too: their pitches, nothing after them

C_MAJOR_SCALE = ["C4", "D4", "E4", "F4", "G4", "A4", "B4", "C5"]


def features_of(tokens, offsets=None, train=()):
    timing = make_timing(len(tokens)) if offsets is None else Timing(np.array(offsets), np.ones(len(tokens)))
    units = [note_unit(TIMED.pitches(token)) for token in train]
    return piece_features(TIMED.events(tokens, timing), ngrams(units))


def test_c_major_scale():
    f = features_of(C_MAJOR_SCALE)
    assert f["scale_consistency"] == 1.0
    assert (f["pitch_classes_used"], f["pitches_used"], f["pitch_range"]) == (7, 8, 12)
    assert f["pitch_class_entropy"] == pytest.approx(-(2 / 8) * math.log2(2 / 8) - 6 * (1 / 8) * math.log2(1 / 8))
    assert f["mean_interval"] == pytest.approx((2 + 2 + 1 + 2 + 2 + 2 + 1) / 7)
    assert (f["polyphony"], f["chord_share"], f["repeated"], f["longest_run"]) == (1.0, 0.0, 0.0, 1)
    assert sum(f["pitch_class_histogram"]) == pytest.approx(1.0)


def test_a_single_repeated_note():
    f = features_of(["E4"] * 10)
    assert (f["pitch_range"], f["pitches_used"], f["pitch_classes_used"]) == (0, 1, 1)
    assert (f["pitch_class_entropy"], f["scale_consistency"], f["mean_interval"]) == (0.0, 1.0, 0.0)
    assert format_value("number", f["pitch_class_entropy"]) == "0.00"  # not "-0.00"
    assert (f["repeated"], f["longest_run"], f["distinct_onsets"]) == (1.0, 10, 1)


def test_a_piece_of_chords_only():
    f = features_of(["C4.E4.G4", "F4.A4.C5", "G4.B4.D5", "G4.B4.D5"])
    assert (f["polyphony"], f["chord_share"]) == (3.0, 1.0)
    assert f["mean_interval"] == pytest.approx((5 + 2 + 0) / 3)  # between the chords' top notes
    assert (f["pitch_classes_used"], f["scale_consistency"]) == (7, 1.0)
    assert (f["lowest_pitch"], f["highest_pitch"]) == (60, 74)


def test_tokens_at_one_offset_sound_as_one_onset():
    f = features_of(["C4", "E5", "D4", "D4"], offsets=[0.0, 0.0, 0.5, 1.0])
    assert f["polyphony"] == pytest.approx((2 + 1 + 1) / 3)
    assert f["chord_share"] == pytest.approx(1 / 3)
    assert f["mean_interval"] == pytest.approx((14 + 0) / 2)  # E5 (top of the first onset) -> D4 -> D4


def test_all_twelve_pitch_classes_fit_no_scale():
    chromatic = ["C4", "C#4", "D4", "E-4", "E4", "F4", "F#4", "G4", "G#4", "A4", "B-4", "B4"]
    f = features_of(chromatic)
    assert f["scale_consistency"] == pytest.approx(7 / 12)
    assert f["pitch_class_entropy"] == pytest.approx(math.log2(12))


def test_copied_8grams_and_repeats():
    tokens = ["C4", "C4", "C4", "E4", "G4.C5", "C4", "D4", "E4", "F4", "G4"]
    f = features_of(tokens, train=["C4", "E4", "G4.C5", "C4", "D4", "E4", "F4", "G4"])
    assert f["repeated"] == pytest.approx(2 / 9)
    assert (f["distinct_onsets"], f["longest_run"]) == (6, 3)
    assert f["copied_8grams"] == pytest.approx(1 / 3)  # the last of the three 8-grams


def test_every_feature_has_a_definition_citing_its_source():
    computed = features_of(C_MAJOR_SCALE)
    assert [f.name for f in FEATURES] == list(computed)
    assert all(("MusPy" in f.definition or "mgeval" in f.definition or "project" in f.definition) for f in FEATURES)


def test_training_ngrams_equal_those_of_every_window():
    stream = [str(i % 13) for i in range(200)]
    starts, span = [0, 3, 50, 52, 120], 20
    expected = set().union(*(ngrams(stream[s : s + span]) for s in starts))
    assert training_ngrams(stream, starts, span) == expected


def test_stretches_stay_inside_one_piece_and_never_overlap():
    lengths = [30, 10, 50]  # pieces at 0-29, 30-39, 40-89
    found = stretch_starts(range(0, 90, 3), lengths, length=12, count=100)
    # starts 0, 12 (24 + 12 would cross into piece 1, which is too short), then 42, 54, 66, 78 in piece 2
    assert found == [(0, 0), (0, 12), (2, 2), (2, 14), (2, 26), (2, 38)]
    assert stretch_starts(range(0, 90, 3), lengths, length=12, count=2) == [(0, 0), (2, 38)]  # spread out


def test_reference_uses_the_corpus_timing():
    piece = Piece("p", ["C4", "E4", "G4", "C5"] * 3, [4.0, 4.0, 5.0, 5.0] * 3, [1.0] * 12)
    [f] = reference_features([piece], [0], length=4, count=5, train_ngrams=set(), tokenizer=TIMED)
    assert (f["polyphony"], f["chord_share"]) == (2.0, 1.0)  # two onsets of two notes each


def test_report_table_has_a_row_per_feature_and_mozarts_column():
    samples = [features_of(C_MAJOR_SCALE), features_of(["E4"] * 8)]
    reference = [features_of(C_MAJOR_SCALE[::-1]), features_of(C_MAJOR_SCALE[1:] + ["D5"])]
    report = music_report(samples, reference, {"n_notes": 8})
    lines = format_report(report).splitlines()
    assert lines[0].split() == ["feature", "sample", "0", "sample", "1", "Mozart", "OA", "KL"]
    assert len(lines) == 1 + len(FEATURES) + 2  # the overlap, then the structure (too short here: why)
    assert "scale consistency" in lines[1 + [f.name for f in FEATURES].index("scale_consistency")]
    assert "overlap with Mozart" in lines[-2]
    assert lines[-1].startswith("no structure figure")  # 8 notes at 0.5 steps: one bar
