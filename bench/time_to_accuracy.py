"""7. Time to accuracy: the lab's objective (A) against experiment=fast's (B), same network, split, seed, process.

A (the last position's loss, every training window every epoch) trains for `budget_s` seconds of training steps.
B (every position scored, held-out labels masked, every seq_len-th training window per epoch) trains step for
step beside it, so that both see the same machine load, then on alone until its accuracy on the same fixed
held-out windows reaches A's final accuracy (or its own time reaches the budget). Both are evaluated every
`eval_every` steps; evaluation is not counted as training time. Steps are the LightningModule's own loss,
RMSprop and the training run's gradient clipping (trainer.gradient_clip_val), as a Lightning run does them.
"""

import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from mozart_lstm.data.windows import Vocab, WindowDataset, held_out_targets, make_loader, split_windows
from mozart_lstm.models.module import MozartLitModule

log = logging.getLogger(__name__)


@dataclass
class Trainee:
    name: str
    module: MozartLitModule
    batches: itertools.chain
    optimizer: torch.optim.Optimizer
    seconds: float = 0.0
    steps: int = 0
    history: list = field(default_factory=list)  # (training seconds, steps, held-out accuracy)


def _epochs(loader):
    """Batches epoch after epoch, telling a spaced sampler which epoch it is (as Lightning does)."""
    for epoch in itertools.count():
        if hasattr(loader.sampler, "set_epoch"):
            loader.sampler.set_epoch(epoch)
        yield from loader


# Lightning's two gradient_clip_algorithm values
CLIPPERS = {"norm": torch.nn.utils.clip_grad_norm_, "value": torch.nn.utils.clip_grad_value_}


def clipping(trainer_cfg) -> Callable:
    """clip(parameters) as the Trainer of trainer_cfg clips gradients; null or 0 clips nothing, as in Lightning."""
    value, clip = trainer_cfg.gradient_clip_val, CLIPPERS[trainer_cfg.gradient_clip_algorithm]
    return (lambda parameters: clip(parameters, value)) if value else (lambda parameters: None)


def _step(trainee: Trainee, clip: Callable) -> None:
    batch = next(trainee.batches)
    start = time.perf_counter()
    trainee.module.train()
    loss = trainee.module.training_loss(batch)[0]
    trainee.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    clip(trainee.module.parameters())
    trainee.optimizer.step()
    trainee.seconds += time.perf_counter() - start
    trainee.steps += 1


@torch.inference_mode()
def accuracy(module: MozartLitModule, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> float:
    module.eval()
    batches = zip(x.split(batch_size), y.split(batch_size), strict=True)
    correct = sum(int((module(xb).argmax(1) == yb).sum()) for xb, yb in batches)
    return correct / len(y)


def _trainees(cfg, tokens) -> tuple[dict[str, Trainee], tuple[torch.Tensor, torch.Tensor]]:
    d, settings = cfg.data, cfg.time_to_accuracy
    vocab = Vocab(tokens)
    ids = vocab.encode(tokens)
    train, *held_out = split_windows(ids, d.seq_len, d.split, d.seed)
    evaluated = held_out[-1].subset(settings.eval_windows, d.seed).tensors()
    spaced = WindowDataset(ids, train.starts, d.seq_len, held_out_targets(ids, held_out))
    loaders = {
        "lab": ("last", make_loader(train, d.batch_size, train=True)),
        "fast": ("all", make_loader(spaced, d.batch_size, train=True, spacing=d.seq_len, seed=d.seed)),
    }
    network = {key: value for key, value in cfg.model.items() if key not in ("_target_", "objective")}
    trainees = {}
    for name, (objective, loader) in loaders.items():
        torch.manual_seed(cfg.seed)  # the same initial weights and the same shuffles for both
        module = MozartLitModule(vocab.tokens, objective=objective, **network)
        optimizer = module.configure_optimizers()
        trainees[name] = Trainee(name, module, _epochs(loader), optimizer)
    return trainees, evaluated


def time_to_accuracy(cfg, tokens) -> dict:
    settings, clip = cfg.time_to_accuracy, clipping(cfg.trainer)
    trainees, (eval_x, eval_y) = _trainees(cfg, tokens)
    lab, fast = trainees["lab"], trainees["fast"]

    def evaluate(trainee: Trainee) -> float:
        if trainee.history and trainee.history[-1][1] == trainee.steps:
            return trainee.history[-1][2]
        acc = accuracy(trainee.module, eval_x, eval_y, cfg.data.eval_batch_size)
        trainee.history.append((trainee.seconds, trainee.steps, acc))
        log.info("%s: step %d, %.0f s of training, held-out accuracy %.4f", trainee.name, trainee.steps,
                 trainee.seconds, acc)  # fmt: skip
        return acc

    while lab.seconds < settings.budget_s:
        for trainee in (lab, fast):
            _step(trainee, clip)
            if trainee.steps % settings.eval_every == 0:
                evaluate(trainee)
    goal = evaluate(lab)
    fast_at_budget = evaluate(fast)  # B after the same wall-clock as A: the equal-time comparison
    reached = next((entry for entry in fast.history if entry[2] >= goal), None)
    while reached is None and fast.seconds < settings.budget_s:
        _step(fast, clip)
        if fast.steps % settings.eval_every == 0 and evaluate(fast) >= goal:
            reached = fast.history[-1]
    ratio = lab.seconds / reached[0] if reached else None
    counts = torch.bincount(eval_y)
    return {
        "id": "time_to_accuracy",
        "title": "Time to accuracy (training seconds)",
        "a": {"label": "lab objective", "seconds": lab.seconds, "steps": lab.steps, "accuracy": goal},
        "b": {"label": "experiment=fast", "seconds": reached[0] if reached else None,
              "steps": reached[1] if reached else None, "accuracy": reached[2] if reached else None},
        "ratio": ratio,
        "target": settings.target,
        "met": ratio is not None and ratio >= settings.target,
        "b_at_equal_time": {"seconds": fast.history[-1][0], "accuracy": fast_at_budget},
        "history": {name: trainee.history for name, trainee in trainees.items()},
        "eval_windows": len(eval_y),
        "eval_every": settings.eval_every,
        "most_frequent_accuracy": float(counts.max() / len(eval_y)),
        "seconds_per_step": {name: t.seconds / t.steps for name, t in trainees.items()},
    }  # fmt: skip
