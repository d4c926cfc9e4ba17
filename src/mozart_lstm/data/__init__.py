"""Data: MIDI archive → tokens (Problem 1) → windows and loaders (Problem 2).

Names are imported on first use, so `parse_notes` with a warm cache loads neither torch nor music21.
"""

from labtools.lazy import lazy_exports

__all__, __getattr__ = lazy_exports(
    __name__,
    {
        "datamodule": ("MidiDataModule",),
        "tokenize": ("Piece", "load_pieces", "parse_notes", "tokenize_file"),
        "windows": ("Vocab", "WindowDataset", "make_dataloaders", "split_windows"),
    },
)
