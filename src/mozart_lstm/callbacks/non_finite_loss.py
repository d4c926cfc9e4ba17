"""Stop a run whose loss is no longer a number, before a checkpoint of the diverged network is written."""

import math

from pytorch_lightning.callbacks import Callback

from labtools.errors import UserError


class NonFiniteLossStop(Callback):
    """Ends training with one UserError when an epoch's loss (train/loss, or the held-out split's) is nan or inf.

    It reads the epoch values Lightning has already reduced, once at the end of validation and once at the end of
    the training epoch, so no training step waits on the GPU. Not a Checkpoint: Lightning calls the checkpoint
    callbacks after it in the same hook, so the diverged network is never saved and checkpoints/last.ckpt stays
    the last finite epoch's.
    """

    def on_validation_end(self, trainer, pl_module):
        if trainer.state.fn == "fit" and not trainer.sanity_checking:
            self._check(trainer, pl_module)

    def on_train_epoch_end(self, trainer, pl_module):
        self._check(trainer, pl_module)

    def _check(self, trainer, pl_module) -> None:
        for key, value in trainer.callback_metrics.items():
            if key.endswith("/loss") and not math.isfinite(float(value)):
                raise UserError(
                    f"training diverged: {key} is {float(value)} in epoch {trainer.current_epoch}; the likely cause "
                    f"is model.lr={pl_module.hparams.get('lr')!r}, too high: lower it, or clip the gradients with "
                    f"trainer.gradient_clip_val. Stopped; {_last_checkpoint(trainer)}"
                )


def _last_checkpoint(trainer) -> str:
    last = getattr(trainer.checkpoint_callback, "last_model_path", "")
    if last:
        return f"the last finite checkpoint is {last}"
    return "no epoch ended with a finite loss, so no checkpoint was written"
