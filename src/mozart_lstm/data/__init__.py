"""Data: MIDI archive → tokens (Problem 1) → windows and loaders (Problem 2).

Names are imported on first use, so `parse_notes` with a warm cache loads neither torch nor music21.
"""

from labtools.lazy import lazy_exports

_HOMES = {
    "MidiDataModule": "datamodule",
    "Piece": "tokenize",
    "load_pieces": "tokenize",
    "parse_notes": "tokenize",
    "tokenize_file": "tokenize",
    "Vocab": "windows",
    "WindowDataset": "windows",
    "make_dataloaders": "windows",
    "split_windows": "windows",
}
__all__ = sorted(_HOMES)

__getattr__ = lazy_exports(__name__, _HOMES)
