"""Lightning callbacks of the training run; each is configured by an entry in conf/callbacks/.

Names are imported on first use: AudioSamples brings music21 and matplotlib, which a run without it never needs.
"""

from labtools.lazy import lazy_exports

_HOMES = {
    "AudioSamples": "audio_samples",
    "Baselines": "baselines",
    "CheckpointSize": "checkpoint_size",
    "EpochTimeEstimate": "epoch_estimate",
    "LabCheckpoint": "lab_checkpoint",
    "RandomStateCheckpoint": "rng_state",
    "Throughput": "throughput",
    "TrainingCurves": "curves",
}
__all__ = sorted(_HOMES)

__getattr__ = lazy_exports(__name__, _HOMES)
