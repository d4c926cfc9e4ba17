"""A measured estimate of the epoch time after the first batches, and the way out for a slow CPU run."""

import logging

from pytorch_lightning.callbacks import Callback, Timer

from mozart_lstm.callbacks.device_clock import device_time

log = logging.getLogger(__name__)

CPU_RECIPE_COMMAND = "python train.py experiment=recipe"


class EpochTimeEstimate(Callback):
    """Times training batches 1..`measured_batches` (batch 0 pays one-off costs) and logs the epoch and run time.

    A newcomer who starts the lab's full run on a CPU learns within a minute that an epoch takes hours; when the
    estimate exceeds `slow_epoch_minutes` on a CPU with the lab's objective, the log names the CPU recipe.
    """

    def __init__(self, measured_batches: int = 3, slow_epoch_minutes: float = 10.0):
        self.measured_batches = measured_batches
        self.slow_epoch_minutes = slow_epoch_minutes
        self._started: float | None = None
        self.estimate_s: float | None = None

    def on_train_epoch_start(self, trainer, pl_module):
        self._started = None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        # the device's time: on a GPU the host's clock alone would time how fast the CPU queues the work
        if batch_idx == 0 and self.estimate_s is None:
            self._started = device_time(pl_module.device)
        elif batch_idx == self.measured_batches and self._started is not None:
            per_batch = (device_time(pl_module.device) - self._started) / self.measured_batches
            self._report(trainer, pl_module, per_batch)

    def _report(self, trainer, pl_module, per_batch: float) -> None:
        batches = trainer.num_training_batches
        self.estimate_s = per_batch * batches
        epochs_left = trainer.max_epochs - trainer.current_epoch if trainer.max_epochs > 0 else 1
        message = "Measured %.2f s per training batch: one epoch of %d batches takes about %.1f min (evaluation not "
        message += "included), the remaining %d epoch(s) about %.1f h."
        minutes = self.estimate_s / 60
        log.info(message, per_batch, batches, minutes, epochs_left, epochs_left * self.estimate_s / 3600)
        self._report_time_limit(trainer)
        slow_cpu = pl_module.device.type == "cpu" and minutes > self.slow_epoch_minutes
        if slow_cpu and getattr(pl_module, "objective", "last") == "last":
            log.warning(
                "This is a long run for a CPU. For a network trained on a CPU, use `%s` (every position of a "
                "window scored, each label once per epoch, and the settings that beat a smoothed n-gram on held-out "
                "sonatas); see docs/recipe.md.",
                CPU_RECIPE_COMMAND,
            )

    def _report_time_limit(self, trainer) -> None:
        """With trainer.max_time, how many more epochs its limit leaves time for."""
        timer = next((callback for callback in trainer.callbacks if isinstance(callback, Timer)), None)
        remaining = timer.time_remaining() if timer is not None else None
        if remaining is not None:
            log.info(
                "The time limit (trainer.max_time) leaves %.1f min: about %d more epoch(s) of training.",
                remaining / 60, remaining // self.estimate_s,
            )  # fmt: skip
