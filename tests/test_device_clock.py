"""The timing callbacks on a GPU (mocked): they wait for the device at their interval ends, never per batch."""

from types import SimpleNamespace

import pytest
import torch

from mozart_lstm.callbacks.epoch_estimate import EpochTimeEstimate
from mozart_lstm.callbacks.throughput import Throughput

GPU_MODULE = SimpleNamespace(device=torch.device("cuda", 0), objective="last")
TRAINER = SimpleNamespace(sanity_checking=False, current_epoch=0, loggers=[], is_global_zero=True)
BATCH = (torch.zeros(4, 8), torch.zeros(4))


@pytest.fixture
def synchronized(monkeypatch) -> list:
    """The devices torch.cuda.synchronize was called for."""
    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", calls.append)
    return calls


def throughput_epoch(batches: int) -> Throughput:
    timer = Throughput(skip_batches=1)
    timer.on_train_epoch_start(TRAINER, GPU_MODULE)
    for batch_idx in range(batches):
        timer.on_train_batch_start(TRAINER, GPU_MODULE, BATCH, batch_idx)
        timer.on_train_batch_end(TRAINER, GPU_MODULE, None, BATCH, batch_idx)
    timer.on_validation_epoch_start(TRAINER, GPU_MODULE)
    timer.on_validation_epoch_end(TRAINER, GPU_MODULE)
    timer.on_train_epoch_end(TRAINER, GPU_MODULE)
    return timer


def test_throughput_waits_for_the_gpu_a_fixed_number_of_times_per_epoch(synchronized):
    short = throughput_epoch(5)
    per_epoch = len(synchronized)
    long = throughput_epoch(50)
    assert len(synchronized) == 2 * per_epoch <= 2 * 5
    assert set(synchronized) == {GPU_MODULE.device}
    assert [timer.epochs[0]["timed_windows"] for timer in (short, long)] == [4 * 4, 49 * 4]
    assert long.epochs[0]["train_s"] <= long.epochs[0]["epoch_s"]


def test_throughput_closes_a_run_stopped_within_an_epoch(synchronized):
    timer = Throughput(skip_batches=1)
    timer.on_train_epoch_start(TRAINER, GPU_MODULE)
    for batch_idx in range(3):
        timer.on_train_batch_start(TRAINER, GPU_MODULE, BATCH, batch_idx)
        timer.on_train_batch_end(TRAINER, GPU_MODULE, None, BATCH, batch_idx)
    timer.on_train_end(TRAINER, GPU_MODULE)
    assert timer.current()["timed_windows"] == 8


def test_the_epoch_estimate_times_the_gpus_work(synchronized):
    """Two waits: without them it would time how fast the CPU queues the kernels."""
    estimate = EpochTimeEstimate(measured_batches=3)
    trainer = SimpleNamespace(num_training_batches=10, max_epochs=2, current_epoch=0, callbacks=[])
    estimate.on_train_epoch_start(trainer, GPU_MODULE)
    for batch_idx in range(8):
        estimate.on_train_batch_end(trainer, GPU_MODULE, None, BATCH, batch_idx)
    assert len(synchronized) == 2
    assert estimate.estimate_s is not None
