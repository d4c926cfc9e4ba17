"""Data: MIDI archive → tokens (Problem 1) → windows and loaders (Problem 2).

Names are imported on first use, so `parse_notes` with a warm cache loads neither torch nor music21.
"""

import importlib

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


def __getattr__(name):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
