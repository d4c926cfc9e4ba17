"""The token cache under faults: damaged entries, a run killed while tokenizing, two runs sharing one cache."""

import importlib.metadata
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from labtools.errors import UserError
from mozart_lstm.data import load_pieces, token_cache, tokenize_file
from mozart_lstm.data import tokenize as tokenize_module
from mozart_lstm.data.archive import sha256_of


@pytest.fixture
def parsed(monkeypatch) -> list[str]:
    """The names of the files music21 parses, in order."""
    names, real = [], tokenize_module.tokenize_file

    def counted(path, *args):
        names.append(Path(path).name)
        return real(path, *args)

    monkeypatch.setattr(tokenize_module, "tokenize_file", counted)
    return names


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, midi_writer) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    for seed in range(4):
        midi_writer(folder / f"piece_{seed}.mid", seed, n_notes=12, n_chords=6)
    return folder


@pytest.fixture(scope="module")
def expected_tokens(corpus) -> list[list[str]]:
    """Each piece's tokens, parsed directly, without any cache."""
    return [tokenize_file(f).tokens for f in sorted(corpus.glob("*.mid"))]


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory, corpus) -> Path:
    cache = tmp_path_factory.mktemp("warm_cache")
    load_pieces(corpus, cache_dir=cache, num_workers=1)
    return cache


def entry_file(cache: Path, midi: Path) -> Path:
    key = token_cache.entry_key(sha256_of(midi), importlib.metadata.version("music21"))
    return token_cache.entry_path(cache, key)


def assert_cache_valid(cache: Path, n_entries: int) -> None:
    """Every file named like an entry is a whole, valid entry stored under its own key."""
    entries = sorted((cache / "tokens").glob("*.json"))
    assert len(entries) == n_entries
    for path in entries:
        entry = json.loads(path.read_text())
        assert token_cache.entry_path(cache, entry["key"]) == path
        assert token_cache.read_entry(cache, entry["key"]) == entry


def other_piece(entry: dict) -> dict:
    """Another file's entry: valid in form, wrong in content."""
    return {**entry, "key": {**entry["key"], "file_sha256": "0" * 64}, "tokens": ["C4"] * len(entry["tokens"])}


DAMAGE = {
    "truncated": lambda text: text[: len(text) // 2],
    "empty": lambda text: "",
    "not_json": lambda text: "{tokens: [C4, E4]",
    "not_utf8": lambda text: b"\xff\xfe\x00garbage",
    "a_list": lambda text: json.dumps(json.loads(text)["tokens"]),
    "missing_column": lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "durations"}),
    "unequal_lengths": lambda text: json.dumps({**json.loads(text), "offsets": json.loads(text)["offsets"][:-1]}),
    "number_token": lambda text: json.dumps({**json.loads(text), "tokens": [60] * len(json.loads(text)["tokens"])}),
    "empty_token": lambda text: json.dumps({**json.loads(text), "tokens": [""] * len(json.loads(text)["tokens"])}),
    "another_files_entry": lambda text: json.dumps(other_piece(json.loads(text))),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_entry_is_rebuilt_with_a_warning(
    tmp_path, corpus, warm_cache, expected_tokens, parsed, caplog, damage
):
    cache = shutil.copytree(warm_cache, tmp_path / "cache")
    victim = entry_file(cache, corpus / "piece_2.mid")
    damaged = DAMAGE[damage](victim.read_text())
    victim.write_bytes(damaged if isinstance(damaged, bytes) else damaged.encode())
    with caplog.at_level(logging.WARNING, logger="mozart_lstm"):
        again = load_pieces(corpus, cache_dir=cache, num_workers=1)
    assert [p.tokens for p in again] == expected_tokens
    assert parsed == ["piece_2.mid"]  # only the damaged entry is re-parsed
    assert str(victim) in caplog.text and "rebuilding it" in caplog.text
    assert_cache_valid(cache, 4)


# The child tokenizes one file at a time; the second entry's write stops halfway and hangs, so that the test can
# signal it at exactly that moment, as a kill or Ctrl-C would land mid-write.
KILLED_CHILD = """
import signal, sys, time
from pathlib import Path
from mozart_lstm.data import load_pieces, token_cache
from labtools.fileio import atomic_path

folder, cache, hanging = map(Path, sys.argv[1:])
signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C, even when started with SIGINT ignored
real_write, whole_writes = token_cache.atomic_write_text, []

def write_half_then_hang(path, text):
    if not whole_writes:
        whole_writes.append(path)
        return real_write(path, text)
    with atomic_path(path) as tmp:
        tmp.write_text(text[: len(text) // 2])
        hanging.touch()
        time.sleep(60)

token_cache.atomic_write_text = write_half_then_hang
load_pieces(folder, cache_dir=cache, num_workers=1)
"""


def wait_for(path: Path, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if process.poll() is not None:
            pytest.fail(f"the child ended early (exit {process.returncode}): {process.stderr.read()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"{path} did not appear within {seconds} s")
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_a_run_killed_while_tokenizing_leaves_whole_entries_and_the_next_run_parses_only_the_rest(
    tmp_path, corpus, expected_tokens, parsed, caplog, sig
):
    cache, hanging = tmp_path / "cache", tmp_path / "hanging"
    script = tmp_path / "child.py"
    script.write_text(KILLED_CHILD)
    child = subprocess.Popen(
        [sys.executable, str(script), str(corpus), str(cache), str(hanging)],
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(hanging, child)
    child.send_signal(sig)
    assert child.wait(timeout=30) != 0

    assert_cache_valid(cache, 1)  # the whole entry; no half-written one under an entry's name
    temps = list((cache / "tokens").glob(".*.tmp"))
    # A kill leaves atomic_path's temp file behind; Ctrl-C lets atomic_path remove it.
    assert len(temps) == (1 if sig == signal.SIGKILL else 0)

    with caplog.at_level(logging.WARNING, logger="mozart_lstm"):
        pieces = load_pieces(corpus, cache_dir=cache, num_workers=1)
    assert parsed == ["piece_1.mid", "piece_2.mid", "piece_3.mid"]  # piece_0 came from the cache
    assert [p.tokens for p in pieces] == expected_tokens
    assert not [r for r in caplog.records if r.name.startswith("mozart_lstm")]  # the temp file is no entry
    assert_cache_valid(cache, 4)


# The parent of a pool of two parse workers; each worker notes its pid, then parses slowly.
POOL_CHILD = """
import os, sys, time
from pathlib import Path
from mozart_lstm.data import load_pieces
from mozart_lstm.data import tokenize as tokenize_module

folder, cache, pids = map(Path, sys.argv[1:])
real_tokenize = tokenize_module.tokenize_file

def slow_tokenize(path, *args):
    (pids / str(os.getpid())).touch()
    time.sleep(30)
    return real_tokenize(path, *args)

tokenize_module.tokenize_file = slow_tokenize  # the forked workers inherit it
load_pieces(folder, cache_dir=cache, num_workers=2)
"""


def is_running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads process states from /proc")
def test_parse_workers_end_when_their_parent_is_killed(tmp_path, corpus):
    pids, script = tmp_path / "pids", tmp_path / "child.py"
    pids.mkdir()
    script.write_text(POOL_CHILD)
    child = subprocess.Popen(
        [sys.executable, str(script), str(corpus), str(tmp_path / "cache"), str(pids)],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(list(pids.iterdir())) < 2 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = [int(p.name) for p in pids.iterdir()]
    assert len(workers) == 2, child.stderr.read() if child.poll() is not None else "workers did not start"
    child.kill()
    child.wait()
    try:
        deadline = time.monotonic() + 10
        while any(map(is_running, workers)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(map(is_running, workers)), "parse workers outlived their killed parent"
    finally:
        for pid in filter(is_running, workers):
            os.kill(pid, signal.SIGKILL)


# Two of these start together: each extracts the same .tar.gz into one data_dir and tokenizes it into one cache.
# Extraction and parsing are slowed down so that the two runs overlap instead of one finishing first.
RACING_CHILD = """
import json, sys, tarfile, time
from pathlib import Path
import music21  # imported before the start signal, so the two runs race from the same moment
from mozart_lstm.data import load_pieces
from mozart_lstm.data import tokenize as tokenize_module

corpus, data_dir, cache, ready, start, out = sys.argv[1:]
report = {"extracted": False, "parsed": []}
real_extractall, real_tokenize = tarfile.TarFile.extractall, tokenize_module.tokenize_file

def slow_extractall(self, *args, **kwargs):
    real_extractall(self, *args, **kwargs)
    report["extracted"] = True
    time.sleep(1.0)

def slow_tokenize(path, *args):
    report["parsed"].append(Path(path).name)
    time.sleep(0.3)
    return real_tokenize(path, *args)

tarfile.TarFile.extractall, tokenize_module.tokenize_file = slow_extractall, slow_tokenize
Path(ready).touch()
while not Path(start).exists():
    time.sleep(0.005)
pieces = load_pieces(corpus, sha256=None, data_dir=data_dir, cache_dir=cache, num_workers=1)
report["tokens"] = [piece.tokens for piece in pieces]
Path(out).write_text(json.dumps(report))
"""


@pytest.mark.slow
def test_two_runs_at_once_share_one_data_dir_and_one_cache(tmp_path, corpus, expected_tokens):
    archive = tmp_path / "corpus.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(corpus, arcname="corpus")
    data_dir, cache, start = tmp_path / "data", tmp_path / "cache", tmp_path / "start"
    script = tmp_path / "child.py"
    script.write_text(RACING_CHILD)
    reports = [tmp_path / f"report_{i}.json" for i in range(2)]
    ready = [tmp_path / f"ready_{i}" for i in range(2)]
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    children = [
        subprocess.Popen(
            [sys.executable, *map(str, (script, archive, data_dir, cache, ready_file, start, report))],
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for report, ready_file in zip(reports, ready, strict=True)
    ]
    for child, ready_file in zip(children, ready, strict=True):
        wait_for(ready_file, child)
    start.touch()
    for child in children:
        assert child.wait(timeout=60) == 0, child.stderr.read()

    first, second = (json.loads(report.read_text()) for report in reports)
    assert first["extracted"] and second["extracted"]  # they really raced on the extraction
    assert first["parsed"] and second["parsed"]  # and on the tokenizing
    assert first["tokens"] == second["tokens"] == expected_tokens
    # One extracted folder, no staging folder left over; a cache of whole entries and no temp files.
    assert [p.name for p in data_dir.iterdir()] == [f"corpus-{sha256_of(archive)[:12]}"]
    assert_cache_valid(cache, 4)
    assert list((cache / "tokens").glob(".*.tmp")) == []


def test_unwritable_cache_dir_is_one_clear_error(tmp_path, midi_dir):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(UserError, match="data.cache_dir"):
        load_pieces(midi_dir, cache_dir=blocker, num_workers=1)
