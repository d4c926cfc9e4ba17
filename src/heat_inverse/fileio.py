"""Atomic writes of the task's results: a reader, or a run killed halfway, never sees a half-written file."""

import json
from pathlib import Path

# Standard library only: importing it loads neither torch nor music21.
from labtools.fileio import atomic_path, atomic_write_text


def write_json(path, data) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=2, allow_nan=True) + "\n")


def save_figure(fig, path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lstrip("."), dpi=120, bbox_inches="tight")
    return Path(path)
