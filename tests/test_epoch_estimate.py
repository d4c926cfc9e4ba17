"""The epoch-time estimate a newcomer sees after the first batches of a slow CPU run, and the block `make train`
prints up front when it trains the CPU recipe."""

import logging

import pytest

from mozart_lstm.train import run


@pytest.mark.usefixtures("single_torch_thread")
@pytest.mark.parametrize(("objective", "hint"), [("last", True), ("all", False)])
def test_a_slow_cpu_run_logs_its_epoch_time_and_the_cpu_preset(make_train_cfg, caplog, objective, hint):
    slow = ("callbacks.epoch_estimate.slow_epoch_minutes=0", "callbacks.epoch_estimate.measured_batches=2")
    with caplog.at_level(logging.INFO, logger="mozart_lstm.callbacks.epoch_estimate"):
        run(make_train_cfg(*slow, f"model.objective={objective}"))
    estimates = [r.getMessage() for r in caplog.records if "per training batch" in r.getMessage()]
    assert len(estimates) == 1 and "one epoch of" in estimates[0]
    assert ("experiment=recipe" in caplog.text) == hint


@pytest.mark.usefixtures("single_torch_thread")
def test_a_quick_run_gets_no_hint(make_train_cfg, caplog):
    with caplog.at_level(logging.INFO, logger="mozart_lstm.callbacks.epoch_estimate"):
        run(make_train_cfg())
    assert "per training batch" in caplog.text and "experiment=recipe" not in caplog.text
    assert "No CUDA GPU here" not in caplog.text and "trainer.max_time" not in caplog.text


@pytest.mark.usefixtures("single_torch_thread")
def test_the_cpu_fallback_says_what_it_runs_the_limit_the_checkpoint_and_the_labs_command(
    make_train_cfg, tmp_path, caplog
):
    limited = ("experiment=fast", "cpu_fallback=true", "trainer.max_time=00:01:00:00")
    with caplog.at_level(logging.INFO):
        run(make_train_cfg(*limited, "callbacks.epoch_estimate.measured_batches=2"))
    messages = [record.getMessage() for record in caplog.records]
    first = next(i for i, message in enumerate(messages) if "No CUDA GPU here" in message)
    notice, checkpoint = messages[first], tmp_path / "run" / "checkpoints" / "last.ckpt"
    assert "runs the CPU recipe experiment=fast, stopped at trainer.max_time=00:01:00:00" in notice
    assert f"Checkpoint: {checkpoint} " in notice and notice.endswith("make train-lab") and checkpoint.is_file()
    [limit] = [i for i, message in enumerate(messages) if "The time limit (trainer.max_time) leaves" in message]
    assert first < limit and "more epoch(s) of training" in messages[limit]
    assert messages[limit - 1].startswith("Measured ")  # right after the measured time per epoch
