"""At the end of a run with a validation split: calibrate the sampler there (composing/calibration.py) and write
the winner into the checkpoint whose weights were calibrated, and into the run's files."""

import json
import logging
from pathlib import Path

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint

from labtools.checks import is_whole
from labtools.errors import SettingError, UserError
from labtools.fileio import atomic_path, atomic_write_text
from mozart_lstm.composing.calibration import calibrate, describe
from mozart_lstm.composing.sampling import Sampler
from mozart_lstm.models.checkpoint import CALIBRATION_KEY

log = logging.getLogger(__name__)

FILE_NAME = "sampler_calibration.json"
KEY = "callbacks.sampler_calibration"


def _check_grid(name: str, field: str, values) -> None:
    """Every value of one axis of the grid is a valid sampler.<field>, and there is at least one."""
    if not isinstance(values, list | tuple) or not values:
        raise UserError(f"{KEY}.{name}={values!r}: must be a non-empty list of sampler.{field} values")
    for value in values:
        try:
            Sampler("temperature", **{field: value})
        except SettingError as err:
            raise UserError(f"{KEY}.{name}: {err}") from None


def calibrated_checkpoint(trainer: pl.Trainer) -> Path | None:
    """The checkpoint holding the weights the test pass scored: the one a val/ metric chose, else the last."""
    callbacks = [c for c in trainer.checkpoint_callbacks if isinstance(c, ModelCheckpoint)]
    chosen = [c.best_model_path for c in callbacks if str(c.monitor).startswith("val/") and c.best_model_path]
    last = [c.last_model_path for c in callbacks if c.last_model_path]
    found = chosen or last
    return Path(found[0]) if found else None


def write_into_checkpoint(path: Path, calibration: dict) -> None:
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    checkpoint[CALIBRATION_KEY] = calibration
    with atomic_path(path) as tmp:
        torch.save(checkpoint, tmp)


class SamplerCalibration(pl.Callback):
    """After the test pass (on the chosen checkpoint's weights, see train.py), score `temperatures` x `top_ps`
    on `pieces` validation-seeded pieces of `n_notes` tokens against up to `reference_size` stretches of the
    validation sonatas (and the winner against as many of the test sonatas); log
    `calibration/val_overlap`, `calibration/test_overlap`, `calibration/temperature` and `calibration/top_p`;
    write `sampler_calibration.json` and the checkpoint's `sampler_calibration`. A run without a validation
    split is left uncalibrated, with one line saying so."""

    def __init__(self, output_dir, *, temperatures, top_ps, pieces: int, n_notes: int, reference_size: int, seed: int):
        """The settings are conf/callbacks/sampler_calibration.yaml's, which holds their defaults."""
        _check_grid("temperatures", "temperature", temperatures)
        _check_grid("top_ps", "top_p", top_ps)
        for name, value in (("pieces", pieces), ("n_notes", n_notes)):
            if not is_whole(value):
                raise UserError(f"{KEY}.{name}={value!r}: must be a whole number >= 1")
        if not is_whole(reference_size, minimum=2):
            raise UserError(
                f"{KEY}.reference_size={reference_size!r}: must be a whole number >= 2 (the overlap compares sets)"
            )
        self.output_dir = Path(output_dir)
        self.temperatures, self.top_ps = list(temperatures), list(top_ps)
        self.pieces, self.n_notes, self.reference_size, self.seed = pieces, n_notes, reference_size, seed
        self.result: dict | None = None

    def on_test_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        datamodule = trainer.datamodule
        if getattr(datamodule, "val_set", None) is None:
            log.info("sampler calibration skipped: the run has no validation split; generate.py will use argmax")
            return
        if not trainer.is_global_zero:
            return
        try:
            self.result = calibrate(
                pl_module.net,
                datamodule,
                self.temperatures,
                self.top_ps,
                pieces=self.pieces,
                n_notes=self.n_notes,
                reference_size=self.reference_size,
                seed=self.seed,
            )
        except ValueError as err:  # validation pieces too short for the pieces' length
            log.warning("sampler calibration skipped: %s; generate.py will use argmax", err)
            return
        figures = {"val_overlap": self.result["val_overlap"], "test_overlap": self.result["test_overlap"]}
        figures |= {key: self.result["sampler"][key] for key in ("temperature", "top_p")}
        logged = {f"calibration/{key}": float(value) for key, value in figures.items() if value is not None}
        pl_module.log_dict(logged, rank_zero_only=True)
        atomic_write_text(self.output_dir / FILE_NAME, json.dumps(self.result, indent=1))
        path = calibrated_checkpoint(trainer)
        if path is not None:
            write_into_checkpoint(path, self.result)
        log.info(
            "Calibrated sampler (%.0f s), written into %s: %s",
            self.result["seconds"],
            path or FILE_NAME,
            describe(self.result),
        )
