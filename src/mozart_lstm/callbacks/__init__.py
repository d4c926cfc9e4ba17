"""Lightning callbacks of the training run; each is configured by an entry in conf/callbacks/."""

from mozart_lstm.callbacks.baselines import Baselines
from mozart_lstm.callbacks.curves import TrainingCurves
from mozart_lstm.callbacks.lab_checkpoint import LabCheckpoint
from mozart_lstm.callbacks.rng_state import RandomStateCheckpoint

__all__ = ["Baselines", "LabCheckpoint", "RandomStateCheckpoint", "TrainingCurves"]
