"""The lab's network, its LightningModule and the checkpoint helpers."""

from mozart_lstm.models.checkpoint import CheckpointData, load_model, read_checkpoint
from mozart_lstm.models.module import MozartLitModule
from mozart_lstm.models.network import MozartLSTM

__all__ = ["CheckpointData", "MozartLSTM", "MozartLitModule", "load_model", "read_checkpoint"]
