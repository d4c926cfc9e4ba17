"""MIDI → tokens (lab Problem 1): music21 parses every Note and Chord of every part, in offset order, and the
data's tokenizer (mozart_lstm.tokenizers) turns each parsed piece into its tokens.

A Note is parsed as its pitch (`E-5`); a Chord as its pitches joined by `.` (`B3.B2`), in music21's order. Files
are parsed in parallel processes and cached, so a warm run never imports music21 at all.
"""

import importlib.metadata
import logging
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path

from labtools.errors import UserError
from mozart_lstm.data import token_cache
from mozart_lstm.data.archive import LAB_SHA256, LAB_URL, midi_files, sha256_of
from mozart_lstm.tokenizers import MusicTokenizer, Piece, build_tokenizer

log = logging.getLogger(__name__)


def tokenize_file(path) -> Piece:
    """Parse one MIDI file into music21's pitch tokens. Raises whatever music21 raises for a file it cannot read."""
    from music21 import chord, converter, note

    # forceSource: our cache is the only cache; music21's own pickle cache would hide parse cost.
    score = converter.parse(str(path), format="midi", forceSource=True)
    tokens, offsets, durations = [], [], []
    for element in score.flatten().notes:
        if isinstance(element, note.Note):
            tokens.append(str(element.pitch))
        elif isinstance(element, chord.Chord):
            tokens.append(".".join(str(p) for p in element.pitches))
        else:  # unpitched percussion has no pitch to predict
            continue
        offsets.append(float(element.offset))
        durations.append(float(element.quarterLength))
    return Piece(Path(path).name, tokens, offsets, durations)


def _tokenize_or_error(path):
    try:
        return tokenize_file(path), None
    except Exception as err:  # music21 raises many types for unreadable files; each one means "skip it"
        return None, f"{type(err).__name__}: {err}"


def load_pieces(
    path=None,
    tokenizer: MusicTokenizer | None = None,
    cache_dir=token_cache.DEFAULT_CACHE_DIR,
    num_workers: int | None = None,
    max_files: int | None = None,
    sha256: str | None = LAB_SHA256,
    url: str = LAB_URL,
    data_dir="outputs/data",
) -> list[Piece]:
    """Tokenize every MIDI file under `path` (a folder, a .tar.gz, or None for the lab's download) with
    `tokenizer` (None: the lab's pitch tokens).

    Unreadable files and files without notes are skipped with a warning; zero usable files is an error.
    """
    tokenizer = tokenizer or build_tokenizer("pitch")
    files = midi_files(path, sha256, url, data_dir, max_files)
    music21_version = importlib.metadata.version("music21")
    keys = [token_cache.entry_key(sha256_of(f), music21_version) for f in files]
    pieces: dict[Path, Piece | None] = {}
    for file, key in zip(files, keys, strict=True):
        entry = token_cache.read_entry(cache_dir, key)
        if entry is not None:
            pieces[file] = Piece(file.name, entry["tokens"], entry["offsets"], entry["durations"])

    missing = [(f, k) for f, k in zip(files, keys, strict=True) if f not in pieces]
    if missing:
        log.info("Tokenizing %d of %d MIDI files with music21 %s", len(missing), len(files), music21_version)
    for (file, key), (piece, error) in _parse_all(missing, num_workers):
        if error is None:
            token_cache.write_entry(cache_dir, key, {k: v for k, v in asdict(piece).items() if k != "name"})
        pieces[file] = piece
        if error:
            log.warning("Skipping %s: music21 cannot read it (%s)", file, error)

    usable = []
    for file in files:
        piece = pieces.get(file)
        if piece is not None and not piece.tokens:
            log.warning("Skipping %s: it holds no pitched notes or chords", file)
        elif piece is not None:
            usable.append(Piece(piece.name, tokenizer.encode(piece), piece.offsets, piece.durations))
    if not usable:
        where = path if path is not None else files[0].parent
        raise UserError(
            f"{where}: none of its {len(files)} MIDI files holds readable notes (see the warnings above). "
            "Point data.archive at a folder or .tar.gz of MIDI files that music21 can read."
        )
    return usable


def _parse_all(jobs, num_workers):
    """Yield ((file, key), (piece, error)) as each parse finishes, so each cache entry lands at once."""
    workers = min(num_workers or os.cpu_count() or 1, len(jobs))
    if workers <= 1:
        for job in jobs:
            yield job, _tokenize_or_error(job[0])
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_exit_with_parent, initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(_tokenize_or_error, file): (file, key) for file, key in jobs}
        for future in as_completed(futures):
            yield futures[future], future.result()


def _exit_with_parent(parent_pid: int) -> None:
    """A pool worker waits on its task queue forever once its parent is killed (kill -9, OOM, SIGTERM):
    watch the parent and end with it, instead of lingering with music21 loaded."""

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def parse_notes(path=None, **options) -> list[str]:
    """Lab Problem 1: every token of every piece, pieces in file-name order."""
    return [token for piece in load_pieces(path, **options) for token in piece.tokens]
