"""Lab Problems 1–2: tokens, cache, windows, splits, loaders."""

import logging
import tarfile

import pytest
import torch

from labtools.errors import UserError
from mozart_lstm.data import MidiDataModule, Vocab, load_pieces, make_dataloaders, parse_notes, split_windows
from mozart_lstm.data import tokenize as tokenize_module
from mozart_lstm.tokenizers import build_tokenizer
from mozart_lstm.tokenizers.pitch import chord_token
from tests.defaults import data_settings


def test_midi_round_trips_to_expected_tokens(tmp_path):
    from music21 import chord, note, stream

    melody, bass = stream.Part(), stream.Part()
    melody.append([note.Note("E5"), note.Note("E-5"), note.Note("F#4")])
    bass.insert(0, chord.Chord(["B3", "B2"]))
    bass.insert(2, chord.Chord(["C4", "E4", "G4"]))
    stream.Score([melody, bass]).write("midi", fp=str(tmp_path / "piece.mid"))

    piece = load_pieces(tmp_path, cache_dir=tmp_path / "cache", num_workers=1)[0]
    # Offset order across both parts; a chord keeps music21's pitch order, the order written in the file.
    assert piece.tokens == ["E5", "B3.B2", "E-5", "F#4", "C4.E4.G4"]
    assert piece.offsets == [0.0, 0.0, 1.0, 2.0, 2.0]
    assert piece.durations == [1.0, 1.0, 1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("order", "expected"),
    [("music21", "B3.B2.B3"), ("sorted", "B2.B3.B3"), ("sorted_unique", "B2.B3")],
)
def test_chord_orders(order, expected):
    assert chord_token(["B3", "B2", "B3"], order) == expected


@pytest.mark.slow
@pytest.mark.timeout(1200)  # the first order parses 20 files cold: quick on an idle machine, minutes on a busy one
@pytest.mark.parametrize(("order", "distinct"), [("music21", 1147), ("sorted", 750), ("sorted_unique", 668)])
def test_real_corpus_counts(shared_data, corpus_cache, order, distinct):
    tokenizer = build_tokenizer("pitch", order)
    pieces = load_pieces(shared_data / "mozart_sonatas.tar.gz", tokenizer, corpus_cache, data_dir=corpus_cache / "data")
    tokens = [t for p in pieces for t in p.tokens]
    assert len(pieces) == 20
    assert (len(tokens), len(set(tokens))) == (114215, distinct)


def test_bad_files_are_skipped_and_good_tokens_unchanged(tmp_path, midi_dir, caplog):
    clean = load_pieces(midi_dir, cache_dir=tmp_path / "c1", num_workers=1)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for piece in midi_dir.iterdir():
        (mixed / piece.name).write_bytes(piece.read_bytes())
    (mixed / "empty.mid").write_bytes(b"")
    (mixed / "corrupt.mid").write_bytes((midi_dir / "piece_0.mid").read_bytes()[:40])
    with caplog.at_level(logging.WARNING):
        dirty = load_pieces(mixed, cache_dir=tmp_path / "c2", num_workers=2)
    assert [p.tokens for p in dirty] == [p.tokens for p in clean]
    assert "empty.mid" in caplog.text and "corrupt.mid" in caplog.text


def test_tar_member_escaping_the_folder_is_refused(tmp_path, midi_dir):
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        tar.add(midi_dir / "piece_0.mid", arcname="../escaped.mid")
    with pytest.raises(UserError, match="unsafe member"):
        load_pieces(evil, sha256=None, cache_dir=tmp_path / "c", data_dir=tmp_path / "data")
    assert not (tmp_path / "escaped.mid").exists()


def test_windows_and_labels_on_a_toy_sequence():
    ids = torch.arange(10)
    (train,) = split_windows(ids, seq_len=3, split=[0.5, 0.5], seed=0)[:1]
    x, y = train.tensors()
    assert torch.equal(x[:, 1:], x[:, :-1] + 1)  # consecutive tokens
    assert torch.equal(y, x[:, -1] + 1)  # the label is the token after the window
    assert x.shape[1] == 3


def test_window_count_and_disjoint_deterministic_split():
    ids = torch.randint(0, 5, (200,), generator=torch.Generator().manual_seed(1))
    first = [d.starts for d in split_windows(ids, 10, [0.8, 0.2], seed=3)]
    again = [d.starts for d in split_windows(ids, 10, [0.8, 0.2], seed=3)]
    other = [d.starts for d in split_windows(ids, 10, [0.8, 0.2], seed=4)]
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[1], other[1])
    assert len(first[0]) + len(first[1]) == 190
    assert not set(first[0].tolist()) & set(first[1].tolist())


def test_three_way_split_is_disjoint_and_deterministic():
    ids = torch.arange(1000) % 7
    parts = [set(d.starts.tolist()) for d in split_windows(ids, 10, [0.7, 0.15, 0.15], seed=0)]
    again = [set(d.starts.tolist()) for d in split_windows(ids, 10, [0.7, 0.15, 0.15], seed=0)]
    assert parts == again
    assert sum(map(len, parts)) == 990 == len(set.union(*parts))


def test_split_by_piece_keeps_windows_inside_held_out_pieces():
    lengths = [50, 60, 70, 80, 90]
    piece_of = torch.repeat_interleave(torch.arange(5), torch.tensor(lengths))
    train, test = split_windows(torch.zeros(350, dtype=torch.long), 10, [0.8, 0.2], 0, lengths, "piece")
    for dataset in (train, test):
        # every token of a window and its label lie in the window's own piece
        assert torch.equal(piece_of[dataset.starts], piece_of[dataset.starts + 10])
    train_pieces, test_pieces = set(piece_of[train.starts].tolist()), set(piece_of[test.starts].tolist())
    assert test_pieces and not train_pieces & test_pieces


def test_cache_hit_parses_nothing(tmp_path, midi_dir, monkeypatch):
    calls = []
    real = tokenize_module.tokenize_file
    monkeypatch.setattr(tokenize_module, "tokenize_file", lambda *a: calls.append(a) or real(*a))
    cold = parse_notes(midi_dir, cache_dir=tmp_path, num_workers=1)
    assert len(calls) == 3
    warm = parse_notes(midi_dir, cache_dir=tmp_path, num_workers=1)
    assert len(calls) == 3 and warm == cold
    resorted = parse_notes(midi_dir, cache_dir=tmp_path, num_workers=1, tokenizer=build_tokenizer("pitch", "sorted"))
    assert len(calls) == 3  # chord orders are derived from the cached music21 order
    chords = [token.split(".") for token in resorted if "." in token]
    assert resorted != cold and chords and all(pitches == sorted(pitches) for pitches in chords)
    timed = parse_notes(midi_dir, cache_dir=tmp_path, num_workers=1, tokenizer=build_tokenizer("timed"))
    assert len(calls) == 3  # timed tokens too: derived from the cached tokens and offsets
    assert [token.partition(":")[0] for token in timed] == cold and timed != cold


def test_make_dataloaders_batches_and_lengths():
    notes = [f"N{i % 13}" for i in range(300)]
    train, test, vocab = make_dataloaders(notes, seq_len=8, split=(0.8, 0.2), batch_size=16, eval_batch_size=1, seed=0)
    x, y = next(iter(train))
    assert x.shape == (16, 8) and y.shape == (16,) and x.dtype == torch.long
    # 292 windows: random_split floors 233.6/58.4 and gives the leftover window to train
    assert (len(train.dataset), len(test.dataset)) == (234, 58)
    assert len(train) == 234 // 16  # drop_last
    assert len(test) == 58  # eval batch size 1 is the lab's loader
    assert isinstance(vocab, Vocab) and len(vocab) == 13
    assert vocab.decode(vocab.encode(["N3", "N12"])) == ["N3", "N12"]


def test_lab_v2_loader_lengths_follow_random_split_arithmetic():
    notes = [str(i % 50) for i in range(114215)]
    train, val, test, _ = make_dataloaders(
        notes, seq_len=10, split=[0.7, 0.15, 0.15], batch_size=128, eval_batch_size=32, seed=0
    )
    assert (len(train.dataset), len(val.dataset), len(test.dataset)) == (79944, 17131, 17130)
    assert (len(train), len(val), len(test)) == (624, 536, 536)


def test_datamodule_logs_problem_2_figures(tmp_path, midi_dir, token_cache_dir, caplog):
    folders = dict(archive=str(midi_dir), cache_dir=str(token_cache_dir))
    dm = MidiDataModule(**data_settings(**folders, seq_len=8, batch_size=4, split=[0.8, 0.2]))
    with caplog.at_level(logging.INFO):
        dm.prepare_data()
        dm.setup()
    n_windows = 3 * 60 - 8
    assert len(dm.train_set) + len(dm.test_set) == n_windows
    assert f"Windows of 8 tokens: {n_windows}" in caplog.text
    assert f"train {len(dm.train_dataloader())}, test {len(dm.val_dataloader())}" in caplog.text
    assert dm.eval_name == "test" and dm.val_set is None
    assert dm.state_dict()["vocab"] == dm.vocab.tokens
    assert 0.0 in dm.rhythm["offset_gaps"]["values"]  # melody and bass sound together


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("seq_len", 0, "data.seq_len"),
        ("seq_len", True, "data.seq_len"),  # a bool is an int to Python, not a length
        ("num_workers", "two", "data.num_workers"),
        ("split", [0.5, 0.4], "data.split"),
        ("eval_batch_size", 0, "data.eval_batch_size"),
        ("chord_order", "random", "data.chord_order"),
        ("split_by", "bar", "data.split_by"),
    ],
)
def test_bad_settings_are_refused_before_any_work(key, value, message):
    with pytest.raises(UserError, match=message):
        MidiDataModule(**data_settings(archive="/nonexistent", **{key: value}))


NOTEBOOK_KEYS = ("seq_len", "split", "batch_size", "eval_batch_size", "seed")  # make_dataloaders' settings


@pytest.mark.parametrize(("bad", "message"), [({"split": (0.5, 0.6)}, "summing to 1"), ({"seq_len": 0}, "seq_len")])
def test_the_notebook_helper_refuses_bad_settings_in_one_line(bad, message):
    with pytest.raises(UserError, match=message):
        make_dataloaders(["A4", "B4", "C5"] * 20, **{key: data_settings()[key] for key in NOTEBOOK_KEYS} | bad)
