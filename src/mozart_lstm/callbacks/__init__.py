"""Lightning callbacks of the training run; each is configured by an entry in conf/callbacks/.

Names are imported on first use: AudioSamples brings music21 and matplotlib, which a run without it never needs.
"""

from labtools.lazy import lazy_exports

__all__, __getattr__ = lazy_exports(
    __name__,
    {
        "audio_samples": ("AudioSamples",),
        "baselines": ("Baselines",),
        "checkpoint_size": ("CheckpointSize",),
        "epoch_estimate": ("EpochTimeEstimate",),
        "lab_checkpoint": ("LabCheckpoint",),
        "non_finite_loss": ("NonFiniteLossStop",),
        "rng_state": ("RandomStateCheckpoint",),
        "sampler_calibration": ("SamplerCalibration",),
        "throughput": ("Throughput",),
        "curves": ("TrainingCurves",),
    },
)
