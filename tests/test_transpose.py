"""Transposition augmentation: shifted tokens, per-piece draws, and held-out data that no shifted copy leaks."""

import pytest
import torch

from labtools.errors import UserError
from mozart_lstm.data.transpose import PieceShifts, allowed_shifts
from mozart_lstm.data.windows import IGNORED, training_runs
from mozart_lstm.notes import pitch_name
from mozart_lstm.tokenizers import build_tokenizer
from mozart_lstm.tokenizers.pitch import midi_number
from tests.defaults import data_settings

TIMED = build_tokenizer("timed")  # shifts pitch tokens too: a token without a gap keeps none


def shift_token(token: str, shift: int, order: str = "music21") -> str:
    return build_tokenizer("timed", order).transpose(token, shift)


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
    assert allowed_shifts(["A0", "C4"], 3, TIMED) == [0, 1, 2, 3]
    assert allowed_shifts(["C8.A7"], 2, TIMED) == [-2, -1, 0]
    assert allowed_shifts(["C4"], 0, TIMED) == [0]


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


def shifts_of(tokens: list[str], original: list[str], limit: int) -> list[int]:
    """Per position, the shift that takes the original token to the served one (unpacking fails where none does)."""
    found = []
    for token, before in zip(tokens, original, strict=True):
        [shift] = [s for s in range(-limit, limit + 1) if shift_token(before, s) == token]
        found.append(shift)
    return found


@pytest.mark.usefixtures("single_torch_thread")
def test_training_with_transposition_draws_each_epoch(make_train_cfg, make_datamodule, monkeypatch):
    """What the training loop is served: each epoch the same windows (positions) of the stream with every training
    piece shifted by one whole number of semitones, drawn anew each epoch from the seed alone; the held-out windows,
    evaluated every epoch, never shifted."""
    from mozart_lstm.data import MidiDataModule
    from mozart_lstm.models import MozartLitModule
    from mozart_lstm.train import run

    served, trained, evaluated = {}, [], []
    load, train_step, val_step = (
        MidiDataModule.train_dataloader, MozartLitModule.training_step, MozartLitModule.validation_step,
    )  # fmt: skip

    def train_dataloader(self):
        loader = load(self)
        served[self.trainer.current_epoch] = (self.vocab.decode(loader.dataset.ids), loader.dataset.starts.tolist())
        return loader

    def training_step(self, batch, batch_idx):
        trained.append((self.current_epoch, self.trainer.datamodule.vocab, batch[0].clone()))
        return train_step(self, batch, batch_idx)

    def validation_step(self, batch, batch_idx):
        evaluated.append((self.trainer.datamodule.vocab, batch_idx, batch[0].clone()))
        return val_step(self, batch, batch_idx)

    monkeypatch.setattr(MidiDataModule, "train_dataloader", train_dataloader)
    monkeypatch.setattr(MozartLitModule, "training_step", training_step)
    monkeypatch.setattr(MozartLitModule, "validation_step", validation_step)
    run(make_train_cfg("data.transpose=2", "trainer.max_epochs=2", "trainer.limit_train_batches=2"))

    plain = make_datamodule()  # the same data and seed, never transposed
    original, starts = plain.vocab.decode(plain.train_set.ids), plain.train_set.starts.tolist()
    bounds = torch.tensor([0, *(len(piece.tokens) for piece in plain.pieces())]).cumsum(0).tolist()
    assert sorted(served) == [0, 1]
    drawn = []
    for epoch in (0, 1):
        tokens, served_starts = served[epoch]
        assert served_starts == starts  # the same windows: positions never move
        shifts = shifts_of(tokens, original, limit=2)
        per_piece = [set(shifts[lo:hi]) for lo, hi in zip(bounds, bounds[1:], strict=False)]
        assert all(len(shift) == 1 for shift in per_piece), "one shift per piece"
        drawn.append([shift for (shift,) in per_piece])
        batches = [(vocab, x) for e, vocab, x in trained if e == epoch]
        assert len(batches) == 2
        windows = {tuple(tokens[s : s + 8]) for s in starts}
        assert all(tuple(vocab.decode(row)) in windows for vocab, x in batches for row in x)
    assert drawn[0] != drawn[1] and any(drawn[0]), "a new transposition each epoch"
    # from the seed alone: a data module of that seed draws the same, one of another seed does not
    again, other = make_datamodule(transpose=2), make_datamodule(transpose=2, seed=1)
    for epoch in (0, 1):
        assert again.vocab.decode(again.train_set_for_epoch(epoch).ids) == served[epoch][0]
    assert any(other.vocab.decode(other.train_set_for_epoch(epoch).ids) != served[epoch][0] for epoch in (0, 1))
    # every evaluation (the sanity check's and each epoch's) saw the test windows, in order, as the corpus has them
    held_out = [original[s : s + 8] for s in plain.test_set.starts.tolist()]
    assert sum(batch_idx == 0 for _, batch_idx, _ in evaluated) == 3
    for vocab, batch_idx, x in evaluated:
        assert [vocab.decode(row) for row in x] == held_out[batch_idx * 16 : batch_idx * 16 + len(x)]


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
