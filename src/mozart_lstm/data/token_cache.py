"""The token cache: one JSON entry per MIDI file, keyed by the file's content and the music21 version.

Tokens are stored with chords in music21's order; other chord orders are derived on load.

An entry is written atomically, so a run killed while tokenizing leaves whole entries or none,
and a damaged entry is detected on read and rebuilt.
"""

import hashlib
import json
import logging
from pathlib import Path

from labtools.errors import UserError
from labtools.fileio import atomic_write_text

log = logging.getLogger(__name__)

# Bump when the tokenizer's output changes for the same file and settings.
TOKENIZER_VERSION = 1
DEFAULT_CACHE_DIR = Path("outputs/cache")


def entry_key(file_sha256: str, music21_version: str) -> dict:
    return {"file_sha256": file_sha256, "music21": music21_version, "tokenizer": TOKENIZER_VERSION}


def entry_path(cache_dir, key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
    return Path(cache_dir) / "tokens" / f"{digest[:32]}.json"


def read_entry(cache_dir, key: dict) -> dict | None:
    """The cached piece for `key`, or None when absent or damaged (a damaged entry is reported)."""
    path = entry_path(cache_dir, key)
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        log.warning("Cache entry %s is unreadable (%s); rebuilding it.", path, err)
        return None
    if not _is_valid(entry, key):
        log.warning("Cache entry %s is damaged or stale; rebuilding it.", path)
        return None
    return entry


def write_entry(cache_dir, key: dict, piece: dict) -> None:
    path = entry_path(cache_dir, key)
    try:
        atomic_write_text(path, json.dumps({"key": key, **piece}))
    except OSError as err:
        raise UserError(
            f"Cannot write the token cache entry {path} ({err}): set data.cache_dir to a writable folder"
        ) from err


def _is_valid(entry, key: dict) -> bool:
    if not isinstance(entry, dict) or entry.get("key") != key:
        return False
    columns = [entry.get(name) for name in ("tokens", "offsets", "durations")]
    if not all(isinstance(column, list) for column in columns):
        return False
    tokens, offsets, durations = columns
    return (
        len(tokens) == len(offsets) == len(durations)
        and all(isinstance(token, str) and token for token in tokens)
        and all(isinstance(value, int | float) for value in offsets + durations)
    )
