"""experiment=recipe and the checkpoint that validation chooses: the preset's settings, the one test pass on
the best epoch's weights, and the refusal to choose on the test split."""

import csv

import pytest
import torch
import torch.nn.functional as F

from labtools.errors import UserError
from mozart_lstm.models import read_checkpoint
from mozart_lstm.train import instantiate, run


def read_rows(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def nll_on_test_split(cfg, path) -> float:
    """The mean NLL over the whole test split of the network in a checkpoint."""
    datamodule = instantiate(cfg.data, "data")
    datamodule.setup("test")
    network = read_checkpoint(path).build_network()
    with torch.no_grad():
        total = sum(F.nll_loss(network(x)[0], y, reduction="sum") for x, y in datamodule.test_dataloader())
    return float(total) / len(datamodule.test_set)


def test_the_lab_keeps_rmsprop_at_a_constant_rate_and_no_regularisers(make_train_cfg):
    model = make_train_cfg().model
    assert (model.optim.name, model.optim.weight_decay, model.schedule.name) == ("rmsprop", 0.0, "constant")
    assert (model.embedding_dropout, model.weight_drop, model.head_batchnorm) == (0.0, 0.0, True)
    assert "best_checkpoint" not in make_train_cfg().callbacks


def test_the_recipe_preset(compose_cfg):
    cfg = compose_cfg("train", ["experiment=recipe"])
    fast = compose_cfg("train", ["experiment=fast"])
    for key in ("batch_size", "eval_windows"):
        assert cfg.data[key] == fast.data[key], key
    assert cfg.data.train_spacing == cfg.data.seq_len  # fast's objective: each label about once an epoch
    # the departures docs/recipe.md measured, each one line of the preset
    assert (cfg.data.tokenization, cfg.data.split_by, list(cfg.data.split)) == ("timed", "piece", [0.8, 0.1, 0.1])
    assert (cfg.model.objective, cfg.model.hidden_size, cfg.model.num_layers) == ("all", 256, 2)
    assert cfg.data.transpose == 0 and cfg.data.seq_len == 50 and cfg.model.head_batchnorm is False
    assert (cfg.model.optim.name, cfg.model.optim.weight_decay, cfg.model.lr) == ("adamw", 0.01, 0.003)
    assert (cfg.model.schedule.name, cfg.model.schedule.warmup) == ("cosine", 0.05)
    assert (cfg.model.dropout, cfg.model.embedding_dropout, cfg.model.weight_drop) == (0.3, 0.1, 0.3)
    assert cfg.callbacks.best_checkpoint.monitor == "val/loss" and "=" not in cfg.callbacks.best_checkpoint.filename
    # the cosine spans the time limit, which ends the run on a CPU: no early stop cuts the decay short
    assert cfg.callbacks.early_stopping is None and "sampler_calibration" in cfg.callbacks
    assert (cfg.trainer.max_epochs, cfg.trainer.max_time) == (1000, "00:00:52:00")


def spoil_the_last_epoch(module):
    """MozartLitModule.on_validation_epoch_start for a test: the last epoch's weights get noise before its
    validation, so that its val/loss is the worst and validation must choose an earlier epoch."""
    if module.current_epoch == module.trainer.max_epochs - 1 and not module.trainer.sanity_checking:
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for weight in module.parameters():
                weight.add_(torch.randn(weight.shape, generator=generator))


@pytest.mark.usefixtures("single_torch_thread")
def test_the_test_split_is_scored_once_on_the_epoch_validation_chose(make_train_cfg, tmp_path, monkeypatch):
    from mozart_lstm.models import MozartLitModule

    monkeypatch.setattr(MozartLitModule, "on_validation_epoch_start", spoil_the_last_epoch, raising=False)
    overrides = ["experiment=recipe", "trainer.max_epochs=3", "trainer.limit_train_batches=2"]
    cfg = make_train_cfg(*overrides, "data.split=[0.3,0.35,0.35]", "trainer=cpu", "model.hidden_size=16")
    metrics = run(cfg)
    out = tmp_path / "run"
    rows = read_rows(out / "metrics.csv")
    assert [int(float(row["epoch"])) for row in rows] == [0, 1, 2]  # every epoch, after the test pass too
    val_losses = [float(row["val/loss"]) for row in rows]
    chosen = int(metrics["test/chosen_epoch"])
    assert chosen == val_losses.index(min(val_losses)) != 2, "the spoiled last epoch is never the best"
    best = torch.load(out / "checkpoints" / "best.ckpt", weights_only=True)
    assert best["epoch"] == chosen and best["hyper_parameters"]["weight_drop"] == cfg.model.weight_drop > 0
    assert {"test/loss", "test/acc", "val/loss"} <= metrics.keys()
    checkpoints = out / "checkpoints"
    losses = {name: nll_on_test_split(cfg, checkpoints / name) for name in ("best.ckpt", "last.ckpt")}
    assert losses["last.ckpt"] > losses["best.ckpt"] + 0.1  # the last epoch's weights are the spoiled ones
    assert metrics["test/loss"] == pytest.approx(losses["best.ckpt"], rel=1e-5)


def test_choosing_needs_a_validation_split(make_train_cfg, tmp_path):
    cfg = make_train_cfg("callbacks=[default,best_checkpoint]", f"data.archive={tmp_path / 'missing.tar.gz'}")
    with pytest.raises(UserError, match=r"^callbacks.best_checkpoint monitors val/loss, which needs a validation"):
        run(cfg)


@pytest.mark.parametrize(
    "override",
    ["model.optim.weight_decay=-1", "model.schedule.warmup=1.5", "model.weight_drop=1", "model.embedding_dropout=-0.1"],
)
def test_bad_values_fail_before_the_data_is_read(make_train_cfg, tmp_path, override):
    cfg = make_train_cfg("experiment=recipe", override, f"data.archive={tmp_path / 'missing.tar.gz'}")
    with pytest.raises(UserError, match=f"^{override}: must be") as err:
        run(cfg)
    assert "\n" not in str(err.value)


@pytest.mark.slow  # per schedule, two trainings and a third one refused
@pytest.mark.usefixtures("single_torch_thread")
@pytest.mark.parametrize("schedule", ["cosine", "one_cycle"])
def test_a_scheduled_run_resumes_where_it_stopped_and_only_at_its_length(make_train_cfg, tmp_path, schedule):
    tiny = ["experiment=recipe", f"model/schedule={schedule}", "trainer=cpu", "model.hidden_size=16"]
    tiny += ["data.split=[0.3,0.35,0.35]", "trainer.limit_train_batches=2", "trainer.max_epochs=2"]
    run(make_train_cfg(*tiny))
    checkpoints = tmp_path / "run" / "checkpoints"
    run(make_train_cfg(*tiny, f"ckpt_path={checkpoints / 'epoch_000.ckpt'}", out="resumed"))
    whole, resumed = (
        torch.load(path, weights_only=True)
        for path in (checkpoints / "last.ckpt", tmp_path / "resumed" / "checkpoints" / "last.ckpt")
    )
    assert resumed["lr_schedulers"] == whole["lr_schedulers"] and resumed["schedule_steps"] == 4
    with pytest.raises(
        UserError, match=r"^ckpt_path: its model.schedule.name=.* planned over 4 optimizer steps, this run's over 6"
    ):
        run(make_train_cfg(*tiny, f"ckpt_path={checkpoints / 'last.ckpt'}", "trainer.max_epochs=3", out="longer"))
