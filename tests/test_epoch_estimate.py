"""The epoch-time estimate a newcomer sees after the first batches of a slow CPU run."""

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
    assert ("experiment=fast" in caplog.text) == hint


@pytest.mark.usefixtures("single_torch_thread")
def test_a_quick_run_gets_no_hint(make_train_cfg, caplog):
    with caplog.at_level(logging.INFO, logger="mozart_lstm.callbacks.epoch_estimate"):
        run(make_train_cfg())
    assert "per training batch" in caplog.text and "experiment=fast" not in caplog.text
