"""The optimizer and its learning-rate schedule, as the model.optim and model.schedule config groups name them.

Both check themselves on construction, before any data is read; each message names the `model.optim.<key>` or
`model.schedule.<key>` a user sets. The learning rate itself stays `model.lr`, the lab's key.
"""

import math
from dataclasses import dataclass

import torch
from torch.optim import lr_scheduler

from labtools.checks import is_number
from labtools.errors import UserError

OPTIMIZERS = {"rmsprop": torch.optim.RMSprop, "adamw": torch.optim.AdamW}
SCHEDULES = ("constant", "cosine", "one_cycle")


def _fraction_below_one(value) -> bool:
    return is_number(value) and 0 <= value < 1


@dataclass(frozen=True)
class OptimizerConfig:
    """`rmsprop` with no weight decay is the lab's optimizer."""

    name: str = "rmsprop"
    weight_decay: float = 0.0

    def __post_init__(self):
        if self.name not in OPTIMIZERS:
            raise UserError(f"model.optim.name={self.name!r}: must be one of {', '.join(OPTIMIZERS)}")
        decay = self.weight_decay
        if not is_number(decay) or not math.isfinite(decay) or decay < 0:
            raise UserError(f"model.optim.weight_decay={decay!r}: must be a finite number >= 0")

    def build(self, params, lr: float) -> torch.optim.Optimizer:
        return OPTIMIZERS[self.name](params, lr=lr, weight_decay=self.weight_decay)


@dataclass(frozen=True)
class ScheduleConfig:
    """How the learning rate moves over the run, stepped after every optimizer step.

    `constant` is the lab's. `cosine` rises linearly from ~0 to model.lr over the first `warmup` fraction of the
    run, then falls along a cosine to `final_lr` x model.lr; the run is its steps, or with trainer.max_time its
    time limit when that comes first. `one_cycle` is torch's OneCycleLR with `warmup` as
    its pct_start (it starts at model.lr / 25 and cycles the momentum, or Adam's beta1, the other way).
    """

    name: str = "constant"
    warmup: float = 0.0
    final_lr: float = 0.0

    def __post_init__(self):
        if self.name not in SCHEDULES:
            raise UserError(f"model.schedule.name={self.name!r}: must be one of {', '.join(SCHEDULES)}")
        if not _fraction_below_one(self.warmup):
            raise UserError(f"model.schedule.warmup={self.warmup!r}: must be a fraction of the steps in [0, 1)")
        if self.name == "one_cycle" and not self.warmup:
            raise UserError("model.schedule.warmup=0: one_cycle needs a warmup in (0, 1), e.g. 0.3")
        if not _fraction_below_one(self.final_lr):
            raise UserError(f"model.schedule.final_lr={self.final_lr!r}: must be a fraction of model.lr in [0, 1)")

    def build(self, optimizer: torch.optim.Optimizer, total_steps, elapsed_fraction=None) -> lr_scheduler.LRScheduler:
        """The scheduler over `total_steps` optimizer steps (the trainer's estimate from max_epochs, inf when only
        trainer.max_time bounds the run); `constant` needs none and is not built.

        `elapsed_fraction`, when given, returns the fraction of trainer.max_time used so far: `cosine` then runs
        over whichever of the two ends first, so that a run stopped by its time limit ends its decay there instead
        of being cut off mid-schedule. `one_cycle` is torch's and counts steps only.
        """
        if not math.isfinite(total_steps) and (elapsed_fraction is None or self.name == "one_cycle"):
            raise UserError(
                f"model.schedule.name={self.name}: the schedule's length comes from trainer.max_epochs (or "
                "trainer.max_steps)" + ("" if self.name == "one_cycle" else ", or trainer.max_time") + "; set one"
            )
        if self.name == "one_cycle":
            return lr_scheduler.OneCycleLR(
                optimizer,
                max_lr=[group["lr"] for group in optimizer.param_groups],
                total_steps=max(int(total_steps), 2),
                pct_start=self.warmup,
                final_div_factor=_one_cycle_final_div(self.final_lr),
            )

        def factor(step: int) -> float:
            # LambdaLR asks for step 0 when built, then for step n just before the (n+1)-th optimizer step
            done = (step + 1) / total_steps
            if elapsed_fraction is not None:
                done = max(done, elapsed_fraction())
            return self.factor(min(done, 1.0))

        return lr_scheduler.LambdaLR(optimizer, factor)

    def factor(self, done: float) -> float:
        """The cosine's multiple of model.lr once a fraction `done` of the run is over."""
        if done < self.warmup:
            return done / self.warmup
        decay = (done - self.warmup) / (1 - self.warmup)
        return self.final_lr + (1 - self.final_lr) * (1 + math.cos(math.pi * decay)) / 2


def check_resumed_length(schedule: ScheduleConfig, planned, steps) -> None:
    """A resumed schedule continues the state it saved, which holds its length: a run resumed with another
    length would go past the end (one_cycle raises, cosine climbs again)."""
    if planned is not None and planned != steps:
        raise UserError(
            f"ckpt_path: its model.schedule.name={schedule.name} was planned over {planned} optimizer steps, this "
            f"run's over {steps}: resume with the same trainer.max_epochs (and trainer.limit_train_batches)"
        )


def _one_cycle_final_div(final_lr: float) -> float:
    # OneCycleLR ends at max_lr / (div_factor x final_div_factor), div_factor 25 being its starting point
    return 1e4 if not final_lr else 1 / (25 * final_lr)
