"""Pitch and timing accuracy of a model trained on timed tokens (`data.tokenization=timed`).

A timed token is a pitch and a gap (`E-5:1/4`). `pitch_acc` counts a prediction right when its pitch part is
right, whatever its gap, so it compares with a pitch-only model's `acc`; `timing_acc` counts it right when its
gap is right, whatever its pitch.
"""

import torch
from torch import nn
from torchmetrics import MeanMetric

from mozart_lstm.data.timed_tokens import is_timed, part_ids


class TimedAccuracy(nn.Module):
    def __init__(self, vocab: list[str]):
        super().__init__()
        pitch_ids, gap_ids = part_ids(vocab)
        # not persistent: derived from the vocabulary, which the checkpoint holds already
        self.register_buffer("pitch_of", torch.tensor(pitch_ids), persistent=False)
        self.register_buffer("gap_of", torch.tensor(gap_ids), persistent=False)
        # no per-batch NaN check: it reads a value back to the host, and 0/1 values are never NaN
        self.pitch_acc = MeanMetric(nan_strategy="disable")
        self.timing_acc = MeanMetric(nan_strategy="disable")

    def update(self, log_probs: torch.Tensor, y: torch.Tensor) -> dict:
        predicted = log_probs.argmax(dim=1)
        self.pitch_acc.update((self.pitch_of[predicted] == self.pitch_of[y]).float())
        self.timing_acc.update((self.gap_of[predicted] == self.gap_of[y]).float())
        return {"pitch_acc": self.pitch_acc, "timing_acc": self.timing_acc}


def timed_accuracy(vocab: list[str]) -> TimedAccuracy | None:
    """The metrics for a timed vocabulary; None for the lab's pitch-only tokens."""
    return TimedAccuracy(vocab) if is_timed(vocab) else None
