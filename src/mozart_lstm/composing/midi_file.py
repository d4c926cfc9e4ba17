"""Problem 5: notes in time → music21 Notes and Chords on a piano → a MIDI file.

An event of one pitch becomes a Note, an event of several a Chord; offsets and durations are in quarter lengths.
The tokens were decoded into these events by the checkpoint's tokenizer (`MusicTokenizer.decode`).
"""

from collections.abc import Sequence
from pathlib import Path

from labtools.fileio import atomic_path
from mozart_lstm.notes import NoteEvent


def build_stream(events: Sequence[NoteEvent], bpm: float | None = None):
    """A music21 Stream of the events on a piano, each at its offset with its duration; with `bpm`, a tempo mark
    (without one, MIDI players take 120 quarters a minute)."""
    from music21 import chord, instrument, note, stream, tempo

    piece = stream.Stream()
    piece.insert(0, instrument.Piano())
    if bpm is not None:
        piece.insert(0, tempo.MetronomeMark(number=bpm))
    for event in events:
        notes = [note.Note(midi=number) for number in event.pitches]
        element = chord.Chord(notes) if len(notes) > 1 else notes[0]
        element.quarterLength = float(event.duration)
        piece.insert(float(event.offset), element)
    return piece


def write_midi(events: Sequence[NoteEvent], path, bpm: float | None = None) -> Path:
    """Write the events as a piano MIDI file at `path` and return the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        build_stream(events, bpm).write("midi", fp=tmp)
    return path
