"""model.optim and model.schedule: the lab's RMSprop by default, AdamW, the schedules as a Trainer steps them,
their length from max_epochs or max_time, the checks, and load_model's optimizer."""

import itertools
import math
import time

import pytest
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from labtools.errors import UserError
from mozart_lstm.models import MozartLitModule, load_model
from mozart_lstm.models.module import check_model_settings
from tests.defaults import model_settings

VOCAB = [f"T{i}" for i in range(12)]
TINY = model_settings(embedding_dim=8, hidden_size=16, num_layers=2, linear_sizes=[16])  # conf/model, tiny
BATCHES = 8  # per epoch


def loader() -> DataLoader:
    x = torch.randint(0, len(VOCAB), (BATCHES * 4, 8), generator=torch.Generator().manual_seed(0))
    return DataLoader(TensorDataset(x, x[:, -1]), batch_size=4)


class LearningRates(pl.Callback):
    """The learning rate of every optimizer step, read before the step."""

    def __init__(self):
        self.rates = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.rates.append(trainer.optimizers[0].param_groups[0]["lr"])


def fit_rates(quiet_trainer, epochs: int = 4, **settings) -> list[float]:
    rates = LearningRates()
    trainer = quiet_trainer(max_epochs=epochs, callbacks=[rates], limit_val_batches=0)
    trainer.fit(MozartLitModule(VOCAB, **TINY | settings), loader())
    return rates.rates


def test_the_defaults_are_the_labs_rmsprop_at_a_constant_rate(quiet_trainer):
    module = MozartLitModule(VOCAB, **TINY)
    optimizer = module.configure_optimizers()
    assert type(optimizer) is torch.optim.RMSprop
    assert optimizer.defaults == torch.optim.RMSprop(module.net.parameters(), lr=1e-3).defaults
    assert fit_rates(quiet_trainer, epochs=2) == [1e-3] * 2 * BATCHES


def test_adamw_takes_the_lr_and_weight_decay():
    module = MozartLitModule(VOCAB, **TINY | {"lr": 0.004, "optim": {"name": "adamw", "weight_decay": 0.05}})
    optimizer = module.configure_optimizers()
    assert type(optimizer) is torch.optim.AdamW
    assert (optimizer.defaults["lr"], optimizer.defaults["weight_decay"]) == (0.004, 0.05)


def test_warmup_then_cosine_per_optimizer_step(quiet_trainer):
    schedule = {"name": "cosine", "warmup": 0.25, "final_lr": 0.1}
    rates = fit_rates(quiet_trainer, lr=0.002, schedule=schedule)
    warmup = BATCHES  # a quarter of 4 epochs
    assert len(rates) == 4 * BATCHES
    assert rates[0] == pytest.approx(0.002 / warmup) and rates[warmup - 1] == pytest.approx(0.002)
    assert all(a < b for a, b in zip(rates[: warmup - 1], rates[1:warmup], strict=True))
    assert all(a > b for a, b in zip(rates[warmup - 1 :], rates[warmup:], strict=False))
    assert rates[-1] == pytest.approx(0.0002)  # the last step runs at final_lr x lr


class SlowSteps(pl.Callback):
    """Makes every optimizer step take `seconds` of wall time."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def on_train_batch_end(self, *args):
        time.sleep(self.seconds)


def test_with_max_time_the_cosine_spans_the_time_limit_when_it_comes_first(quiet_trainer):
    # 24 steps of 0.1 s would take 2.4 s: a 1-second limit stops the run after about 10, and the cosine, planned
    # over the steps of max_epochs, must have decayed by then
    rates = LearningRates()
    schedule = {"name": "cosine", "warmup": 0.0, "final_lr": 0.0}
    module = MozartLitModule(VOCAB, **TINY | {"lr": 0.002, "schedule": schedule})
    trainer = quiet_trainer(
        max_epochs=3, max_time={"seconds": 1}, limit_val_batches=0, callbacks=[rates, SlowSteps(0.1)]
    )
    trainer.fit(module, loader())
    steps = len(rates.rates)
    assert 4 <= steps < 3 * BATCHES  # stopped by the time limit, not by max_epochs
    by_steps = 0.001 * (1 + math.cos(math.pi * steps / (3 * BATCHES)))  # where a step-count cosine would be
    assert rates.rates[-1] < 0.5 * by_steps
    assert all(a >= b for a, b in itertools.pairwise(rates.rates))


def test_with_max_time_and_no_max_epochs_the_cosine_spans_the_time_alone(quiet_trainer):
    rates = LearningRates()
    module = MozartLitModule(VOCAB, **TINY | {"lr": 0.002, "schedule": {"name": "cosine", "warmup": 0.2}})
    trainer = quiet_trainer(
        max_epochs=-1, max_time={"seconds": 1}, limit_val_batches=0, callbacks=[rates, SlowSteps(0.05)]
    )
    trainer.fit(module, loader())
    peak = rates.rates.index(max(rates.rates))
    assert 0 < peak < len(rates.rates) - 1 and rates.rates[-1] < 0.2 * max(rates.rates)


@pytest.mark.parametrize("schedule", ["cosine", "one_cycle"])
def test_a_schedule_without_any_length_is_one_line(quiet_trainer, schedule):
    module = MozartLitModule(VOCAB, **TINY | {"schedule": {"name": schedule, "warmup": 0.3}})
    length = {"max_time": "00:00:00:05"} if schedule == "one_cycle" else {}  # one_cycle counts steps only
    trainer = quiet_trainer(max_epochs=-1, limit_val_batches=0, **length)
    with pytest.raises(UserError, match=rf"^model.schedule.name={schedule}: .*trainer.max_epochs") as err:
        trainer.fit(module, loader())
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"optim": {"name": "sgd"}}, "model.optim.name='sgd': must be one of rmsprop, adamw"),
        ({"optim": {"weight_decay": -0.1}}, "model.optim.weight_decay=-0.1: must be a finite number >= 0"),
        ({"optim": {"weight_decay": math.nan}}, "model.optim.weight_decay=nan: must be a finite number >= 0"),
        ({"optim": {"momentum": 0.9}}, "model.optim: "),
        ({"schedule": {"name": "linear"}}, "model.schedule.name='linear': must be one of constant, cosine, one_cycle"),
        ({"schedule": {"warmup": 1.0}}, "model.schedule.warmup=1.0: must be a fraction of the steps in [0, 1)"),
        ({"schedule": {"name": "one_cycle", "warmup": 0}}, "model.schedule.warmup=0: one_cycle needs a warmup"),
        ({"schedule": {"final_lr": -1}}, "model.schedule.final_lr=-1: must be a fraction of model.lr in [0, 1)"),
    ],
)
def test_bad_values_are_one_line_naming_the_key(settings, message):
    with pytest.raises(UserError) as err:
        check_model_settings(**TINY | settings)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_load_model_rebuilds_the_optimizer_it_was_trained_with(quiet_trainer, tmp_path):
    module = MozartLitModule(VOCAB, **TINY | {"optim": {"name": "adamw", "weight_decay": 0.02}})
    trainer = quiet_trainer(max_epochs=1, limit_val_batches=0)
    trainer.fit(module, loader())
    trainer.save_checkpoint(tmp_path / "adamw.ckpt", weights_only=False)
    _, _, optimizer = load_model(tmp_path / "adamw.ckpt")
    assert type(optimizer) is torch.optim.AdamW and optimizer.param_groups[0]["weight_decay"] == 0.02
    assert optimizer.state_dict()["state"][0]["step"] == BATCHES
