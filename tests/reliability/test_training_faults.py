"""Training under faults: a run killed mid-epoch, an output folder that cannot be written, a loss that diverges."""

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from labtools.errors import UserError
from mozart_lstm.models import MozartLitModule, read_checkpoint
from mozart_lstm.train import run

REPO = Path(__file__).resolve().parents[2]

PAUSE_CALLBACK = '''
import time
from pytorch_lightning.callbacks import Callback


class Pause(Callback):
    """Slows every training batch down, so that a test can kill the run in the middle of an epoch."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def on_train_batch_end(self, *args):
        time.sleep(self.seconds)
'''


def train_process(overrides: list[str], run_dir: Path, helpers: Path) -> subprocess.Popen:
    env = os.environ | {"PYTHONPATH": str(helpers), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "train.py", *overrides, f"hydra.run.dir={run_dir}"]
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen, timeout: float = 120) -> None:
    _, stderr = process.communicate(timeout=timeout)
    assert process.returncode == 0, stderr[-3000:]


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.02)


@pytest.mark.slow
def test_killed_mid_epoch_then_resumed_equals_an_uninterrupted_run(tmp_path, tiny_train_overrides):
    """SIGKILL during the second of 2 epochs; every file left loads; the resumed run ends bitwise where
    an uninterrupted run with the same seed ends (CPU, trainer.deterministic=true)."""
    helpers = tmp_path / "helpers"
    helpers.mkdir()
    (helpers / "pause_callback.py").write_text(PAUSE_CALLBACK)

    def overrides(out: Path, pause: float) -> list[str]:
        return [
            *tiny_train_overrides(out),
            "trainer.max_epochs=2",
            "trainer.deterministic=true",
            "+callbacks.pause._target_=pause_callback.Pause",
            f"+callbacks.pause.seconds={pause}",
        ]

    whole, killed, resumed = tmp_path / "whole", tmp_path / "killed", tmp_path / "resumed"
    uninterrupted = train_process(overrides(whole, 0.0), whole, helpers)  # meanwhile, on the other core
    victim = train_process(overrides(killed, 0.05), killed, helpers)
    try:
        wait_for(killed / "checkpoints" / "lab_epoch_000.pt", victim)  # written last at the end of epoch 0
        time.sleep(0.4)  # a few batches into epoch 1
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.communicate()
    assert victim.returncode == -signal.SIGKILL
    assert not (killed / "checkpoints" / "epoch_001.ckpt").exists(), "killed too late: epoch 1 had ended"
    finish(uninterrupted)

    left = sorted(p for p in (killed / "checkpoints").iterdir() if not p.name.startswith("."))
    assert {p.name for p in left} >= {"epoch_000.ckpt", "last.ckpt", "lab_epoch_000.pt"}
    for path in left:
        torch.load(path, weights_only=True)
        assert read_checkpoint(path).epoch == 0

    last = killed / "checkpoints" / "last.ckpt"
    finish(train_process([*overrides(resumed, 0.0), f"ckpt_path={last}"], resumed, helpers))
    assert read_checkpoint(resumed / "checkpoints" / "last.ckpt").epoch == 1
    # every metric of every epoch, to the last printed digit
    assert (resumed / "metrics.csv").read_text() == (whole / "metrics.csv").read_text()


@pytest.mark.usefixtures("single_torch_thread")
def test_a_nan_loss_stops_the_run_and_keeps_the_last_finite_checkpoint(make_train_cfg, tmp_path, monkeypatch):
    finite_loss = MozartLitModule.training_loss

    def diverging_from_epoch_1(self, batch):
        loss, *rest = finite_loss(self, batch)
        return (loss * float("nan") if self.current_epoch >= 1 else loss), *rest

    monkeypatch.setattr(MozartLitModule, "training_loss", diverging_from_epoch_1)
    with pytest.raises(UserError) as caught:
        run(make_train_cfg("trainer.max_epochs=3"))
    checkpoints = tmp_path / "run" / "checkpoints"
    message = str(caught.value)
    assert "training diverged: " in message and " is nan in epoch 1; " in message and "model.lr=0.001" in message
    assert f"the last finite checkpoint is {checkpoints / 'last.ckpt'}" in message and "\n" not in message
    assert sorted(path.name for path in checkpoints.iterdir()) == ["epoch_000.ckpt", "lab_epoch_000.pt", "last.ckpt"]
    weights = read_checkpoint(checkpoints / "last.ckpt").state_dict.values()
    assert all(torch.isfinite(weight).all() for weight in weights if weight.is_floating_point())


def test_output_dir_below_a_file_fails_before_training(make_train_cfg, tmp_path):
    (tmp_path / "a_file").write_text("")
    cfg = make_train_cfg(f"data.archive={tmp_path / 'missing.tar.gz'}", out="a_file/run")
    with pytest.raises(UserError, match="cannot write") as err:
        run(cfg)  # the missing archive would fail later: the output dir is checked first
    assert str(tmp_path / "a_file" / "run") in str(err.value)


@pytest.mark.parametrize("folder", ["/sys", "/proc"])
def test_read_only_output_dir_fails_before_training(make_train_cfg, tmp_path, folder):
    """A folder that exists but that no one, root included (as in CI), may create a file in: chmod would not stop
    root, and sysfs (EACCES) and procfs (ENOENT) do."""
    if not Path(folder).is_dir():
        pytest.skip(f"{folder} is not mounted here")
    with pytest.raises(UserError, match=f"^{folder}: cannot write the run's outputs there"):
        # the missing archive would fail later: the output dir is checked first
        run(make_train_cfg(f"data.archive={tmp_path / 'missing.tar.gz'}", f"paths.output_dir={folder}"))


def test_full_disk_fails_before_training(make_train_cfg, tmp_path, monkeypatch):
    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(UserError, match="No space left on device") as err:
        run(make_train_cfg(f"data.archive={tmp_path / 'missing.tar.gz'}"))
    assert str(tmp_path / "run") in str(err.value)


@pytest.mark.slow
def test_unwritable_output_dir_on_the_command_line(command_line_cases, tmp_path):
    (tmp_path / "a_file").write_text("")
    bad = tmp_path / "a_file" / "run"
    cases = [[f"paths.output_dir={bad}", f"hydra.run.dir={tmp_path / 'hydra'}"], [f"hydra.run.dir={bad}"]]
    ours, hydras = command_line_cases("train.py", cases, cwd=REPO)
    # paths.output_dir: our check, one line and exit code 2
    assert ours[0] == 2 and f"error: {bad}: cannot write" in ours[1] and "Traceback" not in ours[1]
    # hydra.run.dir: Hydra makes that folder before our code runs and reports it itself
    assert hydras[0] != 0 and str(bad) in hydras[1]
