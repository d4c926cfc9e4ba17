"""keep_last_checkpoints: how many per-epoch checkpoints of each kind stay on disk; the size logged at fit start."""

import logging
import re

import pytest

from mozart_lstm.models import read_checkpoint
from mozart_lstm.train import run


def checkpoint_names(folder) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@pytest.mark.usefixtures("single_torch_thread")
def test_keep_last_two_of_four_epochs_keeps_the_latest_of_each_kind(make_train_cfg, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="mozart_lstm"):
        run(make_train_cfg("trainer.max_epochs=4", "keep_last_checkpoints=2"))
    folder = tmp_path / "run" / "checkpoints"
    assert checkpoint_names(folder) == [
        "epoch_002.ckpt",
        "epoch_003.ckpt",
        "lab_epoch_002.pt",
        "lab_epoch_003.pt",
        "last.ckpt",
    ]
    assert read_checkpoint(folder / "last.ckpt").epoch == 3
    # 2 + 2 per-epoch files and last.ckpt
    logged = re.search(r"Checkpoints: about ([\d.]+) (\w+) each; (\d+) file\(s\) kept over 4 epoch", caplog.text)
    assert logged and logged[3] == "5", caplog.text
    size = float(logged[1]) * {"B": 1, "KB": 1e3, "MB": 1e6}[logged[2]]
    written = [path.stat().st_size for path in folder.iterdir()]
    # the prediction leaves out pickling overhead and the run's extras (vocabulary, settings, rhythm)
    assert min(written) / 4 < size <= max(written)


@pytest.mark.usefixtures("single_torch_thread")
def test_the_default_keeps_every_epoch(make_train_cfg, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="mozart_lstm"):
        run(make_train_cfg("trainer.max_epochs=2"))
    assert checkpoint_names(tmp_path / "run" / "checkpoints") == [
        "epoch_000.ckpt",
        "epoch_001.ckpt",
        "lab_epoch_000.pt",
        "lab_epoch_001.pt",
        "last.ckpt",
    ]
    assert "5 file(s) kept over 2 epoch(s)" in caplog.text
