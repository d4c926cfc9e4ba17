"""Timed tokens (data.tokenization=timed): quantising gaps, the round trip through MIDI, the cache, the
metrics, and generation with learned timing (a pitch-only checkpoint still generating as before)."""

import numpy as np
import pytest
import torch
from music21 import chord, converter, instrument, note, stream

from labtools.errors import UserError
from mozart_lstm.composing.midi_file import write_midi
from mozart_lstm.data import MidiDataModule, load_pieces
from mozart_lstm.generate import run as generate
from mozart_lstm.models.part_accuracy import PartAccuracy
from mozart_lstm.tokenizers import Rhythm, build_tokenizer
from mozart_lstm.tokenizers.rhythm import legato_durations, make_timing, onsets
from mozart_lstm.tokenizers.timed import gap_label
from tests.defaults import data_settings

PITCH, TIMED = build_tokenizer("pitch"), build_tokenizer("timed")

pytestmark = pytest.mark.usefixtures("single_torch_thread")


@pytest.mark.parametrize(
    ("gap", "label"),
    [(0.0, "0"), (0.25, "1/4"), (1 / 3, "1/3"), (1 / 12, "1/12"), (1.5, "3/2"), (0.32, "1/3"), (1.2, "1")],
)
def test_a_gap_quantises_to_the_nearest_value(gap, label):
    assert gap_label(gap) == label


def test_a_tie_goes_to_the_shorter_gap_and_long_gaps_are_capped():
    assert gap_label(5 / 12) == "1/3"  # 1/3 and 1/2 are equally near
    assert gap_label(1.25) == "1"  # 1 and 3/2
    assert gap_label(3.0) == gap_label(9.5) == "2"


def test_the_last_token_of_a_piece_carries_its_duration():
    tokens = TIMED.with_gaps(["C4", "E4.G4", "C5"], [0.0, 0.0, 0.5], [0.5, 1.0, 0.75])
    assert tokens == ["C4:0", "E4.G4:1/2", "C5:3/4"]
    assert [TIMED.split(t)[0] for t in tokens] == ["C4", "E4.G4", "C5"]


def hand_built_piece(path):
    """Known gaps: sixteenths, a chord with a note, triplets, a dotted quarter; every gap is one of GAPS."""
    melody, bass = stream.Part(), stream.Part()
    for part in (melody, bass):
        part.insert(0, instrument.Piano())
    for offset, name, length in [
        (0, "C5", 0.25), (0.25, "D5", 0.25), (0.5, "E5", 0.5),
        (1, "F5", 1 / 3), (4 / 3, "G5", 1 / 3), (5 / 3, "A5", 1 / 3), (2, "B5", 1.5), (3.5, "C6", 0.5),
    ]:  # fmt: skip
        melody.insert(offset, note.Note(name, quarterLength=length))
    bass.insert(0.5, chord.Chord(["C3", "G3"], quarterLength=0.5))
    stream.Score([melody, bass]).write("midi", fp=str(path))
    return path


def notes_of(path) -> list[tuple[float, int]]:
    """(onset, MIDI number) of every pitch: what a listener hears, however MIDI groups them into chords."""
    elements = converter.parse(path).flatten().notes
    return sorted((round(float(e.offset), 6), p.midi) for e in elements for p in e.pitches)


def test_hand_built_midi_round_trips_through_timed_tokens(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    original = hand_built_piece(source / "piece.mid")
    piece = load_pieces(source, cache_dir=tmp_path / "cache", num_workers=1, tokenizer=TIMED)[0]
    assert piece.tokens == [
        "C5:1/4", "D5:1/4", "E5:0", "C3.G3:1/2", "F5:1/3", "G5:1/3", "A5:1/3", "B5:3/2", "C6:1/2",
    ]  # fmt: skip
    gaps = TIMED.gaps(piece.tokens)
    assert np.allclose(onsets(gaps), piece.offsets)

    written = write_midi(TIMED.decode(piece.tokens), tmp_path / "out.mid")  # timed tokens: their own timing
    assert notes_of(written) == notes_of(original)


def test_capped_gaps_shift_later_onsets_by_the_excess():
    tokens = TIMED.with_gaps(["C4", "D4", "E4"], [0.0, 4.5, 5.0], [1.0, 0.5, 0.5])
    assert tokens == ["C4:2", "D4:1/2", "E4:1/2"]
    assert onsets(TIMED.gaps(tokens)).tolist() == [0.0, 2.0, 2.5]


def test_notes_last_until_the_next_later_onset():
    gaps = np.array([0.0, 0.5, 0.0, 0.0, 1 / 3, 0.0])
    assert legato_durations(gaps, last=0.5).tolist() == [0.5, 0.5, 1 / 3, 1 / 3, 1 / 3, 0.5]


def test_learned_offsets_need_timed_tokens():
    assert PITCH.gaps(["C4", "E4.G4"]) is None
    with pytest.raises(ValueError, match="offset=learned"):
        make_timing(2, Rhythm("learned"))
    timing = make_timing(3, learned_gaps=TIMED.gaps(["C4:1/4", "D4:0", "E4:1"]))  # offset=auto: learned
    assert timing.offsets.tolist() == [0.0, 0.25, 0.25]
    assert timing.durations.tolist() == [0.25, 1.0, 1.0]


def test_the_timed_vocabulary_pairs_pitches_with_gaps(midi_dir, token_cache_dir):
    settings = data_settings(archive=str(midi_dir), cache_dir=str(token_cache_dir), seq_len=8, batch_size=4)
    pitch, timed = MidiDataModule(**settings), MidiDataModule(**settings | {"tokenization": "timed"})
    for datamodule in (pitch, timed):
        datamodule.setup()
    assert len(timed.train_set) == len(pitch.train_set)  # one token per event either way
    assert {TIMED.split(token)[0] for token in timed.vocab.tokens} == set(pitch.vocab.tokens)
    # the fixture's melody moves in eighths over chords on the beat (gap 0), and ends on an eighth
    assert {token.partition(":")[2] for token in timed.vocab.tokens} == {"0", "1/2"}


def test_pitch_and_timing_accuracy_score_the_parts_of_the_argmax():
    vocab = ["C4:0", "C4:1/4", "D4:1/4", "E4:1/2"]
    metric = PartAccuracy(TIMED.parts(vocab))
    predicted = torch.tensor([0, 1, 2, 3])
    labels = torch.tensor([1, 1, 1, 0])  # pitch right, both right, gap right, neither
    metric.update(torch.nn.functional.one_hot(predicted, 4).float().log(), labels)
    assert metric.means["pitch_acc"].compute().item() == pytest.approx(0.5)
    assert metric.means["timing_acc"].compute().item() == pytest.approx(0.5)
    assert PITCH.parts(["C4", "D4"]) == {}  # pitch tokens have one part: no part accuracies


def test_training_on_timed_tokens_logs_pitch_and_timing_accuracy(timed_ckpt):
    metrics = timed_ckpt[1]
    for name in ("test/pitch_acc", "test/timing_acc"):
        assert 0.0 <= metrics[name] <= 1.0
    assert metrics["test/pitch_acc"] >= metrics["test/acc"]  # a right token has its pitch right


def test_a_timed_checkpoint_generates_with_learned_timing(timed_ckpt, compose_cfg, tmp_path):
    options = [f"ckpt={timed_ckpt[0]}", f"paths.output_dir={tmp_path}", "n_notes=30", "wav=false"]
    [learned] = generate(compose_cfg("generate", options))
    expected = onsets(TIMED.gaps(learned["tokens"]))
    assert sorted({onset for onset, _ in notes_of(learned["paths"]["midi"])}) == sorted(set(expected.round(6)))
    [fixed] = generate(compose_cfg("generate", [*options, "rhythm.offset=fixed"]))
    assert sorted({onset for onset, _ in notes_of(fixed["paths"]["midi"])}) == [0.5 * i for i in range(38)]


def test_a_pitch_only_checkpoint_generates_as_before(tiny_ckpt, compose_cfg, tmp_path):
    options = [f"ckpt={tiny_ckpt}", "n_notes=20", "wav=false", "piano_roll=false"]
    [auto] = generate(compose_cfg("generate", [*options, f"paths.output_dir={tmp_path / 'auto'}"]))
    [fixed] = generate(
        compose_cfg("generate", [*options, f"paths.output_dir={tmp_path / 'fixed'}", "rhythm.offset=fixed"])
    )
    assert auto["paths"]["midi"].read_bytes() == fixed["paths"]["midi"].read_bytes()
    with pytest.raises(UserError, match="rhythm.offset=learned"):
        generate(compose_cfg("generate", [*options, f"paths.output_dir={tmp_path}", "rhythm.offset=learned"]))


def test_the_audio_samples_of_a_timed_model_use_its_learned_timing(make_train_cfg, monkeypatch, single_torch_thread):
    from mozart_lstm.tokenizers import base
    from mozart_lstm.train import run

    seen = []
    original = base.make_timing

    def recording(n, rhythm, **options):
        seen.append(options["learned_gaps"])
        return original(n, rhythm, **options)

    monkeypatch.setattr(base, "make_timing", recording)  # what every tokenizer's decode places tokens with
    audio = ("callbacks=[default,audio_samples]", "callbacks.audio_samples.every_n_epochs=1")
    small = ("callbacks.audio_samples.n_notes=4", "callbacks.audio_samples.reference_size=0")
    run(make_train_cfg("data.tokenization=timed", *audio, *small))
    assert seen and all(gaps is not None for gaps in seen)
