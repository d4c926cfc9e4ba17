"""The training task end to end on tiny configs: outputs, resume, the 3-way split, presets, config errors."""

import csv
import logging
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from pytorch_lightning.callbacks import EarlyStopping
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from labtools.errors import UserError
from mozart_lstm.callbacks import TrainingCurves
from mozart_lstm.callbacks.curves import baseline_lines
from mozart_lstm.models import load_model, read_checkpoint
from mozart_lstm.train import instantiate_entries, run

REPO = Path(__file__).resolve().parents[1]
CONF_DIR = REPO / "conf"


@pytest.fixture
def compose_preset():
    """compose_preset(*overrides): the train config as the command line composes it (no hydra node)."""

    def compose_train(*overrides):
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose("train", overrides=list(overrides))

    yield compose_train
    GlobalHydra.instance().clear()


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return [{key: float(value) if value else None for key, value in row.items()} for row in csv.DictReader(f)]


def scalars(run_dir: Path, tag: str) -> list[float]:
    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    return [event.value for event in events.Scalars(tag)] if tag in events.Tags()["scalars"] else []


@pytest.mark.usefixtures("single_torch_thread")
def test_fast_dev_run(make_train_cfg, tmp_path):
    metrics = run(make_train_cfg("+trainer.fast_dev_run=true"))
    assert math.isfinite(metrics["train/loss"]) and math.isfinite(metrics["test/loss"])
    # fast_dev_run is a dry run: no per-epoch outputs (Lightning 2.6 still writes last.ckpt at train end)
    assert not list((tmp_path / "run").glob("checkpoints/*epoch_*"))
    assert not (tmp_path / "run" / "metrics.csv").exists()


@pytest.mark.usefixtures("single_torch_thread")
def test_one_epoch_writes_checkpoints_plots_csv_and_events(make_train_cfg, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="mozart_lstm"):
        metrics = run(make_train_cfg("callbacks.curves.accuracy_goal=0.0"))
    assert "test/acc" in caplog.text and "reached 0.00 for the first time, at epoch 0" in caplog.text
    out = tmp_path / "run"
    for name in ("epoch_000.ckpt", "last.ckpt", "lab_epoch_000.pt"):
        assert (out / "checkpoints" / name).is_file(), name
    for name in ("loss", "accuracy"):
        assert (out / "plots" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    (row,) = read_csv(out / "metrics.csv")
    assert row["epoch"] == 0
    for key in ("train/loss", "train/acc", "test/loss", "test/acc", "test/acc_top5", "test/perplexity"):
        assert row[key] == pytest.approx(metrics[key], rel=1e-6), key
    assert scalars(out, "test/acc") == pytest.approx([metrics["test/acc"]])
    assert scalars(out, "train/loss") == pytest.approx([metrics["train/loss"]])
    assert 0 < metrics["baseline/acc_most_frequent"] < 1
    # the n-gram, counted on the training side, on the same windows as the network
    assert metrics["baseline/ngram_order"] == 5 and metrics["baseline/ngram_loss"] > 0
    assert scalars(out, "baseline/ngram_acc") == pytest.approx([metrics["baseline/ngram_acc"]])
    # metrics.csv holds the baselines beside the network's figures, as the logs and TensorBoard do
    baselines = {key: value for key, value in metrics.items() if key.startswith("baseline/")}
    assert {"baseline/acc_most_frequent", "baseline/ngram_loss", "baseline/ngram_acc_top5"} <= baselines.keys()
    for key, value in baselines.items():
        assert row[key] == pytest.approx(value, rel=1e-6), key

    hparams = (out / "tensorboard" / "hparams.yaml").read_text()
    assert "vocab_size" in hparams and "E5" not in hparams  # readable: no vocabulary dump
    assert scalars(out, "final/test/acc") == pytest.approx([metrics["test/acc"]])

    lab = read_checkpoint(out / "checkpoints" / "lab_epoch_000.pt")
    assert lab.data_settings["seq_len"] == 8 and lab.rhythm and lab.vocab
    assert lab.data_settings == read_checkpoint(out / "checkpoints" / "epoch_000.ckpt").data_settings


@pytest.mark.usefixtures("single_torch_thread")
def test_load_model_on_both_kinds_of_a_real_run(make_train_cfg, tmp_path):
    run(make_train_cfg())
    checkpoints = tmp_path / "run" / "checkpoints"
    outputs = []
    for name in ("epoch_000.ckpt", "lab_epoch_000.pt"):
        model, _, optimizer = load_model(checkpoints / name)
        assert model.rhythm["durations"]["values"] and model.data_settings["batch_size"] == 4
        x = torch.randint(0, len(model.vocab), (5, 8), generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            outputs.append(model(x)[0])
        assert optimizer.state_dict()["state"]
    assert torch.equal(*outputs)


@pytest.mark.slow  # three trainings
@pytest.mark.usefixtures("single_torch_thread")
def test_resume_continues_the_epoch_count_with_the_same_vocabulary(make_train_cfg, tmp_path):
    run(make_train_cfg("trainer.deterministic=true", out="first"))
    last = tmp_path / "first" / "checkpoints" / "last.ckpt"
    three_epochs = ("trainer.max_epochs=3", "trainer.deterministic=true")
    metrics = run(make_train_cfg(*three_epochs, f"ckpt_path={last}", out="resumed"))

    resumed = tmp_path / "resumed"
    written = sorted(p.name for p in (resumed / "checkpoints").glob("epoch_*.ckpt"))
    assert written == ["epoch_001.ckpt", "epoch_002.ckpt"]  # epoch 0 came from the first run
    first, final = read_checkpoint(last), read_checkpoint(resumed / "checkpoints" / "last.ckpt")
    assert final.epoch == 2 and final.vocab == first.vocab
    steps = torch.load(last, weights_only=True)["global_step"]
    assert torch.load(resumed / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 3 * steps
    # the curves carry the first run's epoch across the resume
    assert [row["epoch"] for row in read_csv(resumed / "metrics.csv")] == [0, 1, 2]
    # bitwise what an uninterrupted run gives: the checkpoint restores the shuffle and dropout generators
    whole = run(make_train_cfg(*three_epochs, out="whole"))
    assert metrics == whole
    assert (resumed / "metrics.csv").read_text() == (tmp_path / "whole" / "metrics.csv").read_text()


@pytest.mark.usefixtures("single_torch_thread")
def test_resume_refuses_a_checkpoint_of_other_data(make_train_cfg, tmp_path):
    run(make_train_cfg("data.max_files=1", out="one_file"))
    last = tmp_path / "one_file" / "checkpoints" / "last.ckpt"
    with pytest.raises(UserError, match="vocabulary"):
        run(make_train_cfg(f"ckpt_path={last}", "trainer.max_epochs=2", out="other"))


@pytest.mark.usefixtures("single_torch_thread")
def test_three_way_split_logs_val_every_epoch_and_test_once(make_train_cfg, tmp_path):
    metrics = run(make_train_cfg("data.split=[0.6,0.2,0.2]", "trainer.max_epochs=2"))
    out = tmp_path / "run"
    rows = read_csv(out / "metrics.csv")
    assert [row["epoch"] for row in rows] == [0, 1]
    assert all(row["val/acc"] is not None and row["val/loss"] is not None for row in rows)
    assert rows[0]["test/acc"] is None and rows[1]["test/acc"] == pytest.approx(metrics["test/acc"], rel=1e-6)
    # the n-gram on the validation windows every epoch, and on the test windows with the one test pass
    assert all(row["baseline/ngram_acc"] == pytest.approx(metrics["baseline/ngram_acc"]) for row in rows)
    assert rows[0]["baseline/test_ngram_loss"] is None
    assert rows[1]["baseline/test_ngram_loss"] == pytest.approx(metrics["baseline/test_ngram_loss"])
    assert len(scalars(out, "val/acc")) == 2 and len(scalars(out, "test/acc")) == 1
    assert {"val/loss", "val/perplexity", "test/loss", "test/acc_top5", "train/loss"} <= metrics.keys()


def test_the_plots_draw_each_baseline_beside_the_curves_of_its_kind():
    logged = {"baseline/acc_most_frequent": 0.2, "baseline/ngram_loss": 3.1, "baseline/ngram_acc": 0.3}
    logged |= {"baseline/ngram_acc_top5": 0.6, "baseline/ngram_order": 5.0, "baseline/test_ngram_acc": 0.25}
    assert baseline_lines(logged, "loss") == {"baseline/ngram_loss": 3.1}
    accuracies = {"baseline/acc_most_frequent", "baseline/ngram_acc", "baseline/test_ngram_acc"}
    assert baseline_lines(logged, "acc").keys() == accuracies  # not the n-gram's order, nor a top-5 figure


@pytest.mark.parametrize(
    ("override", "key"), [("model.hidden_size=0", "model.hidden_size"), ("model.lr=-1", "model.lr")]
)
def test_bad_model_settings_fail_before_the_data_is_read(make_train_cfg, tmp_path, override, key):
    cfg = make_train_cfg(override, f"data.archive={tmp_path / 'missing.tar.gz'}")
    with pytest.raises(UserError, match=key):
        run(cfg)


def test_unknown_keys_become_one_line_errors(make_train_cfg):
    with pytest.raises(UserError, match="trainer") as err:
        run(make_train_cfg("+trainer.no_such_option=1"))
    assert "\n" not in str(err.value)


def test_callback_entries_switch_on_and_off(make_train_cfg):
    default = instantiate_entries(make_train_cfg().callbacks, "callbacks")
    assert not any(isinstance(c, EarlyStopping) for c in default)
    with_stopping = instantiate_entries(make_train_cfg("callbacks=[default,early_stopping]").callbacks, "callbacks")
    assert any(isinstance(c, EarlyStopping) for c in with_stopping)
    without_curves = instantiate_entries(make_train_cfg("callbacks.curves=null").callbacks, "callbacks")
    assert not any(isinstance(c, TrainingCurves) for c in without_curves)


def test_the_default_run_is_the_labs(compose_preset):
    cfg = compose_preset()
    assert (cfg.trainer.max_epochs, cfg.model.hidden_size, cfg.data.batch_size, cfg.data.seq_len) == (30, 512, 128, 100)
    assert (cfg.model.embedding_dim, cfg.model.num_layers, cfg.model.dropout, cfg.model.lr) == (32, 3, 0.3, 0.001)
    assert (cfg.trainer.gradient_clip_val, cfg.trainer.gradient_clip_algorithm) == (5, "norm")
    assert list(cfg.data.split) == [0.8, 0.2]
    # the lab's objective, every window every epoch, the whole test split every epoch
    assert (cfg.model.objective, cfg.data.train_targets, cfg.data.train_spacing) == ("last", "last", 1)
    assert cfg.data.eval_windows is None and cfg.data.split_by == "window" and cfg.trainer.max_time is None
    assert cfg.model.carry_state is False  # every window from a zero state; experiment=lab carries it
    checkpoint = cfg.callbacks.model_checkpoint
    assert (checkpoint.every_n_epochs, checkpoint.save_top_k, checkpoint.save_last) == (1, -1, True)
    assert "=" not in checkpoint.filename and not checkpoint.auto_insert_metric_name


@pytest.mark.parametrize(
    ("experiment", "expected"),
    [
        ("smoke", {"trainer.accelerator": "cpu", "trainer.max_epochs": 2, "data.max_files": 2}),
        ("lab", {"trainer.max_epochs": 30, "model.hidden_size": 512, "data.batch_size": 128}),
        ("lab_v2", {"data.seq_len": 10, "data.chord_order": "sorted_unique", "model.hidden_size": 256}),
        (
            "fast",
            {
                "model.objective": "all",
                "data.train_targets": "all",
                "data.train_spacing": 100,
                "data.seq_len": 100,
                "data.eval_windows": 2048,
                "model.hidden_size": 512,
                "model.num_layers": 3,
                "model.lr": 0.001,
                "trainer.gradient_clip_val": 5,
                "data.batch_size": 128,
                "data.split_by": "window",
            },
        ),
    ],
)
def test_experiments(compose_preset, experiment, expected):
    cfg = compose_preset(f"experiment={experiment}")
    for key, value in expected.items():
        section, name = key.split(".")
        assert cfg[section][name] == value, key
    if experiment == "lab":
        assert "audio_samples" in cfg.callbacks and "model_checkpoint" in cfg.callbacks
        assert cfg.model.carry_state is True  # the lab's loop: (h, c) carried from batch to batch
    if experiment == "fast":
        assert list(cfg.data.split) == [0.8, 0.2] and cfg.callbacks.early_stopping.monitor == "test/loss"
        assert cfg.keep_last_checkpoints == 3 and cfg.callbacks.model_checkpoint.save_top_k == 3
    if experiment == "lab_v2":
        assert list(cfg.data.split) == [0.7, 0.15, 0.15] and cfg.data.eval_batch_size == 32


@pytest.mark.parametrize("preset", ["cpu", "gpu", "ddp"])
def test_trainer_presets(compose_preset, preset):
    cfg = compose_preset(f"trainer={preset}")
    assert cfg.trainer.max_epochs == 30 and cfg.trainer.gradient_clip_val == 5
    if preset == "ddp":
        assert cfg.trainer.strategy._target_ == "pytorch_lightning.strategies.DDPStrategy"
        assert cfg.trainer.strategy.process_group_backend is None and cfg.trainer.num_nodes == 1
        assert cfg.trainer.sync_batchnorm  # where it applies: test_data_parallel.py
    else:
        assert cfg.trainer.accelerator == preset


@pytest.mark.slow  # music21 parses the sonata, unless an earlier test of the session did
@pytest.mark.usefixtures("single_torch_thread")
def test_loss_drops_on_one_real_sonata(make_train_cfg, shared_data, corpus_cache, tmp_path):
    run(
        make_train_cfg(
            f"data.archive={shared_data / 'mozart_sonatas.tar.gz'}",
            f"data.cache_dir={corpus_cache}",
            f"data.data_dir={corpus_cache / 'data'}",
            "data.max_files=1",
            "data.seq_len=32",
            "data.batch_size=32",
            "data.eval_batch_size=512",
            "model.embedding_dim=16",
            "model.hidden_size=32",
            "model.linear_sizes=[32]",
            "trainer.max_epochs=4",
            "trainer.limit_train_batches=40",
        )
    )
    rows = read_csv(tmp_path / "run" / "metrics.csv")
    first, last = rows[0], rows[-1]
    assert len(rows) == 4
    # measured: train 5.70 -> 5.29, test 5.23 -> 5.02 (perplexity 187 -> 152), top-5 0.11 -> 0.24
    assert last["train/loss"] < first["train/loss"] - 0.25
    assert last["test/loss"] < first["test/loss"] - 0.1
    assert last["test/acc_top5"] > first["test/acc_top5"] + 0.05


@pytest.mark.slow
def test_smoke_experiment_from_the_command_line(shared_data, corpus_cache, tmp_path):
    """The issue's "done when": python train.py experiment=smoke data.archive=... on a CPU."""
    run_dir = tmp_path / "smoke"
    command = [
        sys.executable,
        "train.py",
        "experiment=smoke",
        f"data.archive={shared_data / 'mozart_sonatas.tar.gz'}",
        f"data.cache_dir={corpus_cache}",
        f"data.data_dir={corpus_cache / 'data'}",
        f"hydra.run.dir={run_dir}",
    ]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    for path in ("checkpoints/epoch_001.ckpt", "checkpoints/lab_epoch_001.pt", "plots/loss.png", "metrics.csv"):
        assert (run_dir / path).is_file(), path
    assert list((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert "Final metrics" in (run_dir / "train.log").read_text()
