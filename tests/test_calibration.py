"""The sampler calibrated on validation at the end of a run: the grid, the winner in the checkpoint and the run's
files, its one test-split figure, and generate.py composing with it when no sampler= is given."""

import json
import logging

import pytest
import torch
from omegaconf import OmegaConf

from labtools.errors import UserError
from mozart_lstm.callbacks.sampler_calibration import FILE_NAME, SamplerCalibration
from mozart_lstm.composing.sampler_choice import AUTO_MODE, UNCALIBRATED_HINT, CalibratedSampler, choose_sampler
from mozart_lstm.composing.sampling import ARGMAX, Sampler
from mozart_lstm.generate import run as generate
from mozart_lstm.models import read_checkpoint

GRID = ["callbacks.sampler_calibration.temperatures=[0.7,1.3]", "callbacks.sampler_calibration.top_ps=[0.5,1.0]"]
# one tiny piece per split; validation and test pieces of 60 tokens hold several stretches of 8
CALIBRATED_RUN = [
    "callbacks=[default,best_checkpoint,sampler_calibration]",
    "data.split=[0.3,0.35,0.35]",
    "data.split_by=piece",
    "trainer.max_epochs=2",
    "callbacks.sampler_calibration.n_notes=8",
    "callbacks.sampler_calibration.pieces=3",
    "callbacks.sampler_calibration.reference_size=3",
    *GRID,
]


@pytest.fixture(scope="module")
def calibrated_run(tmp_path_factory, midi_dir, token_cache_dir):
    from tests.conftest import train_tiny

    out = tmp_path_factory.mktemp("calibrated")
    metrics = train_tiny(out, midi_dir, token_cache_dir, *CALIBRATED_RUN)
    return out, metrics


def test_the_best_of_the_grid_goes_into_the_chosen_checkpoint_and_the_run_files(calibrated_run):
    out, metrics = calibrated_run
    saved = json.loads((out / FILE_NAME).read_text())
    grid = saved["grid"]
    assert [(g["temperature"], g["top_p"]) for g in grid] == [(0.7, 0.5), (0.7, 1.0), (1.3, 0.5), (1.3, 1.0)]
    best = max(grid, key=lambda g: g["val_overlap"])
    assert saved["sampler"] == {"sampling": "temperature", "temperature": best["temperature"], "top_p": best["top_p"]}
    assert saved["val_overlap"] == best["val_overlap"] and saved["mode"] == "stateful"
    assert 0.0 <= saved["test_overlap"] <= 1.0 and saved["pieces"] == 3 and saved["n_notes"] == 8
    assert saved["reference_pieces"] == {"val": 3, "test": 3}  # reference_size of the 7 stretches each holds
    # the checkpoint the test pass scored carries it; the last epoch's is left as Lightning wrote it
    assert read_checkpoint(out / "checkpoints" / "best.ckpt").calibration == saved
    assert "sampler_calibration" not in torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)
    assert metrics["calibration/val_overlap"] == pytest.approx(saved["val_overlap"])
    assert metrics["calibration/test_overlap"] == pytest.approx(saved["test_overlap"])
    chosen = (metrics["calibration/temperature"], metrics["calibration/top_p"])
    assert chosen == pytest.approx((best["temperature"], best["top_p"]))  # logged as float32


def test_generate_composes_with_the_calibrated_sampler_unless_told_otherwise(
    calibrated_run, compose_cfg, tmp_path, caplog
):
    out, _ = calibrated_run
    calibration = json.loads((out / FILE_NAME).read_text())
    ckpt = out / "checkpoints" / "best.ckpt"
    common = [f"ckpt={ckpt}", "n_notes=8", "wav=false", "piano_roll=false"]
    with caplog.at_level(logging.INFO, logger="mozart_lstm.generate"):
        generate(compose_cfg("generate", [*common, f"paths.output_dir={tmp_path / 'calibrated'}"]))
    settings = json.loads((tmp_path / "calibrated" / "music_report.json").read_text())["settings"]
    assert (settings["sampler"], settings["mode"]) == ("temperature", "stateful")
    assert (settings["sampler.temperature"], settings["sampler.top_p"]) == (
        calibration["sampler"]["temperature"],
        calibration["sampler"]["top_p"],
    )
    assert "sampler: the checkpoint's calibrated sampler: temperature" in caplog.text
    generate(compose_cfg("generate", [*common, "sampler=argmax", f"paths.output_dir={tmp_path / 'lab'}"]))
    settings = json.loads((tmp_path / "lab" / "music_report.json").read_text())["settings"]
    assert (settings["sampler"], settings["mode"]) == ("argmax", "window")


def test_a_checkpoint_without_calibration_keeps_argmax_and_one_line_says_what_to_pass(
    tiny_ckpt, compose_cfg, tmp_path, caplog
):
    with caplog.at_level(logging.INFO, logger="mozart_lstm.generate"):
        generate(
            compose_cfg("generate", [f"ckpt={tiny_ckpt}", "n_notes=8", "wav=false", f"paths.output_dir={tmp_path}"])
        )
    settings = json.loads((tmp_path / "music_report.json").read_text())["settings"]
    assert (settings["sampler"], settings["mode"]) == ("argmax", "window")
    [line] = [r.getMessage() for r in caplog.records if "no calibrated sampler" in r.getMessage()]
    assert UNCALIBRATED_HINT in line and "\n" not in line


CALIBRATION = {"sampler": {"sampling": "temperature", "temperature": 1.1, "top_p": 0.9}, "mode": "stateful"}
CALIBRATION |= {"val_overlap": 0.8, "test_overlap": 0.7, "grid": [{}] * 9, "pieces": 16, "n_notes": 500}


@pytest.mark.parametrize(
    ("given", "calibration", "mode", "expected"),
    [
        (CalibratedSampler(), CALIBRATION, AUTO_MODE, (Sampler("temperature", 1.1, top_p=0.9), "stateful")),
        (CalibratedSampler(top_p=0.5), CALIBRATION, AUTO_MODE, (Sampler("temperature", 1.1, top_p=0.5), "stateful")),
        (CalibratedSampler(), CALIBRATION, "window", (Sampler("temperature", 1.1, top_p=0.9), "window")),
        (CalibratedSampler(), None, AUTO_MODE, (ARGMAX, "window")),
        (CalibratedSampler(temperature=0.8), None, AUTO_MODE, (Sampler("temperature", 0.8), "window")),
        (ARGMAX, CALIBRATION, AUTO_MODE, (ARGMAX, "window")),
        (Sampler("temperature", 0.9), CALIBRATION, "stateful", (Sampler("temperature", 0.9), "stateful")),
    ],
)
def test_which_sampler_and_mode_generate_uses(given, calibration, mode, expected):
    sampler, chosen_mode, why = choose_sampler(given, calibration, mode, "run/best.ckpt")
    assert (sampler, chosen_mode) == expected and why and "\n" not in why


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"temperatures": []}, "callbacks.sampler_calibration.temperatures=[]: must be a non-empty list"),
        ({"top_ps": [0.9, 1.5]}, "callbacks.sampler_calibration.top_ps: top_p=1.5: must be in (0, 1]"),
        ({"temperatures": [0]}, "callbacks.sampler_calibration.temperatures: temperature=0: must be"),
        ({"pieces": 0}, "callbacks.sampler_calibration.pieces=0: must be a whole number >= 1"),
        ({"n_notes": 2.5}, "callbacks.sampler_calibration.n_notes=2.5: must be a whole number >= 1"),
        ({"reference_size": 1}, "callbacks.sampler_calibration.reference_size=1: must be a whole number >= 2"),
    ],
)
def test_bad_grid_settings_are_one_line_before_training(compose_cfg, tmp_path, settings, message):
    cfg = compose_cfg("train", ["callbacks=[default,sampler_calibration]", f"paths.output_dir={tmp_path}"])
    defaults = OmegaConf.to_container(cfg.callbacks.sampler_calibration, resolve=True)
    del defaults["_target_"]
    with pytest.raises(UserError) as err:
        SamplerCalibration(**defaults | settings)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_a_bad_sampler_field_with_the_calibrated_default_names_its_key(compose_cfg, tiny_ckpt):
    with pytest.raises(UserError, match=r"^sampler.top_p=2.0: must be in \(0, 1\]"):
        generate(compose_cfg("generate", [f"ckpt={tiny_ckpt}", "sampler.top_p=2.0"]))
