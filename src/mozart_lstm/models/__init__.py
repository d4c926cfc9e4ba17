"""The lab's network, its settings, its LightningModule and the checkpoint helpers."""

from mozart_lstm.models.checkpoint import CheckpointData, load_model, read_checkpoint
from mozart_lstm.models.module import MozartLitModule
from mozart_lstm.models.network import MozartLSTM, NetworkConfig

__all__ = ["CheckpointData", "MozartLSTM", "MozartLitModule", "NetworkConfig", "load_model", "read_checkpoint"]
