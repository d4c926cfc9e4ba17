"""Epoch time and training windows per second, logged and written to `throughput.json` after every epoch."""

import json
from pathlib import Path

from pytorch_lightning.callbacks import Callback

from labtools.fileio import atomic_write_text
from mozart_lstm.callbacks.device_clock import device_time


class Throughput(Callback):
    """Times every training epoch.

    `train_s` runs from the start of batch `skip_batches` to the end of the epoch's last batch, and
    `windows_per_s` counts the windows of those batches only: the first batches pay one-off costs (kernel
    selection, allocator growth) that say nothing about the steady rate. `epoch_s` is the whole epoch,
    validation included. Lightning's ThroughputMonitor reports per-step rates to a logger but writes no
    file and no epoch time, which is what a benchmark script reads.

    On a GPU the clock is read after the device catches up, a stall, so only at the ends of intervals: the
    timed batches end when their work is done, seen at the next hook (validation start, epoch end, fit end).
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
        self._batches_pending = False

    def _now(self, pl_module) -> float:
        """The device's time; it closes the timed batches when some finished since they were last closed."""
        now = device_time(pl_module.device)
        if self._batches_pending:
            self._last, self._batches_pending = now, False
        return now

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
            self._batches_pending = True

    def on_validation_epoch_start(self, trainer, pl_module):
        self._validation_start = self._now(pl_module)

    def on_validation_epoch_end(self, trainer, pl_module):
        if not trainer.sanity_checking:
            self._validation_s += self._now(pl_module) - self._validation_start

    def on_train_end(self, trainer, pl_module):
        self._now(pl_module)  # a run stopped by max_steps within an epoch has no epoch end

    def on_train_epoch_end(self, trainer, pl_module):
        epoch_end = self._now(pl_module)
        record = self.current()
        if record is None:
            return
        record |= {"epoch": trainer.current_epoch, "epoch_s": epoch_end - self._epoch_start}
        self.epochs.append(record)
        if trainer.loggers:
            pl_module.log("perf/windows_per_s", record["windows_per_s"])
            pl_module.log("perf/epoch_s", record["epoch_s"])
        if self.path is not None and trainer.is_global_zero:
            atomic_write_text(self.path, json.dumps({"epochs": self.epochs}, indent=2) + "\n")

    def current(self) -> dict | None:
        """The figures of the batches timed so far; None until a batch past `skip_batches` has finished and a
        hook has closed it."""
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
