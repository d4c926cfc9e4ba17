"""The LightningModule: the lab's loss, optimizer and per-epoch metrics around MozartLSTM."""

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Timer
from torch import nn
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy

from labtools.checks import is_positive
from labtools.errors import UserError
from mozart_lstm.data.windows import OBJECTIVES
from mozart_lstm.models.network import MozartLSTM, NetworkConfig
from mozart_lstm.models.optimization import OptimizerConfig, ScheduleConfig, check_resumed_length
from mozart_lstm.models.part_accuracy import PartAccuracy


class SplitMetrics(nn.Module):
    """Epoch aggregates of one split. torchmetrics syncs them across processes when computed.

    Nothing here reads a value back to the host per batch (a GPU stall each step): the inputs are ours, so
    torchmetrics' argument checks are off, and the mean's NaN check is off too, which also keeps a NaN loss in
    the epoch's mean rather than dropping it (a diverged run must show as one).
    """

    def __init__(self, num_classes: int, top5: bool, token_parts: dict[str, list[int]] | None = None):
        super().__init__()
        # an accuracy per part when the tokens have parts (pitch_acc and timing_acc for timed tokens)
        self.parts = PartAccuracy(token_parts) if token_parts else None
        self.loss = MeanMetric(nan_strategy="disable")
        self.acc = MulticlassAccuracy(num_classes, average="micro", validate_args=False)
        top_k = min(5, num_classes)
        top5_acc = MulticlassAccuracy(num_classes, top_k=top_k, average="micro", validate_args=False)
        self.acc_top5 = top5_acc if top5 else None

    def update(self, loss: torch.Tensor, log_probs: torch.Tensor, y: torch.Tensor) -> dict:
        """Update with one batch; return the metric objects (Lightning computes and resets them per epoch)."""
        # the batch's mean once per window, not a weight: with its NaN check off MeanMetric replaces any weight by
        # ones (torchmetrics 1.9), and a Python-number weight would be copied to the GPU, which waits for it
        self.loss.update(loss.expand(y.numel()))
        self.acc.update(log_probs, y)
        logged = {"loss": self.loss, "acc": self.acc}
        if self.acc_top5 is not None:
            self.acc_top5.update(log_probs, y)
            logged["acc_top5"] = self.acc_top5
        if self.parts is not None:
            logged |= self.parts.update(log_probs, y)
        return logged


def time_limit_fraction(trainer: pl.Trainer):
    """A function giving the fraction of trainer.max_time spent training so far, or None without a time limit.
    Lightning's Timer (added for max_time) keeps the elapsed time across a resume."""
    timer = next((callback for callback in trainer.callbacks if isinstance(callback, Timer)), None)
    if timer is None or timer.time_remaining("train") is None:
        return None

    def fraction() -> float:
        elapsed = timer.time_elapsed("train")
        return elapsed / max(elapsed + timer.time_remaining("train"), 1e-9)

    return fraction


def check_model_settings(*, lr, objective, optim, schedule, carry_state, **network) -> NetworkConfig:
    """Reject impossible model settings (conf/model: MozartLitModule's keyword arguments), naming the config key;
    return the network's. `optim` and `schedule` are the model.optim and model.schedule groups as dicts.

    The train task calls it once, before the data is parsed, when the vocabulary is not known yet: a size of 1
    stands in for it (a `model.vocab_size` key is refused as given twice). MozartLitModule, built after the data,
    takes the settings as checked.
    """
    config = NetworkConfig(1, **network)
    if not is_positive(lr):
        raise UserError(f"model.lr={lr!r}: must be a finite number > 0")
    if objective not in OBJECTIVES:
        raise UserError(f"model.objective={objective!r}: must be one of {', '.join(OBJECTIVES)}")
    if not isinstance(carry_state, bool):
        raise UserError(f"model.carry_state={carry_state!r}: must be true or false")
    _check_group(OptimizerConfig, "model.optim", optim)
    _check_group(ScheduleConfig, "model.schedule", schedule)
    return config


def _check_group(kind, key: str, values: dict | None) -> None:
    try:
        kind(**(values or {}))
    except TypeError as err:
        raise UserError(f"{key}: {err}") from err


class MozartLitModule(pl.LightningModule):
    """NLL on the network's log-probabilities (= the lab's CrossEntropyLoss on LogSoftmax output), RMSprop at
    a constant `lr` unless `optim` and `schedule` (plain dicts, see models/optimization.py) say otherwise.

    `objective="last"` (the lab's) scores the next token after each window. `"all"` scores the next token at
    every position of a training window: its batches carry a (batch, seq) label row from the data module
    (`data.train_targets=all`), with held-out labels set to NLLLoss's ignore_index. `train/acc` is the last
    position's either way, and evaluation is always the lab's: the last position of each held-out window.

    `eval_name` names the split evaluated every epoch by Lightning's validation loop: "test" with the lab's
    80/20 split, "val" with a 3-way split. `test_name` prefixes `trainer.test()`'s pass over the whole test
    split ("test", or "test_full" when the epochs evaluated a subset of it as "test").

    `carry_state` is the lab's Problem 3 loop: each training batch starts from the (h, c) the previous one ended
    with, detached (no gradient flows back into the earlier batch). The state starts at zero at every epoch and
    whenever the batch size changes (the state of 64 windows cannot start 16); evaluation and generation always
    start from zero. With shuffled windows the carried state is the memory of another, unrelated window.
    """

    def __init__(
        self,
        vocab: list[str],
        eval_name: str = "test",
        test_name: str = "test",
        *,
        lr: float,
        objective: str,
        optim: dict,
        schedule: dict,
        carry_state: bool,
        token_parts: dict[str, list[int]] | None = None,
        **network,
    ):
        """The settings are conf/model's, which holds their defaults, checked by `check_model_settings` (train.py
        calls it before the data is read). `network`: the fields of NetworkConfig but vocab_size (the vocabulary's
        length), as conf/model names them. `token_parts`: the tokenizer's parts of each vocabulary token
        (`MusicTokenizer.parts`), scored as a per-part accuracy on the held-out splits."""
        super().__init__()
        config = NetworkConfig(len(vocab), **network)
        # The vocabulary travels in the checkpoint; the logger gets a readable subset (see loggable_hparams).
        # The parts are the tokenizer's to derive again.
        self.save_hyperparameters(ignore=["token_parts"], logger=False)
        # the network's settings as plain values (linear_sizes a list), so that a checkpoint names the whole network
        self.hparams.update(config.settings())
        self.vocab = list(vocab)
        self.eval_name = eval_name
        self.test_name = test_name
        self.objective = objective
        self.carry_state = carry_state
        self.carried_state: tuple[torch.Tensor, torch.Tensor] | None = None  # the last training batch's (h, c)
        # the optimizer steps the learning-rate schedule runs over (None: constant), and a resumed run's plan
        self.schedule_steps = self.resumed_schedule_steps = None
        self.net = MozartLSTM(config)
        self.criterion = nn.NLLLoss()
        self.train_metrics = SplitMetrics(len(vocab), top5=False)
        self.eval_metrics = SplitMetrics(len(vocab), top5=True, token_parts=token_parts)
        self.test_metrics = SplitMetrics(len(vocab), top5=True, token_parts=token_parts)

    def loggable_hparams(self) -> dict:
        """Hyperparameters for TensorBoard's hparams table: everything but the 1000-token vocabulary."""
        return {"model/" + key: value for key, value in self.hparams.items() if key != "vocab"} | {
            "model/vocab_size": len(self.vocab)
        }

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)[0]

    def _log_metrics(self, metrics: SplitMetrics, prefix: str, loss, log_probs, y) -> None:
        for name, metric in metrics.update(loss.detach(), log_probs.detach(), y).items():
            self.log(f"{prefix}/{name}", metric, on_step=False, on_epoch=True, prog_bar=prefix != "train")

    def _last_position_loss(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The lab's loss: NLL of the next token after each window, with its log-probs."""
        # float(): under bf16-mixed the loss and metrics are still taken in full precision
        log_probs = self(x).float()
        return self.criterion(log_probs, y), log_probs

    def _step(self, batch, metrics: SplitMetrics, prefix: str) -> torch.Tensor:
        loss, log_probs = self._last_position_loss(*batch)
        self._log_metrics(metrics, prefix, loss, log_probs, batch[1])
        return loss

    def _starting_state(self, batch_size: int):
        """The (h, c) a training batch starts from: the carried one (carry_state) when it has this batch's size,
        else None, the zero state."""
        carried = self.carried_state
        if self.carry_state and carried is not None and carried[0].shape[1] == batch_size:
            return carried
        return None

    def training_loss(self, batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The objective's loss on a training batch, with the last position's log-probs and labels (the metrics')."""
        x, y = batch
        every = self.objective == "all"
        if every and y.ndim != 2:
            raise UserError("model.objective=all needs a label at every position: set data.train_targets=all")
        log_probs, (h, c) = self.net(x, self._starting_state(x.shape[0]), all_positions=every)
        if self.carry_state:
            self.carried_state = (h.detach(), c.detach())
        log_probs = log_probs.float()  # under bf16-mixed the loss and metrics are still taken in full precision
        if not every:
            return self.criterion(log_probs, y), log_probs, y
        return self.criterion(log_probs.flatten(0, 1), y.flatten()), log_probs[:, -1], y[:, -1]

    def on_train_epoch_start(self):
        self.carried_state = None

    def training_step(self, batch, batch_idx):
        loss, log_probs, y = self.training_loss(batch)
        self._log_metrics(self.train_metrics, "train", loss, log_probs, y)
        # the batch loss, for the progress bar only; read back to the host (a GPU stall) as often as the logger's
        # (no trainer: a direct call, which Lightning's log ignores)
        every = self._trainer.log_every_n_steps if self._trainer is not None else 1
        if batch_idx % every == 0:
            self.log("loss", loss.detach(), prog_bar=True, logger=False)
        return loss

    def validation_step(self, batch, batch_idx):
        self._step(batch, self.eval_metrics, self.eval_name)

    def test_step(self, batch, batch_idx):
        self._step(batch, self.test_metrics, self.test_name)

    def _log_perplexity(self, metrics: SplitMetrics, prefix: str) -> None:
        # exp of the epoch's mean NLL; computed from the synced mean, so every rank logs the same value
        self.log(f"{prefix}/perplexity", torch.exp(metrics.loss.compute()), sync_dist=True)

    def on_validation_epoch_end(self):
        self._log_perplexity(self.eval_metrics, self.eval_name)

    def on_test_epoch_end(self):
        self._log_perplexity(self.test_metrics, self.test_name)

    def on_save_checkpoint(self, checkpoint):
        checkpoint["schedule_steps"] = self.schedule_steps

    def on_load_checkpoint(self, checkpoint):
        # called before configure_optimizers when a run resumes
        self.resumed_schedule_steps = checkpoint.get("schedule_steps")

    def configure_optimizers(self):
        optimizer = OptimizerConfig(**(self.hparams.optim or {})).build(self.net.parameters(), self.hparams.lr)
        schedule = ScheduleConfig(**(self.hparams.schedule or {}))
        if schedule.name == "constant":
            return optimizer
        # from trainer.max_epochs (or max_steps), and from trainer.max_time when that ends the run first
        self.schedule_steps = self.trainer.estimated_stepping_batches
        check_resumed_length(schedule, self.resumed_schedule_steps, self.schedule_steps)
        scheduler = schedule.build(optimizer, self.schedule_steps, time_limit_fraction(self.trainer))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
