"""Models that need no network, scored on the network's own held-out windows, so that its figures mean something."""

import logging
import time

import torch
from pytorch_lightning.callbacks import Callback

from mozart_lstm.baselines.ngram import fit_training_ngram

log = logging.getLogger(__name__)


def most_frequent_accuracy(labels: torch.Tensor) -> float:
    """Accuracy of always predicting the most common label of `labels`."""
    return (torch.bincount(labels).max() / labels.numel()).item()


class Baselines(Callback):
    """At fit start: `baseline/acc_most_frequent`, and a smoothed n-gram counted on the training side only
    (`baseline/ngram_loss`, `ngram_acc`, `ngram_acc_top5` and `ngram_order`), on the windows the validation
    loop evaluates every epoch. They are logged with every evaluation, so that TensorBoard and the curves show
    them beside the network's. The pass over the test split after fit logs the n-gram's scores on the same
    windows as `baseline/<test name>_ngram_*`.

    `ngram_order`: null chooses it on the validation split when the run has one (lowest NLL), else 5.
    """

    def __init__(self, ngram_order: int | None = None, max_order: int = 8):
        self.ngram_order, self.max_order = ngram_order, max_order
        self.ngram = None
        self.scores: dict[str, float] = {}

    def on_fit_start(self, trainer, pl_module):
        datamodule = trainer.datamodule
        if getattr(datamodule, "ngram_sequences", None) is None:
            log.warning("baselines skipped: the data module is not a MidiDataModule")
            return
        eval_x, eval_y = datamodule.val_dataloader().dataset.tensors()
        started = time.perf_counter()
        self.ngram = fit_training_ngram(datamodule, self.ngram_order, self.max_order)
        self.scores = {"baseline/acc_most_frequent": most_frequent_accuracy(eval_y)}
        self.scores |= self._ngram_scores(eval_x, eval_y, "")
        summary = ", ".join(f"{key.removeprefix('baseline/')}={value:.4f}" for key, value in self.scores.items())
        log.info(
            "baselines on the %s split (%d windows, %.1f s): %s",
            pl_module.eval_name, len(eval_y), time.perf_counter() - started, summary,
        )  # fmt: skip

    def _ngram_scores(self, windows, labels, prefix: str) -> dict[str, float]:
        scores = self.ngram.scores(windows, labels, orders=[self.ngram.order])[self.ngram.order]
        named = {f"baseline/{prefix}ngram_{key}": value for key, value in scores.items()}
        return named | {f"baseline/{prefix}ngram_order": float(self.ngram.order)}

    def on_validation_epoch_end(self, trainer, pl_module):
        if not trainer.sanity_checking and self.scores:
            pl_module.log_dict(self.scores, sync_dist=True)

    def on_test_epoch_end(self, trainer, pl_module):
        if self.ngram is None:
            return
        windows, labels = trainer.datamodule.test_dataloader().dataset.tensors()
        pl_module.log_dict(self._ngram_scores(windows, labels, f"{pl_module.test_name}_"), sync_dist=True)
