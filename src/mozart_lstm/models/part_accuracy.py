"""Accuracy per part of a token, for tokenizations whose tokens have parts (`MusicTokenizer.parts`): a timed
token is a pitch and a gap (`E-5:1/4`). `pitch_acc` counts a prediction right when its pitch part is right,
whatever its gap, so it compares with a pitch-only model's `acc`; `timing_acc` counts it right when its gap is
right, whatever its pitch.
"""

import torch
from torch import nn
from torchmetrics import MeanMetric


class PartAccuracy(nn.Module):
    """`parts`: per part name, each vocabulary id's class of that part; the metric of part `p` is `p_acc`."""

    def __init__(self, parts: dict[str, list[int]]):
        super().__init__()
        self.names = [f"{part}_acc" for part in parts]
        for name, classes in zip(self.names, parts.values(), strict=True):
            # not persistent: derived from the vocabulary, which the checkpoint holds already
            self.register_buffer(f"{name}_class", torch.tensor(classes), persistent=False)
        # no per-batch NaN check: it reads a value back to the host, and 0/1 values are never NaN
        self.means = nn.ModuleDict({name: MeanMetric(nan_strategy="disable") for name in self.names})

    def update(self, log_probs: torch.Tensor, y: torch.Tensor) -> dict:
        predicted = log_probs.argmax(dim=1)
        for name in self.names:
            classes = getattr(self, f"{name}_class")
            self.means[name].update((classes[predicted] == classes[y]).float())
        return dict(self.means.items())
