"""primer=path.mid: the user's MIDI tokenized in the checkpoint's vocabulary (the nearest known token where it has
none), continued by the model, and written before the continuation."""

import json
import logging

import pytest
from music21 import chord, instrument, note, stream

from mozart_lstm.generate import run
from mozart_lstm.judging.report import REPORT_NAME
from mozart_lstm.models import read_checkpoint
from mozart_lstm.tokenizers import Piece, build_tokenizer
from mozart_lstm.tokenizers.nearest import NearestPitches

TIMED = build_tokenizer("timed")  # it reads pitch tokens too: their pitches, nothing after them

pytestmark = pytest.mark.usefixtures("single_torch_thread")
QUIET = ["wav=false", "piano_roll=false"]
SEQ_LEN = 8  # the tiny model's window (tests/conftest.py)
MELODY = ["C5", "D5", "E5", "F5", "G5", "A5"]  # the single notes of the tests' corpus (tests/conftest.py)


def write_primer(path, events, onsets=None) -> str:
    """A one-part MIDI file of `events` (a pitch name, or a list of them for a chord), eighth notes at `onsets`
    (by default one every eighth)."""
    part = stream.Part()
    part.insert(0, instrument.Piano())
    for i, names in enumerate(events):
        element = chord.Chord(names) if isinstance(names, list) else note.Note(names)
        element.quarterLength = 0.5
        part.insert(i * 0.5 if onsets is None else onsets[i], element)
    part.write("midi", fp=str(path))
    return str(path)


@pytest.fixture
def generate_cfg(compose_cfg, tiny_ckpt, tmp_path):
    def make(*overrides, out_dir=tmp_path):
        return compose_cfg(
            "generate", [f"ckpt={tiny_ckpt}", f"paths.output_dir={out_dir}", "judge_pieces=0", *overrides]
        )

    return make


def test_a_chord_maps_to_its_largest_known_sub_chord_a_note_to_the_nearest_pitch_within_an_octave():
    nearest = NearestPitches([TIMED.split(t) for t in ["C4", "E4", "G4", "C4.E4", "B-4", "A5"]], TIMED.pitches)
    assert nearest.pitch("C4.E4") == "C4.E4"
    assert nearest.pitch("E4.C4") == "C4.E4"  # the same pitches in another order
    assert nearest.pitch("A#4") == "B-4"  # and in another spelling
    assert nearest.pitch("C4.E4.G4") == "C4.E4"  # the largest sub-chord the vocabulary knows
    assert nearest.pitch("E4.G4.B4") == "G4"  # none of two notes: the highest known note, B4 being unknown
    assert nearest.pitch("D4") == "C4"  # two semitones either way: the lower
    assert nearest.pitch("C6") == "A5" and nearest.pitch("C7") is None  # 3 semitones off; 15: dropped


def test_a_timed_token_takes_the_nearest_gap_its_pitch_is_known_with():
    vocab = ["C4:1/2", "C4:1", "E4:0"]

    def nearest(offsets: list[float], duration: float, pitch: str = "C4") -> list[str]:
        piece = Piece("primer", [pitch] * len(offsets), offsets, [duration] * len(offsets))
        return TIMED.encode_in_vocab(piece, vocab)[0]

    assert nearest([0.0, 1.0], 1.0) == ["C4:1", "C4:1"]
    assert nearest([0.0, 0.75], 0.75) == ["C4:1/2", "C4:1/2"]  # 3/4: a quarter either way: the shorter
    assert nearest([0.0, 2.0], 2.0) == ["C4:1", "C4:1"]
    assert nearest([0.0], 0.25, "E4") == ["E4:0"]


def test_the_primer_is_continued_and_written_before_the_continuation(generate_cfg, tiny_ckpt, tmp_path, caplog):
    vocab = read_checkpoint(tiny_ckpt).vocab
    assert set(MELODY) <= set(vocab) and "C5.E5.G5" not in vocab and "B5" not in vocab and "C1" not in vocab
    primer = write_primer(tmp_path / "mine.mid", ["C5", "D5", "C1", "E5", ["C5", "E5", "G5"], "B5", "F5"])
    with caplog.at_level(logging.INFO, logger="mozart_lstm.composing.primer"):
        [result] = run(generate_cfg(f"primer={primer}", "n_notes=10", "wav=false"))
    # C1 is dropped (36 semitones below the corpus's notes), the chord keeps its known top note, B5 becomes A5
    assert result["tokens"][:6] == ["C5", "D5", "E5", "G5", "A5", "F5"] and len(result["tokens"]) == 6 + 10
    assert f"primer {primer}: 6 tokens, 2 mapped to the nearest token the checkpoint knows, 1 dropped" in caplog.text
    assert "shorter than the checkpoint's window of 8: the model starts from all of them" in caplog.text
    report = json.loads((tmp_path / REPORT_NAME).read_text())
    assert report["settings"]["primer"] == primer and len(report["samples"]) == 1
    assert result["paths"]["midi"].stat().st_size > 100 and result["paths"]["piano_roll"].stat().st_size > 200


@pytest.mark.parametrize("mode", ["window", "stateful"])
def test_a_long_primer_is_continued_from_its_last_window(generate_cfg, tmp_path, mode):
    melody = [MELODY[(3 * i) % len(MELODY)] for i in range(20)]
    whole = write_primer(tmp_path / "whole.mid", melody)
    tail = write_primer(tmp_path / "tail.mid", melody[-SEQ_LEN:])
    options = ["n_notes=12", "sampler=temperature", "seed=3", f"mode={mode}", *QUIET]
    [long] = run(generate_cfg(f"primer={whole}", *options, out_dir=tmp_path / "whole"))
    [short] = run(generate_cfg(f"primer={tail}", *options, out_dir=tmp_path / "tail"))
    assert long["tokens"][:20] == melody  # the whole primer is in the output
    assert long["tokens"][20:] == short["tokens"][SEQ_LEN:]  # its continuation reads only the last window


def test_a_timed_checkpoint_takes_the_primers_own_gaps(compose_cfg, timed_ckpt, tmp_path, caplog):
    ckpt, _ = timed_ckpt
    vocab = set(read_checkpoint(ckpt).vocab)
    # the tests' corpus moves in eighths: no note of it is followed by a gap of 3/4
    assert {"C5:1/2", "E5:1/2", "G5:1/2", "A5:1/2"} <= vocab and not any(t.endswith(":3/4") for t in vocab)
    primer = write_primer(tmp_path / "mine.mid", ["C5", "E5", "G5", "A5"], onsets=[0, 0.5, 1.25, 1.75])
    overrides = [f"ckpt={ckpt}", f"paths.output_dir={tmp_path}", f"primer={primer}", "n_notes=6", *QUIET]
    with caplog.at_level(logging.INFO, logger="mozart_lstm.composing.primer"):
        [result] = run(compose_cfg("generate", overrides))
    assert all(token in vocab for token in result["tokens"])
    # E5's gap of 3/4 takes the nearest one known with E5 (1/2 or 1: the shorter); the last note's is its length
    assert result["tokens"][:4] == ["C5:1/2", "E5:1/2", "G5:1/2", "A5:1/2"]
    assert "4 tokens, 1 mapped to the nearest token the checkpoint knows, 0 dropped" in caplog.text
