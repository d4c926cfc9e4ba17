"""The judge: one for every tokenization, the structure feature, the classifier two-sample test and its controls,
and the spreads."""

import json

import numpy as np
import pytest

from mozart_lstm.composing.held_out import reference_features, reference_stretches
from mozart_lstm.data.tokenize import Piece
from mozart_lstm.judging.compare import compare_sets, distinct_pairs
from mozart_lstm.judging.features import piece_features
from mozart_lstm.judging.judge import judge
from mozart_lstm.judging.onsets import onsets
from mozart_lstm.judging.overlap_spread import overlap_curves, overlap_spread, resampled_overlaps
from mozart_lstm.judging.reference import Stretch
from mozart_lstm.judging.resampling import pieces_needed
from mozart_lstm.judging.stretch_vectors import piece_vectors
from mozart_lstm.judging.structure import self_similarity
from mozart_lstm.judging.summary import format_report
from mozart_lstm.judging.two_sample import two_sample_test
from mozart_lstm.notes import NoteEvent
from mozart_lstm.tokenizers import build_tokenizer

TIMED = build_tokenizer("timed")  # it reads pitch tokens too: their pitches, nothing after them

SCALE = [60, 62, 64, 65, 67, 69, 71, 72, 74, 76, 77, 79]
NAMES = ["C4", "D4", "E4", "F4", "G4", "A4", "B4", "C5", "D5", "E5", "F5", "G5"]
BASS = ["C3", "F3", "G3", "A2", "E3.G3"]


def mozart_like_piece(seed: int, bars: int = 24) -> Piece:
    """A melody in C major over a bass on every beat, in eighths, sixteenths and triplets, with rests: real
    offsets (from the start of a piece, not from 0), on music21's grid."""
    rng = np.random.default_rng(seed)
    tokens, offsets, durations, step = [], [], [], 5
    for beat in range(bars * 4):
        time = 8.0 + beat
        tokens.append(BASS[rng.integers(len(BASS))])
        offsets.append(time)
        durations.append(1.0)
        division = [[0.0, 0.5], [0.0, 0.25, 0.5, 0.75], [0.0, 1 / 3, 2 / 3], [0.0]][rng.integers(4)]
        for at in division if rng.random() > 0.1 else []:  # a beat of rest in the melody now and then
            step = int(np.clip(step + rng.choice([-2, -1, 1, 2]), 0, len(NAMES) - 1))
            tokens.append(NAMES[step])
            offsets.append(time + at)
            durations.append(0.25)
    return Piece(f"sonata {seed}", tokens, offsets, durations)


def whole(piece: Piece) -> Stretch:
    [stretch] = reference_stretches([piece], [0], len(piece.tokens), 1, TIMED)
    return Stretch(piece.name, stretch.events)


def pitch_shuffled(stretch: Stretch, seed: int) -> Stretch:
    """The same onsets, each event given another event's pitches: the known-bad composer."""
    rng = np.random.default_rng(seed)
    pitches = [stretch.events[i].pitches for i in rng.permutation(len(stretch.events))]
    events = [NoteEvent(e.offset, e.duration, p) for e, p in zip(stretch.events, pitches, strict=True)]
    return Stretch(f"shuffled {stretch.piece}", events)


def timed_decoded(piece: Piece) -> list[NoteEvent]:
    """The piece as timed tokens, placed in time as generate.py places a timed model's tokens (their own gaps)."""
    return TIMED.decode(TIMED.with_gaps(piece.tokens, piece.offsets, piece.durations))


def test_one_stretch_of_mozart_gives_the_same_features_whichever_tokenization_holds_it():
    piece = mozart_like_piece(0)
    at_real_offsets = whole(piece).events  # pitch tokens at the corpus's offsets and durations
    decoded = timed_decoded(piece)  # timed tokens: onsets from their gaps, legato durations
    assert [e.duration for e in decoded] != [e.duration for e in at_real_offsets]  # what the judge must not see
    assert piece_features(decoded, set()) == piece_features(at_real_offsets, set())
    np.testing.assert_array_equal(piece_vectors(decoded), piece_vectors(at_real_offsets))
    timed = TIMED.with_gaps(piece.tokens, piece.offsets, piece.durations)
    timed_piece = Piece(piece.name, timed, piece.offsets, piece.durations)
    pitch = build_tokenizer("pitch")
    assert reference_features([timed_piece], [0], 60, 3, set(), TIMED) == reference_features(
        [piece], [0], 60, 3, set(), pitch
    )


def test_onsets_group_notes_that_start_together_whatever_the_float_sums():
    gaps = [1 / 12] * 12  # twelve float additions of 1/12 land on 1.0000000000000002, not 1.0
    events = [NoteEvent(float(t), 0.1, (60,)) for t in np.concatenate([[0.0], np.cumsum(gaps)])]
    chords = onsets([*events, NoteEvent(1.0, 1.0, (48,))])
    assert chords[-1].pitches == {60, 48} and len(chords) == 13


def test_structure_is_one_for_a_loop_and_low_for_music_that_never_returns():
    bar = [NoteEvent(t, 0.5, (p,)) for t, p in [(0.0, 60), (1.0, 64), (2.0, 67), (3.5, 72)]]
    loop = [NoteEvent(e.offset + 4 * k, e.duration, e.pitches) for k in range(8) for e in bar]
    assert self_similarity(onsets(loop)) == pytest.approx(1.0)
    late = [NoteEvent(e.offset + 1.0, e.duration, e.pitches) for e in loop[4:]]  # a repeat one beat off the bar
    assert self_similarity(onsets(loop[:4] + late)) > 0.6
    rng = np.random.default_rng(0)
    wandering = [NoteEvent(0.5 * k, 0.5, (int(rng.integers(40, 90)),)) for k in range(64)]  # no bar recurs
    assert self_similarity(onsets(wandering)) < 0.3
    assert self_similarity(onsets(bar)) is None  # one bar: nothing it could recall


def test_the_classifier_cannot_tell_mozart_like_pieces_apart_but_tells_pitch_shuffled_ones():
    pieces = [whole(mozart_like_piece(seed)) for seed in range(12)]
    floor = two_sample_test(pieces[:6], pieces[6:])
    assert floor["why"] is None and floor["pieces"] == {"generated": 6, "mozart": 6} and floor["folds"] == 5
    assert floor["accuracy"] < 0.7 and floor["ci95"][0] <= 0.5 + 2 * floor["spread"]
    bad = two_sample_test([pitch_shuffled(p, k) for k, p in enumerate(pieces[:6])], pieces[6:])
    assert bad["accuracy"] >= 0.95 and "top_step_mean" in " ".join(bad["telling"])


def test_too_few_or_too_short_pieces_say_why_in_one_line():
    pieces = [whole(mozart_like_piece(seed, bars=3)) for seed in range(4)]  # 12 quarters: no stretch of 16
    short = two_sample_test(pieces[:2], pieces[2:])
    assert short["accuracy"] is None and "\n" not in short["why"] and "0 generated and 0 of Mozart's" in short["why"]
    one = two_sample_test([whole(mozart_like_piece(1))], [whole(mozart_like_piece(2)), whole(mozart_like_piece(3))])
    assert one["accuracy"] is None and "got 1 generated" in one["why"]


def test_the_smoothed_bootstrap_of_the_whole_set_is_the_overlap_itself():
    generated = [piece_features(whole(mozart_like_piece(seed, bars=8)).events, set()) for seed in range(6)]
    reference = [piece_features(whole(mozart_like_piece(seed, bars=8)).events, set()) for seed in range(6, 14)]
    kept = distinct_pairs(reference, reference), distinct_pairs(generated, reference)
    compared = compare_sets(generated, reference)
    full = compared["features"]
    for name in ("pitch_class_histogram", "mean_interval", "structure"):
        [again] = resampled_overlaps(overlap_curves(generated, reference, name, kept), np.ones((1, 6)))
        assert again == pytest.approx(full[name]["overlap"], abs=1e-9)
    found = overlap_spread(generated, reference)
    assert 0 < found["overlap"]["spread"] < 0.2 and found["overlap"]["pieces_needed"] >= 2
    assert found["overlap"]["ci95"][0] <= compared["overlap"] <= found["overlap"]["ci95"][1]


def test_pieces_needed_follows_one_over_root_n():
    assert pieces_needed(0.04, 16) == 64
    assert pieces_needed(0.01, 16) == 4
    assert pieces_needed(0.01, 16, fixed=0.02) is None  # the reference alone is too spread: no count suffices


def test_the_report_holds_every_figure_and_prints_each_in_one_line():
    generated = [timed_decoded(mozart_like_piece(seed, bars=10)) for seed in range(4)]
    mozart = [whole(mozart_like_piece(seed, bars=10)) for seed in range(4, 10)]
    report = judge(generated, mozart, set(), {"n_notes": 100, "num_samples": 2})
    assert report.told_apart is not None and report.overlap_spread >= 0
    assert report.comparison["features"]["structure"]["overlap"] is not None
    lines = format_report(report).splitlines()
    assert lines[0].split()[-6:] == ["0", "sample", "1", "Mozart", "OA", "KL"]  # the written samples only
    assert [line.split()[0] for line in lines[-4:]] == ["overlap", "overlap", "structure", "classifier"]


def test_the_typed_report_writes_and_reads_back_the_same_json(tmp_path):
    from mozart_lstm.judging.report import MusicReport, read_report, write_report

    generated = [timed_decoded(mozart_like_piece(seed, bars=10)) for seed in range(4)]
    mozart = [whole(mozart_like_piece(seed, bars=10)) for seed in range(4, 8)]
    report = judge(generated, mozart, set(), {"n_notes": 100})
    written = read_report(write_report(tmp_path, report))
    assert written == report
    assert list(json.loads((tmp_path / "music_report.json").read_text())) == [
        "settings", "samples", "reference", "comparison", "spread", "two_sample"
    ]  # fmt: skip
    assert written.overlap == report.comparison["overlap"] and written.overlap_spread is not None
    assert MusicReport.from_json({"settings": {}, "samples": []}).overlap is None  # a report of before its figures
