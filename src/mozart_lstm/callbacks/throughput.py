"""Epoch time and training windows per second, logged and written to `throughput.json` after every epoch."""

import json
import time
from pathlib import Path

import torch
from pytorch_lightning.callbacks import Callback

from labtools.fileio import atomic_write_text


class Throughput(Callback):
    """Times every training epoch.

    `train_s` runs from the start of batch `skip_batches` to the end of the epoch's last batch, and
    `windows_per_s` counts the windows of those batches only: the first batches pay one-off costs (kernel
    selection, allocator growth) that say nothing about the steady rate. `epoch_s` is the whole epoch,
    validation included. Lightning's ThroughputMonitor reports per-step rates to a logger but writes no
    file and no epoch time, which is what a benchmark script reads.
    """

    def __init__(self, output_dir=None, skip_batches: int = 1):
        self.path = Path(output_dir) / "throughput.json" if output_dir is not None else None
        self.skip_batches = skip_batches
        self.epochs: list[dict] = []
        self._reset()

    def _reset(self):
        self._epoch_start = self._first = self._last = None
        self._batches = self._windows = 0
        self._validation_s = 0.0

    @staticmethod
    def _now(pl_module) -> float:
        if pl_module.device.type == "cuda":
            torch.cuda.synchronize(pl_module.device)  # kernels run asynchronously: wait for them
        return time.perf_counter()

    def on_train_epoch_start(self, trainer, pl_module):
        self._reset()
        self._epoch_start = self._now(pl_module)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if self._batches == self.skip_batches:
            self._first = self._now(pl_module)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self._batches += 1
        if self._first is not None:
            self._windows += len(batch[1])
            self._last = self._now(pl_module)

    def on_validation_epoch_start(self, trainer, pl_module):
        self._validation_start = self._now(pl_module)

    def on_validation_epoch_end(self, trainer, pl_module):
        if not trainer.sanity_checking:
            self._validation_s += self._now(pl_module) - self._validation_start

    def on_train_epoch_end(self, trainer, pl_module):
        record = self.current()
        if record is None:
            return
        record |= {"epoch": trainer.current_epoch, "epoch_s": self._now(pl_module) - self._epoch_start}
        self.epochs.append(record)
        if trainer.loggers:
            pl_module.log("perf/windows_per_s", record["windows_per_s"])
            pl_module.log("perf/epoch_s", record["epoch_s"])
        if self.path is not None and trainer.is_global_zero:
            atomic_write_text(self.path, json.dumps({"epochs": self.epochs}, indent=2) + "\n")

    def current(self) -> dict | None:
        """The running epoch's figures so far; None until a batch past `skip_batches` has finished."""
        if self._first is None or self._last is None:
            return None
        train_s = self._last - self._first
        return {
            "batches": self._batches,
            "timed_windows": self._windows,
            "train_s": train_s,
            "windows_per_s": self._windows / train_s if train_s > 0 else float("nan"),
            "validation_s": self._validation_s,
        }
