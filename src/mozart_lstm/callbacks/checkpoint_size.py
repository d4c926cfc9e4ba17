"""At fit start, log how large one checkpoint will be and how much disk the run's checkpoints will take."""

import logging

import torch
from pytorch_lightning.callbacks import Callback, ModelCheckpoint

from labtools.memory import format_bytes
from mozart_lstm.callbacks.lab_checkpoint import LabCheckpoint

log = logging.getLogger(__name__)


def tensor_bytes(tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors if isinstance(t, torch.Tensor))


def optimizer_state_bytes(optimizer) -> int:
    """The optimizer's per-parameter state once it has stepped. At fit start it has not (a resumed state is
    restored later), so RMSprop's is predicted: square_avg, plus momentum_buffer and grad_avg when enabled."""
    total = 0
    for group in optimizer.param_groups:
        slots = 1 + bool(group.get("momentum")) + bool(group.get("centered"))
        total += slots * tensor_bytes(group["params"])
    return total


def kept_per_epoch_files(callback, epochs: int | None) -> int | None:
    """How many per-epoch files one checkpoint callback leaves on disk; None when unbounded (no max_epochs)."""
    if isinstance(callback, ModelCheckpoint):
        keep, every = callback.save_top_k, max(callback.every_n_epochs or 1, 1)
        written = None if epochs is None else -(-epochs // every)
    else:
        keep, written = callback.keep_last, epochs
    if keep == -1:
        return written
    return keep if written is None else min(keep, written)


class CheckpointSize(Callback):
    """Logs the predicted size of one checkpoint (weights and buffers plus optimizer state) and the total that
    the run's checkpoint callbacks will keep, given max_epochs and keep_last_checkpoints."""

    def on_fit_start(self, trainer, pl_module):
        if not trainer.is_global_zero or trainer.fast_dev_run:
            return
        kinds = [cb for cb in trainer.callbacks if isinstance(cb, ModelCheckpoint | LabCheckpoint)]
        if not kinds:
            return
        one = tensor_bytes(pl_module.state_dict().values()) + optimizer_state_bytes(trainer.optimizers[0])
        epochs = trainer.max_epochs if trainer.max_epochs not in (None, -1) else None
        counts = [kept_per_epoch_files(cb, epochs) for cb in kinds]
        last = sum(1 for cb in kinds if isinstance(cb, ModelCheckpoint) and cb.save_last)
        if None in counts:
            log.info("Checkpoints: about %s each, %d per epoch with no end set", format_bytes(one), len(kinds))
            return
        files = sum(counts) + last
        log.info(
            "Checkpoints: about %s each; %d file(s) kept over %d epoch(s) (%s): about %s on disk",
            format_bytes(one), files, epochs, ", ".join(type(cb).__name__ for cb in kinds), format_bytes(files * one),
        )  # fmt: skip
