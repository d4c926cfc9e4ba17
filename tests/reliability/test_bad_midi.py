"""Bad MIDI input: unreadable files are skipped with a warning naming them; a folder with nothing usable is an error;
unpitched percussion is left out and every pitched part is kept."""

import logging
from pathlib import Path

import pytest

from labtools.errors import UserError
from mozart_lstm.data import load_pieces, tokenize_file


def write_score(path: Path, parts: list) -> Path:
    """parts: (music21 instrument, [(offset, element), ...]) pairs, written as one MIDI file."""
    from music21 import stream

    score = stream.Score()
    for instrument, elements in parts:
        part = stream.Part()
        part.insert(0, instrument)
        for offset, element in elements:
            part.insert(offset, element)
        score.insert(0, part)
    score.write("midi", fp=str(path))
    return path


def drum_hit(name: str):
    from music21 import instrument, note

    hit = note.Unpitched()
    hit.storedInstrument = getattr(instrument, name)()
    return hit


def write_drums_only(path: Path) -> Path:
    from music21 import instrument

    hits = [(0, drum_hit("BassDrum")), (0, drum_hit("SnareDrum")), (1, drum_hit("SnareDrum"))]
    return write_score(path, [(instrument.Percussion(), hits)])


def write_silent(path: Path) -> Path:
    from music21 import instrument, note

    return write_score(path, [(instrument.Piano(), [(0, note.Rest(quarterLength=4))])])


def note_on_channels(path: Path) -> set[int]:
    from music21 import midi

    mf = midi.MidiFile()
    mf.open(str(path))
    mf.read()
    mf.close()
    return {e.channel for t in mf.tracks for e in t.events if e.type == midi.ChannelVoiceMessages.NOTE_ON}


UNREADABLE = {
    "zero_bytes.mid": lambda path, good: path.write_bytes(b""),
    "truncated.mid": lambda path, good: path.write_bytes(good.read_bytes()[:60]),
    "text.mid": lambda path, good: path.write_text("these are liner notes, not MIDI\n"),
}
NO_NOTES = {
    "silent.mid": lambda path, good: write_silent(path),
    "drums_only.mid": lambda path, good: write_drums_only(path),
}


@pytest.fixture
def good_midi(tmp_path, midi_writer) -> Path:
    return midi_writer(tmp_path / "good.mid", seed=0, n_notes=12, n_chords=6)


def test_unusable_files_are_skipped_with_a_warning_naming_each(tmp_path, good_midi, caplog):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a_good.mid").write_bytes(good_midi.read_bytes())
    for name, make in {**UNREADABLE, **NO_NOTES}.items():
        make(folder / name, good_midi)
    with caplog.at_level(logging.WARNING, logger="mozart_lstm"):
        pieces = load_pieces(folder, cache_dir=tmp_path / "cache", num_workers=1)

    assert [p.name for p in pieces] == ["a_good.mid"]
    assert pieces[0].tokens == tokenize_file(good_midi).tokens
    skips = [r for r in caplog.records if r.levelno == logging.WARNING and r.msg.startswith("Skipping")]
    warnings = {Path(r.args[0]).name: r.getMessage() for r in skips}
    assert set(warnings) == set(UNREADABLE) | set(NO_NOTES)
    assert all("cannot read it" in warnings[name] for name in UNREADABLE)
    assert all("no pitched notes" in warnings[name] for name in NO_NOTES)


def test_unusable_files_are_skipped_again_on_a_warm_cache(tmp_path, good_midi, caplog):
    """Files without notes are cached as empty; the warm run must still skip them, not hand on an empty piece."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a_good.mid").write_bytes(good_midi.read_bytes())
    write_silent(folder / "silent.mid")
    (folder / "text.mid").write_text("not MIDI")
    cold = load_pieces(folder, cache_dir=tmp_path / "cache", num_workers=1)
    with caplog.at_level(logging.WARNING, logger="mozart_lstm"):
        warm = load_pieces(folder, cache_dir=tmp_path / "cache", num_workers=1)
    assert [(p.name, p.tokens) for p in warm] == [(p.name, p.tokens) for p in cold] and len(warm) == 1
    assert "silent.mid" in caplog.text and "text.mid" in caplog.text


@pytest.mark.parametrize("name", [*UNREADABLE, *NO_NOTES])
def test_a_folder_with_no_usable_file_is_an_error_naming_it(tmp_path, good_midi, name):
    folder = tmp_path / "only_bad"
    folder.mkdir()
    {**UNREADABLE, **NO_NOTES}[name](folder / name, good_midi)
    with pytest.raises(UserError, match="data.archive") as caught:
        load_pieces(folder, cache_dir=tmp_path / "cache", num_workers=1)
    assert str(folder) in str(caught.value)


def test_a_folder_without_midi_files_is_an_error_naming_it(tmp_path):
    (tmp_path / "notes.txt").write_text("no music here")
    with pytest.raises(UserError, match="no .mid or .midi files") as caught:
        load_pieces(tmp_path, cache_dir=tmp_path / "cache", num_workers=1)
    assert str(tmp_path) in str(caught.value)


def test_percussion_is_left_out_and_the_pitched_part_kept(tmp_path):
    from music21 import instrument, note

    melody = [(i, note.Note(p)) for i, p in enumerate(["C4", "E4", "G4"])]
    drums = [(0, drum_hit("BassDrum")), (0, drum_hit("SnareDrum")), (0.5, drum_hit("SnareDrum"))]
    path = write_score(tmp_path / "band.mid", [(instrument.Piano(), melody), (instrument.Percussion(), drums)])
    assert 10 in note_on_channels(path)  # the drums really sit on General MIDI's percussion channel

    (piece,) = load_pieces(tmp_path, cache_dir=tmp_path / "cache", num_workers=1)
    assert piece.tokens == ["C4", "E4", "G4"]
    assert piece.offsets == [0.0, 1.0, 2.0]


def test_every_pitched_instrument_is_tokenized_in_offset_order(tmp_path):
    from music21 import chord, instrument, note

    parts = [
        (instrument.Violin(), [(0, note.Note("A5")), (1, note.Note("B5"))]),
        (instrument.Flute(), [(0.5, chord.Chord(["C6", "E6"]))]),
        (instrument.Piano(), [(0, note.Note("C3"))]),
    ]
    write_score(tmp_path / "ensemble.mid", parts)
    (piece,) = load_pieces(tmp_path, cache_dir=tmp_path / "cache", num_workers=1)
    assert piece.tokens == ["A5", "C3", "C6.E6", "B5"]
    assert piece.offsets == [0.0, 0.0, 0.5, 1.0]
