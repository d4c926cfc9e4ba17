"""Accuracies that need no network, so that the network's accuracy means something."""

import logging

import torch
from pytorch_lightning.callbacks import Callback

log = logging.getLogger(__name__)


def most_frequent_accuracy(labels: torch.Tensor) -> float:
    """Accuracy of always predicting the most common label of `labels`."""
    return (torch.bincount(labels).max() / labels.numel()).item()


def context_lookup_accuracy(train_x, train_y, eval_x, eval_y, k: int) -> float:
    """Predict the label seen most often after the same last-k tokens in the training windows (ties: the
    smallest id); a context never seen in training counts as wrong."""
    if not 1 <= k <= train_x.shape[1]:
        raise ValueError(f"context length {k} must be between 1 and the window length {train_x.shape[1]}")
    _, context = torch.unique(torch.cat([train_x[:, -k:], eval_x[:, -k:]]), dim=0, return_inverse=True)
    train_context, eval_context = context[: len(train_y)], context[len(train_y) :]
    num_contexts = int(context.max()) + 1
    num_labels = int(max(train_y.max(), eval_y.max())) + 1
    # one id per (context, label) pair, counted over the training windows
    pairs, counts = torch.unique(train_context * num_labels + train_y, return_counts=True)
    pair_context, pair_label = pairs // num_labels, pairs % num_labels
    best_count = torch.zeros(num_contexts, dtype=counts.dtype).scatter_reduce(0, pair_context, counts, "amax")
    is_best = counts == best_count[pair_context]
    prediction = torch.full((num_contexts,), num_labels, dtype=pair_label.dtype)
    prediction = prediction.scatter_reduce(0, pair_context[is_best], pair_label[is_best], "amin")
    prediction[best_count == 0] = -1  # unseen in training
    return (prediction[eval_context] == eval_y).double().mean().item()


class Baselines(Callback):
    """At fit start, computes `baseline/acc_most_frequent` and `baseline/acc_ngram_<k>` on the split evaluated
    every epoch (the test split with the lab's 80/20 split, val with a 3-way split), and logs them with
    every evaluation so that TensorBoard and the curves show them beside the network's accuracy."""

    def __init__(self, contexts: tuple[int, ...] = (10, 100)):
        self.contexts = tuple(contexts)
        self.accuracies: dict[str, float] = {}

    def on_fit_start(self, trainer, pl_module):
        datamodule = trainer.datamodule
        eval_set = getattr(datamodule, "val_set", None)
        if eval_set is None:
            eval_set = getattr(datamodule, "test_set", None)
        if eval_set is None or getattr(datamodule, "train_set", None) is None:
            log.warning("baselines skipped: the data module has no train_set/test_set")
            return
        train_x, train_y = datamodule.train_set.tensors()
        eval_x, eval_y = eval_set.tensors()
        self.accuracies = {"baseline/acc_most_frequent": most_frequent_accuracy(eval_y)}
        window = train_x.shape[1]
        if any(k > window for k in self.contexts):
            log.info("baselines: contexts longer than the %d-token window are left out", window)
        for k in (k for k in self.contexts if k <= window):
            accuracy = context_lookup_accuracy(train_x, train_y, eval_x, eval_y, k)
            self.accuracies[f"baseline/acc_ngram_{k}"] = accuracy
        summary = ", ".join(f"{key.removeprefix('baseline/')}={value:.4f}" for key, value in self.accuracies.items())
        log.info("baselines on the %s split (%d windows): %s", pl_module.eval_name, len(eval_y), summary)

    def on_validation_epoch_end(self, trainer, pl_module):
        if not trainer.sanity_checking and self.accuracies:
            pl_module.log_dict(self.accuracies, sync_dist=True)
