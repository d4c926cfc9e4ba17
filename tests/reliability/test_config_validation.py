"""Data settings a user can get wrong: each is one UserError naming the key, raised before any heavy work."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from labtools.errors import UserError
from mozart_lstm.data import MidiDataModule
from tests.defaults import data_settings

REPO = Path(__file__).resolve().parents[2]


BAD_SETTINGS = [
    ("seq_len", 0),
    ("seq_len", -5),
    ("seq_len", 2.5),
    ("split", [0.5, 0.4]),
    ("split", [0.8, 0.3]),
    ("split", [1.0]),
    ("split", [1.2, -0.2]),
    ("split", [0.7, 0.2, 0.05, 0.05]),
    ("split", 0.8),
    ("split", ["eighty", "twenty"]),
    ("eval_batch_size", 0),
    ("batch_size", -1),
    ("max_files", 0),
    ("chord_order", "alphabetical"),
    ("tokenization", "beats"),
    ("split_by", "composer"),
]


@pytest.mark.parametrize(("key", "value"), BAD_SETTINGS, ids=[f"{k}={v}" for k, v in BAD_SETTINGS])
def test_a_bad_setting_is_refused_when_the_datamodule_is_built(tmp_path, no_file_access, key, value):
    with pytest.raises(UserError, match=rf"data\.{key}"):
        folders = dict(archive=str(tmp_path / "absent"), cache_dir=str(tmp_path / "cache"))
        MidiDataModule(**data_settings(**folders, **{key: value}))
    assert list(tmp_path.iterdir()) == []


def datamodule_for(folder, cache, **settings) -> MidiDataModule:
    folders = dict(archive=str(folder), cache_dir=str(cache), data_dir=str(cache))
    dm = MidiDataModule(**data_settings(**folders, num_parse_workers=1, **settings))
    dm.prepare_data()
    return dm


# midi_dir holds 3 pieces of 60 tokens each: a stream of 180 tokens.
@pytest.mark.parametrize("seq_len", [180, 1000])
def test_a_seq_len_not_shorter_than_the_token_stream_is_refused(midi_dir, token_cache_dir, seq_len):
    dm = datamodule_for(midi_dir, token_cache_dir, seq_len=seq_len, batch_size=1)
    with pytest.raises(UserError, match=rf"data\.seq_len={seq_len} is not shorter than the token stream \(180 "):
        dm.setup()


@pytest.mark.filterwarnings("ignore:Length of split at index 1 is 0")
def test_a_seq_len_leaving_the_test_split_empty_is_refused(midi_dir, token_cache_dir):
    # 2 windows: random_split gives both to train and none to test, which would be evaluated every epoch
    dm = datamodule_for(midi_dir, token_cache_dir, seq_len=178, batch_size=1)
    with pytest.raises(UserError, match=r"data\.seq_len=178 leaves 2 windows"):
        dm.setup()


def test_a_one_token_vocabulary_is_refused(tmp_path):
    from music21 import note, stream

    part = stream.Part()
    for i in range(30):
        part.insert(i, note.Note("C4"))
    part.write("midi", fp=str(tmp_path / "drone.mid"))
    dm = datamodule_for(tmp_path, tmp_path / "cache", seq_len=4, batch_size=1)
    with pytest.raises(UserError, match="only 1 distinct token"):
        dm.setup()


@pytest.mark.slow
def test_train_py_with_a_bad_value_prints_one_error_line_and_exits_2(tmp_path, tiny_train_overrides):
    run_dir = tmp_path / "run"
    command = [sys.executable, "train.py", *tiny_train_overrides(run_dir), "data.seq_len=0", f"hydra.run.dir={run_dir}"]
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "data.seq_len" in errors[0] and "0" in errors[0]
    assert "Traceback" not in done.stderr + done.stdout
