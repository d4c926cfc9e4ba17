"""Shared fixtures: MIDI files written by the tests, the shared corpus, a tiny composed train config, and entry
scripts run from the command line."""

import contextlib
import json
import os
import random
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig

REPO = Path(__file__).resolve().parents[1]
CONF_DIR = REPO / "conf"
SHARED_DATA = REPO.parent / "shared" / "data"
CORPUS = SHARED_DATA / "mozart_sonatas.tar.gz"
# a pytest-xdist worker (`make test`): xdist sets this before the worker reads its config and this file
XDIST_WORKER = bool(os.environ.get("PYTEST_XDIST_WORKER"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not CORPUS.is_file():
        pytest.skip(f"the shared corpus is absent: {CORPUS}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def corpus_cache(shared_data, tmp_path_factory) -> Path:
    """The token cache and extraction folder (data/) of every test that reads the real corpus: music21 parses
    each sonata once per run, in whichever test reads it first, and the other tests read the cache.

    Under pytest-xdist (`make test`) the workers of one run share it, as concurrent training runs may: cache
    entries and extractions are written atomically. `--dist loadfile` keeps test_data.py's full-corpus counts on
    one worker; the other tests read at most two sonatas."""
    if XDIST_WORKER:
        shared = tmp_path_factory.getbasetemp().parent / "corpus_cache"
        shared.mkdir(exist_ok=True)
        return shared
    return tmp_path_factory.mktemp("corpus_cache")


def pytest_configure(config):
    """Under pytest-xdist every core already runs a test process: torch's OpenMP threads would only spin against
    each other's (each test that wants more sets its own), and the test's subprocesses inherit the setting."""
    if XDIST_WORKER:
        os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_collection_modifyitems(items):
    """Under pytest-xdist, files holding slow tests first: `make test` runs `--dist loadfile
    --no-loadscope-reorder`, which hands whole files to the workers in this order, so that the long ones start
    early and the many short ones even out the end instead of one long file running alone."""
    if XDIST_WORKER:
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)


MELODY = ("C5", "D5", "E5", "F5", "G5", "A5")


def write_midi(path: Path, seed: int, n_notes: int = 40, n_chords: int = 20, melody_pitches=MELODY) -> Path:
    """A two-part piece: a melody of notes drawn from `melody_pitches` and a bass line of chords, in 8th notes."""
    from music21 import chord, instrument, note, stream

    rng = random.Random(seed)
    melody, bass = stream.Part(), stream.Part()
    melody.insert(0, instrument.Piano())
    bass.insert(0, instrument.Piano())
    for i in range(n_notes):
        melody.insert(i * 0.5, note.Note(rng.choice(melody_pitches), quarterLength=0.5))
    for i in range(n_chords):
        root = rng.choice(["C3", "F3", "G3"])
        bass.insert(i * 1.0, chord.Chord([root, rng.choice(["E3", "A3", "B3"])], quarterLength=1.0))
    score = stream.Score([melody, bass])
    score.write("midi", fp=str(path))
    return path


@pytest.fixture(scope="session")
def midi_writer():
    """write_midi(path, seed, n_notes=40, n_chords=20, melody_pitches=MELODY) for tests that need their own files."""
    return write_midi


@pytest.fixture(scope="session")
def midi_dir(tmp_path_factory) -> Path:
    """Three small MIDI files, each 40 notes + 20 two-note chords over two parts."""
    folder = tmp_path_factory.mktemp("midi")
    for seed in range(3):
        write_midi(folder / f"piece_{seed}.mid", seed)
    return folder


@pytest.fixture(scope="session")
def token_cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("token_cache")


# a model and data small enough that an epoch takes a second on a CPU
TINY_SIZES = [
    "data.seq_len=8",
    "data.batch_size=4",
    "data.eval_batch_size=16",
    "data.num_parse_workers=1",
    "model.embedding_dim=8",
    "model.hidden_size=16",
    "model.linear_sizes=[16]",
]


@pytest.fixture(scope="session")
def tiny_sizes() -> list[str]:
    """TINY_SIZES, for tests that build their own command lines."""
    return list(TINY_SIZES)


def tiny_overrides(midi_dir, cache_dir, out_dir) -> list[str]:
    """The tiny sizes on the test MIDI files, outputs in out_dir."""
    return [
        f"data.archive={midi_dir}",
        f"data.cache_dir={cache_dir}",
        f"data.data_dir={out_dir}/data",
        *TINY_SIZES,
        "trainer=cpu",
        "trainer.max_epochs=1",
        f"paths.output_dir={out_dir}",
    ]


def compose_config(config_name: str, overrides: list[str]):
    """Compose like @hydra.main does, with the hydra node set so ${hydra:...} resolves."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name=config_name, overrides=overrides, return_hydra_config=True)
    HydraConfig().set_config(cfg)
    return cfg


@pytest.fixture
def tiny_train_cfg(tmp_path, midi_dir, token_cache_dir):
    cfg = compose_config("train", tiny_overrides(midi_dir, token_cache_dir, tmp_path))
    yield cfg
    GlobalHydra.instance().clear()


@pytest.fixture
def compose_cfg():
    """compose(config_name, overrides) like @hydra.main does; Hydra's global state is cleared afterwards."""
    yield compose_config
    GlobalHydra.instance().clear()


@contextlib.contextmanager
def torch_threads(n: int):
    """Tiny models run many small sequential ops: extra threads only add synchronisation (and stall badly
    when other processes share the cores)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="session")
def quiet_trainer():
    """quiet_trainer(**overrides): a pl.Trainer on one CPU that logs, checkpoints and prints nothing of its own."""
    import pytorch_lightning as pl

    quiet = {"accelerator": "cpu", "devices": 1, "logger": False, "enable_checkpointing": False}
    quiet |= {"enable_progress_bar": False, "enable_model_summary": False}
    return lambda **overrides: pl.Trainer(**quiet | overrides)


@pytest.fixture
def single_torch_thread():
    with torch_threads(1):
        yield


def train_tiny(out: Path, midi_dir, cache_dir, *overrides) -> dict:
    """train.run on the tiny config plus overrides, outputs in `out`; its final metrics."""
    from mozart_lstm.train import run

    with torch_threads(1):
        metrics = run(compose_config("train", [*tiny_overrides(midi_dir, cache_dir, out), *overrides]))
    GlobalHydra.instance().clear()
    return metrics


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory, midi_dir, token_cache_dir) -> Path:
    """checkpoints/last.ckpt of a tiny model trained for 3 short epochs by train.run, once per session."""
    out = tmp_path_factory.mktemp("tiny_train")
    train_tiny(out, midi_dir, token_cache_dir, "trainer.max_epochs=3")
    return out / "checkpoints" / "last.ckpt"


@pytest.fixture(scope="session")
def timed_ckpt(tmp_path_factory, midi_dir, token_cache_dir) -> tuple[Path, dict]:
    """(checkpoints/last.ckpt, final metrics) of a tiny model trained on timed tokens for 2 short epochs."""
    out = tmp_path_factory.mktemp("timed_train")
    metrics = train_tiny(out, midi_dir, token_cache_dir, "data.tokenization=timed", "trainer.max_epochs=2")
    return out / "checkpoints" / "last.ckpt", metrics


@pytest.fixture
def make_train_cfg(tmp_path, midi_dir, token_cache_dir):
    """make_train_cfg(*overrides, out="run"): the tiny train config plus overrides, outputs in tmp_path/out."""

    def make(*overrides, out="run"):
        return compose_config("train", tiny_overrides(midi_dir, token_cache_dir, tmp_path / out) + list(overrides))

    yield make
    GlobalHydra.instance().clear()


@pytest.fixture
def tiny_train_overrides(midi_dir, token_cache_dir):
    """tiny_train_overrides(out_dir): the tiny config as command-line overrides, for train.py in a subprocess."""
    return lambda out_dir: tiny_overrides(midi_dir, token_cache_dir, out_dir)


# Runs an entry script as its own __main__ once per argument list, all in one interpreter: each case is a fresh
# Hydra job in a fresh copy of the environment (a DDP launch sets MASTER_PORT, LOCAL_RANK, ... in it), and the
# interpreter start and imports are paid once instead of once per case. Per case, stderr holds a "=== case N"
# line, what the script wrote, then "=== exit CODE" (sys.exit's code, 0 when it returned).
CLI_DRIVER = """
import json, os, runpy, sys
from hydra.core.global_hydra import GlobalHydra

script, cases = sys.argv[1], json.loads(sys.argv[2])
environ = dict(os.environ)
for number, case in enumerate(cases):
    args, env = (case["args"], case["env"]) if isinstance(case, dict) else (case, {})
    os.environ.clear()
    os.environ.update(environ | env)
    print(f"=== case {number}", file=sys.stderr, flush=True)
    sys.argv = [script, *args]
    GlobalHydra.instance().clear()
    code = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as stop:
        code = stop.code
    print(f"=== exit {code}", file=sys.stderr, flush=True)
"""


@pytest.fixture
def command_line_cases(tmp_path):
    """command_line_cases(script, cases, cwd): run `python script *args` for each argument list of `cases` in one
    interpreter (a case may also be {"args": [...], "env": {variable: value}}, its own environment variables);
    returns, per case, (exit code, what it wrote to stderr)."""

    def run_cases(script: str, cases: list[list[str]], cwd: Path) -> list[tuple[int, str]]:
        driver = tmp_path / "command_line_cases.py"
        driver.write_text(CLI_DRIVER)
        command = [sys.executable, str(driver), str(REPO / script), json.dumps(cases)]
        env = os.environ | {"OMP_NUM_THREADS": "1"}
        timeout = 120 * len(cases)  # a test that uses this fixture needs a pytest timeout as long
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
        assert done.returncode == 0, done.stderr
        printed = done.stderr.split("=== case ")[1:]
        assert len(printed) == len(cases), done.stderr
        results = []
        for output in printed:
            *lines, last = output.splitlines()
            results.append((int(last.removeprefix("=== exit ")), "\n".join(lines[1:])))
        return results

    return run_cases


@pytest.fixture(scope="session")
def free_port():
    """free_port(): a TCP port on 127.0.0.1 that nothing listens on now, for a DDP launch's MASTER_PORT."""

    def find() -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]

    return find
