"""Transposition augmentation: shifted tokens, per-piece draws, and held-out data that no shifted copy leaks."""

import pytest
import torch

from labtools.errors import UserError
from mozart_lstm.data.transpose import (
    PieceShifts,
    allowed_shifts,
    midi_number,
    pitch_name,
    shift_token,
)
from mozart_lstm.data.windows import IGNORED, training_runs
from tests.defaults import data_settings


def test_pitch_names_are_music21s():
    from music21 import pitch

    for midi in range(21, 109):
        assert pitch_name(midi) == pitch.Pitch(midi=midi).nameWithOctave
        assert midi_number(pitch_name(midi)) == midi
    for name in ("B#3", "C-4", "E--5", "F##2", "E-5"):
        assert midi_number(name) == pitch.Pitch(name).midi


@pytest.mark.parametrize(
    ("token", "shift", "order", "expected"),
    [
        ("E5", 1, "music21", "F5"),
        ("E-5", -3, "music21", "C5"),
        ("B3.B2", 2, "music21", "C#4.C#3"),  # a chord shifts as a whole, in its own order
        ("B3.B2", 2, "sorted", "C#3.C#4"),  # re-ordered as the chord order orders chords
        ("E-5:1/4", 1, "music21", "E5:1/4"),  # a timed token keeps its gap
        ("D#5", 0, "music21", "D#5"),  # no shift leaves the spelling alone
    ],
)
def test_shift_token(token, shift, order, expected):
    assert shift_token(token, shift, order) == expected


def test_no_shift_leaves_the_piano():
    assert allowed_shifts(["A0", "C4"], 3) == [0, 1, 2, 3]
    assert allowed_shifts(["C8.A7"], 2) == [-2, -1, 0]
    assert allowed_shifts(["C4"], 0) == [0]


def test_draws_depend_on_seed_and_epoch_only():
    allowed = [list(range(-6, 7))] * 8
    shifts = PieceShifts([(i * 10, i * 10 + 10) for i in range(8)], allowed, 80, seed=3)
    again = PieceShifts([(i * 10, i * 10 + 10) for i in range(8)], allowed, 80, seed=3)
    assert shifts.draw(5) == again.draw(5)  # a resumed run draws what an uninterrupted one would
    assert len({tuple(shifts.draw(epoch)) for epoch in range(6)}) > 1
    per_position = shifts.per_position(2)
    assert per_position[:10].unique().tolist() == [shifts.draw(2)[0]]
    narrow = PieceShifts([(0, 5)], [[0, 1]], 5, seed=0)
    assert {narrow.draw(epoch)[0] for epoch in range(40)} == {0, 1}


@pytest.fixture
def make_datamodule(tmp_path, midi_dir, token_cache_dir):
    from mozart_lstm.data import MidiDataModule

    def make(**settings):
        base = dict(archive=str(midi_dir), cache_dir=str(token_cache_dir), data_dir=str(tmp_path), seq_len=8)
        datamodule = MidiDataModule(**data_settings(**base | dict(batch_size=4, num_parse_workers=1) | settings))
        datamodule.setup()
        return datamodule

    return make


@pytest.mark.parametrize(("split_by", "split"), [("window", [0.6, 0.2, 0.2]), ("piece", [0.6, 0.4])])
def test_every_training_copy_is_a_shift_and_held_out_data_never_is(make_datamodule, split_by, split):
    plain = make_datamodule(split_by=split_by, split=split)
    shifted = make_datamodule(split_by=split_by, split=split, transpose=3)
    original = plain.vocab.decode(plain.train_set.ids)
    for held_out_plain, held_out in zip(plain.held_out_sets(), shifted.held_out_sets(), strict=True):
        assert shifted.vocab.decode(held_out.tensors()[0].flatten()) == plain.vocab.decode(
            held_out_plain.tensors()[0].flatten()
        )
    moved = 0
    for epoch in range(3):
        tokens = shifted.vocab.decode(shifted.train_set_for_epoch(epoch).ids)
        for (lo, hi), shift in zip(shifted._pieces, shifted._shifts.draw(epoch), strict=True):
            assert tokens[lo:hi] == [shift_token(t, shift) for t in original[lo:hi]]
            moved += shift != 0
    assert moved > 0


def test_held_out_labels_are_never_targets_of_any_shifted_copy(make_datamodule):
    datamodule = make_datamodule(split=[0.6, 0.2, 0.2], transpose=4, train_targets="all")
    held_out_labels = torch.cat([d.starts + d.seq_len for d in datamodule.held_out_sets()])
    for epoch in range(4):
        train_set = datamodule.train_set_for_epoch(epoch)
        _, targets = train_set.__getitems__(list(range(len(train_set))))
        positions = train_set.starts[:, None] + 1 + torch.arange(train_set.seq_len)  # stream index of each target
        scored = positions[targets != IGNORED]
        assert not bool(torch.isin(scored, held_out_labels).any())
        assert bool(torch.isin(positions[targets == IGNORED], held_out_labels).all())


@pytest.mark.parametrize(("split_by", "split"), [("window", [0.6, 0.2, 0.2]), ("piece", [0.6, 0.4])])
def test_ngram_runs_are_the_training_side_without_any_held_out_label(make_datamodule, split_by, split):
    datamodule = make_datamodule(split_by=split_by, split=split)
    train = datamodule.train_set
    labels = {int(p) for d in datamodule.held_out_sets() for p in d.starts + d.seq_len}
    spans = {p for s in train.starts.tolist() for p in range(s, s + train.seq_len + 1)}
    runs = training_runs(len(train.ids), train.starts, train.seq_len, datamodule.held_out_sets(), datamodule._pieces)
    positions = [p for _, lo, hi in runs for p in range(lo, hi)]
    assert sorted(positions) == sorted(spans - labels)
    for piece, lo, hi in runs:  # no run crosses the end of a piece
        piece_lo, piece_hi = datamodule._pieces[piece]
        assert piece_lo <= lo < hi <= piece_hi
    assert sum(map(len, datamodule.ngram_sequences())) == len(positions)


def test_ngram_sequences_hold_every_allowed_shift(make_datamodule):
    plain = make_datamodule(split=[0.6, 0.2, 0.2])
    shifted = make_datamodule(split=[0.6, 0.2, 0.2], transpose=2)
    shifts_per_piece = [len(allowed) for allowed in shifted._shifts.allowed]
    runs = training_runs(len(plain.train_set.ids), plain.train_set.starts, 8, plain.held_out_sets(), plain._pieces)
    expected = sum(shifts_per_piece[piece] * (hi - lo) for piece, lo, hi in runs)
    assert sum(map(len, shifted.ngram_sequences())) == expected


def test_vocabulary_covers_every_shifted_training_token(make_datamodule):
    datamodule = make_datamodule(transpose=5, split_by="piece", split=[0.6, 0.4])
    for epoch in range(5):  # apply() raises if a shift leaves the vocabulary
        datamodule.train_set_for_epoch(epoch)
    training = datamodule.vocab.decode(datamodule.train_set.ids[: datamodule._pieces[0][1]])
    for shift in datamodule._shifts.allowed[0]:
        assert all(shift_token(token, shift) in datamodule.vocab.index for token in training)


@pytest.mark.parametrize("value", [-1, 2.5, True, "6"])
def test_bad_transpose_is_one_line(make_datamodule, value):
    with pytest.raises(UserError, match="data.transpose"):
        make_datamodule(transpose=value)


def test_transpose_beyond_every_piece_is_one_line(make_datamodule):
    with pytest.raises(UserError, match=r"data.transpose=200: no training piece can shift by more than \d+"):
        make_datamodule(transpose=200)


def test_training_with_transposition_draws_each_epoch(make_train_cfg, single_torch_thread):
    from mozart_lstm.train import run

    metrics = run(make_train_cfg("data.transpose=2", "trainer.max_epochs=2", "trainer.limit_train_batches=2"))
    assert metrics["train/loss"] > 0
    assert "baseline/ngram_acc" in metrics


def test_a_loader_built_anew_each_epoch_still_moves_the_spaced_phase(make_datamodule):
    """Under DDP, Lightning may not forward set_epoch to the spaced sampler: the epoch comes from the trainer."""
    from types import SimpleNamespace

    datamodule = make_datamodule(transpose=2, train_spacing=4, train_targets="all")
    firsts = []
    for epoch in range(4):
        datamodule.trainer = SimpleNamespace(current_epoch=epoch, reload_dataloaders_every_n_epochs=1)
        loader = datamodule.train_dataloader()
        firsts.append(sorted(loader.sampler))
    assert len({tuple(first) for first in firsts}) == 4  # four phases in a cycle of four epochs
    datamodule.trainer = SimpleNamespace(current_epoch=0, reload_dataloaders_every_n_epochs=0)
    with pytest.raises(UserError, match="reload_dataloaders_every_n_epochs=1"):
        datamodule.train_dataloader()
