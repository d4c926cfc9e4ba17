"""The long-range measures (judging/long_range.py) on onsets built by hand, and on Mozart's own sonatas."""

import pytest

from mozart_lstm.judging.long_range import (
    bar_basses,
    best_key,
    both_hands,
    key_changes,
    keys_per_span,
    long_range,
    longest_bass_loop,
    repeated_bass,
    stretch_keys,
)
from mozart_lstm.judging.onsets import Onset
from mozart_lstm.notes import TICKS_PER_QUARTER

C_MAJOR = (60, 62, 64, 65, 67, 69, 71)
A_MINOR_HARMONIC = (57, 59, 60, 62, 64, 65, 68)
QUARTER = TICKS_PER_QUARTER


def stretch(scale, bars: int = 4, start: int = 0, third: int = 4) -> list[Onset]:
    """The tonic and its third (4: major, 3: minor) on each downbeat and the scale running in quarters, `bars` bars
    from tick `start`."""
    onsets = []
    for beat in range(4 * bars):
        tonic = scale[0]
        pitches = {scale[beat % len(scale)]} | ({tonic - 12, tonic + third - 12} if beat % 4 == 0 else set())
        onsets.append(Onset(start + beat * QUARTER, frozenset(pitches)))
    return onsets


def test_a_scale_finds_its_key():
    assert best_key(stretch(C_MAJOR)) == 0  # C major
    assert best_key(stretch(tuple(p + 7 for p in C_MAJOR))) == 7  # G major
    assert best_key(stretch(A_MINOR_HARMONIC, third=3)) == 12 + 9  # A minor
    assert best_key([]) is None


def test_key_changes_count_the_stretches_that_move():
    steady = stretch(C_MAJOR, bars=16) + [Onset(64 * QUARTER, frozenset({60}))]  # a last onset ends the 16th bar
    assert key_changes(stretch_keys(steady)) == 0.0
    moving = [
        onset
        for k, scale in enumerate([C_MAJOR, tuple(p + 7 for p in C_MAJOR)] * 2 + [C_MAJOR])
        for onset in stretch(scale, start=k * 16 * QUARTER)
    ]
    keys = stretch_keys(moving)
    assert keys == [0, 7, 0, 7]  # the fifth stretch holds the last onset: unfinished, left out
    assert key_changes(keys) == 1.0
    assert keys_per_span(keys) is None  # 16 bars hold no 32-bar span
    assert keys_per_span([0, 7, 0, 7, 0, 2, None, 0]) == 3.0


def test_a_bass_that_loops_is_found_and_measured_in_bars():
    loop = [Onset(bar * 4 * QUARTER + beat * QUARTER, frozenset({36 + (beat % 2) * 7, 72})) for bar in range(10)
            for beat in range(4)]  # fmt: skip
    loop.append(Onset(40 * QUARTER, frozenset({48})))
    basses = bar_basses(loop)
    assert len(basses) == 10 and longest_bass_loop(basses) == 10 and repeated_bass(basses) == 1.0
    walking = [Onset(bar * 4 * QUARTER, frozenset({36 + bar})) for bar in range(11)]
    assert longest_bass_loop(bar_basses(walking)) == 1 and repeated_bass(bar_basses(walking)) == 0.0


def test_both_hands_counts_the_beats_that_span_middle_c():
    beats = [Onset(0, frozenset({48, 72})), Onset(QUARTER, frozenset({72})), Onset(QUARTER + 12, frozenset({50}))]
    beats += [Onset(2 * QUARTER, frozenset({64})), Onset(3 * QUARTER, frozenset({60, 55}))]
    assert both_hands(beats) == 0.75  # beat 1 holds 72 and 50 in two onsets; beat 2 only the right hand
    assert both_hands([]) is None


def test_every_measure_of_a_piece_under_one_bar_is_null_or_its_one_beat():
    found = long_range([Onset(0, frozenset({60, 48}))])
    assert found == {
        "key_changes": None,
        "keys_per_32_bars": None,
        "longest_bass_loop": None,
        "repeated_bass": None,
        "both_hands": 1.0,
    }


@pytest.mark.slow
def test_mozarts_sonatas_hold_their_key_and_never_loop_their_bass(shared_data, corpus_cache):
    """Mozart's own 500-token stretches at their real timing: the figures the issue quotes for Mozart."""
    import numpy as np

    from mozart_lstm.data import load_pieces
    from mozart_lstm.judging.onsets import onsets
    from mozart_lstm.notes import Timing
    from mozart_lstm.tokenizers import build_tokenizer

    tokenizer = build_tokenizer("pitch")
    pieces = load_pieces(
        shared_data / "mozart_sonatas.tar.gz", tokenizer, corpus_cache, max_files=4, data_dir=corpus_cache / "data"
    )
    rows = []
    for piece in pieces:
        for at in range(0, len(piece.tokens) - 499, 500):
            offsets = np.asarray(piece.offsets[at : at + 500])
            timing = Timing(offsets - offsets[0], np.asarray(piece.durations[at : at + 500]))
            rows.append(long_range(onsets(tokenizer.events(piece.tokens[at : at + 500], timing))))
    assert len(rows) >= 20
    assert 0.35 < np.mean([r["key_changes"] for r in rows]) < 0.75
    assert max(r["longest_bass_loop"] for r in rows) < 8  # issue 35's loop: 8 bars or more
    assert np.mean([r["repeated_bass"] for r in rows]) < 0.05
    assert 0.4 < np.mean([r["both_hands"] for r in rows]) < 0.7


def test_a_long_piece_of_2000_tokens_is_judged_over_its_whole_length(compose_cfg, tiny_ckpt, tmp_path):
    import json

    from mozart_lstm.generate import run
    from mozart_lstm.judging.report import REPORT_NAME

    quiet = ["wav=false", "piano_roll=false", "judge_pieces=0", "reference_size=2", "mode=stateful"]
    [result] = run(
        compose_cfg("generate", [f"ckpt={tiny_ckpt}", f"paths.output_dir={tmp_path}", "n_notes=2000", *quiet])
    )
    assert len(result["tokens"]) == 8 + 2000
    [piece] = json.loads((tmp_path / REPORT_NAME).read_text())["samples"]
    assert all(piece[name] is not None for name in long_range([Onset(0, frozenset({60}))]))  # every figure, 32 bars too
