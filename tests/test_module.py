"""The LightningModule: the lab's loss, optimizer, per-epoch metrics and precision settings."""

import math

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from labtools.errors import UserError
from mozart_lstm.models import MozartLitModule, NetworkConfig
from mozart_lstm.models.module import check_model_settings
from tests.defaults import model_settings, network_settings

VOCAB = [f"T{i}" for i in range(12)]
SIZES = {"embedding_dim": 8, "hidden_size": 16, "num_layers": 2, "linear_sizes": [16]}
TINY = model_settings(**SIZES)  # conf/model's settings with a tiny network


def windows(n: int, seq_len: int = 6, seed: int = 0) -> TensorDataset:
    """Windows over a noisy cycle through the vocabulary, labelled with the next token."""
    generator = torch.Generator().manual_seed(seed)
    stream = torch.arange(n + seq_len) % len(VOCAB)
    noise = torch.rand(len(stream), generator=generator) < 0.1
    stream[noise] = torch.randint(0, len(VOCAB), (int(noise.sum()),), generator=generator)
    x = stream.unfold(0, seq_len, 1)[:n]
    return TensorDataset(x, stream[seq_len : seq_len + n])


@pytest.fixture
def fit(quiet_trainer):
    """fit(module, precision="32", test=False): one epoch on the toy windows; the metrics it logged."""

    def run(module, precision="32", test=False):
        trainer = quiet_trainer(max_epochs=1, precision=precision, num_sanity_val_steps=0)
        train = DataLoader(windows(64), batch_size=8, shuffle=True, drop_last=True)
        trainer.fit(module, train, DataLoader(windows(32, seed=1), batch_size=16))
        metrics = {key: float(value) for key, value in trainer.callback_metrics.items()}
        if test:
            trainer.test(module, DataLoader(windows(24, seed=2), batch_size=16), verbose=False)
            metrics |= {key: float(value) for key, value in trainer.callback_metrics.items()}
        return metrics

    return run


def test_nll_on_log_softmax_equals_the_labs_cross_entropy():
    """log_softmax is idempotent, so the lab's CrossEntropyLoss on LogSoftmax output is NLL on it."""
    torch.manual_seed(0)
    module = MozartLitModule(VOCAB, **TINY).eval()
    x, y = windows(16)[:]
    log_probs = module(x)
    lab_loss = nn.CrossEntropyLoss()(log_probs, y)
    assert torch.allclose(module.criterion(log_probs, y), lab_loss, atol=1e-6)
    logits = torch.randn(16, len(VOCAB)) * 5
    assert torch.allclose(nn.NLLLoss()(logits.log_softmax(1), y), nn.CrossEntropyLoss()(logits, y), atol=1e-5)


def test_optimizer_is_rmsprop_with_the_configured_rate():
    module = MozartLitModule(VOCAB, **TINY | {"lr": 0.0025})
    optimizer = module.configure_optimizers()
    assert isinstance(optimizer, torch.optim.RMSprop)
    assert optimizer.param_groups[0]["lr"] == 0.0025
    assert {id(p) for p in optimizer.param_groups[0]["params"]} == {id(p) for p in module.net.parameters()}


@pytest.mark.parametrize(
    ("key", "value"),
    [("hidden_size", 0), ("embedding_dim", -3), ("num_layers", 1.5), ("lr", 0), ("dropout", 1.0)],
)
def test_bad_settings_name_the_key(key, value):
    with pytest.raises(UserError, match=f"model.{key}"):
        check_model_settings(**(TINY | {key: value}))


def test_linear_sizes_are_checked():
    with pytest.raises(UserError, match=r"model.linear_sizes\[1\]"):
        MozartLitModule(VOCAB, **(TINY | {"linear_sizes": [8, 0]}))


def test_hparams_keep_the_vocabulary_but_the_logger_gets_its_size():
    module = MozartLitModule(VOCAB, **TINY)
    assert module.hparams.vocab == VOCAB and module.vocab == VOCAB
    logged = module.loggable_hparams()
    assert "model/vocab" not in logged and logged["model/vocab_size"] == len(VOCAB)
    assert logged["model/hidden_size"] == 16
    # as plain values (linear_sizes a list): a checkpoint names the whole network
    assert {key: module.hparams[key] for key in module.net.config.settings()} == module.net.config.settings()
    assert logged["model/dropout"] == 0.3 and logged["model/linear_sizes"] == [16]
    assert {"lr", "objective", "eval_name", "test_name"} <= module.hparams.keys()


def test_the_network_is_built_from_one_config():
    module = MozartLitModule(VOCAB, **TINY)
    assert module.net.config == NetworkConfig(len(VOCAB), **network_settings(**SIZES))
    with pytest.raises(TypeError, match="vocab_size"):
        MozartLitModule(VOCAB, vocab_size=3, **TINY)
    with pytest.raises(TypeError, match="vocab_size"):
        check_model_settings(vocab_size=3, **TINY)


def test_epoch_metrics_of_the_lab_split(fit):
    torch.manual_seed(0)
    metrics = fit(MozartLitModule(VOCAB, eval_name="test", **TINY))
    expected = {"train/loss", "train/acc", "test/loss", "test/acc", "test/acc_top5", "test/perplexity"}
    assert expected <= metrics.keys()
    assert not any(key.startswith("val/") for key in metrics)
    assert metrics["test/perplexity"] == pytest.approx(math.exp(metrics["test/loss"]), rel=1e-5)
    assert 0 <= metrics["test/acc"] <= metrics["test/acc_top5"] <= 1
    assert 0 <= metrics["train/acc"] <= 1


def test_three_way_split_logs_val_every_epoch_and_test_on_request(fit):
    torch.manual_seed(0)
    metrics = fit(MozartLitModule(VOCAB, eval_name="val", **TINY), test=True)
    assert {"val/loss", "val/acc", "val/acc_top5", "val/perplexity"} <= metrics.keys()
    assert {"test/loss", "test/acc", "test/acc_top5", "test/perplexity"} <= metrics.keys()


def test_accuracy_is_micro_accuracy_of_the_argmax():
    """torchmetrics' MulticlassAccuracy defaults to a macro average; the lab means the share of hits."""
    module = MozartLitModule(VOCAB, **TINY)
    log_probs = torch.full((4, len(VOCAB)), -10.0)
    log_probs[torch.arange(4), torch.tensor([0, 0, 0, 5])] = 0.0
    y = torch.tensor([0, 0, 0, 1])
    module.eval_metrics.update(torch.tensor(1.0), log_probs, y)
    assert module.eval_metrics.acc.compute().item() == pytest.approx(0.75)


@pytest.mark.parametrize("precision", ["32", "bf16-mixed"])
def test_training_runs_at_both_precisions_on_cpu(fit, precision):
    torch.manual_seed(0)
    module = MozartLitModule(VOCAB, **TINY)
    before = [p.detach().clone() for p in module.net.parameters()]
    metrics = fit(module, precision=precision)
    assert math.isfinite(metrics["train/loss"]) and math.isfinite(metrics["test/loss"])
    assert any(not torch.equal(b, p) for b, p in zip(before, module.net.parameters(), strict=True))
    assert all(p.dtype == torch.float32 for p in module.net.parameters())  # mixed: weights stay fp32


def test_a_nan_batch_loss_makes_the_epoch_mean_nan_without_a_warning(recwarn):
    """A diverged run must show in train/loss: the mean keeps a NaN instead of dropping it with a warning."""
    metrics = MozartLitModule(VOCAB, **TINY).train_metrics
    log_probs, y = torch.zeros(2, len(VOCAB)), torch.tensor([0, 1])
    metrics.update(torch.tensor(1.0), log_probs, y)
    metrics.update(torch.tensor(float("nan")), log_probs, y)
    assert math.isnan(metrics.loss.compute())
    assert not recwarn.list


def test_no_per_batch_argument_checks_in_the_metrics():
    module = MozartLitModule(VOCAB, **TINY)
    accuracies = [m.acc for m in (module.train_metrics, module.eval_metrics)] + [module.eval_metrics.acc_top5]
    assert not any(accuracy.validate_args for accuracy in accuracies)


def test_the_progress_bar_loss_is_read_as_often_as_the_logger_logs(quiet_trainer, monkeypatch):
    """Logging a tensor to the progress bar reads it back to the host, which stalls a GPU: not every step."""
    module = MozartLitModule(VOCAB, **TINY)
    logged_at = []
    log = module.log

    def spy(name, value, *args, **kwargs):
        if name == "loss":
            logged_at.append(module.trainer.fit_loop.epoch_loop.batch_idx)
        return log(name, value, *args, **kwargs)

    monkeypatch.setattr(module, "log", spy)
    trainer = quiet_trainer(max_epochs=1, log_every_n_steps=3, limit_val_batches=0)
    trainer.fit(module, DataLoader(windows(64), batch_size=8, drop_last=True))
    assert logged_at == [0, 3, 6]
    assert "loss" in trainer.progress_bar_metrics


def test_the_epoch_loss_weighs_each_batch_by_its_windows():
    """A short last batch counts for its windows only, as the lab's mean over all windows does."""
    metrics = MozartLitModule(VOCAB, **TINY).eval_metrics
    metrics.update(torch.tensor(1.0), torch.zeros(3, len(VOCAB)), torch.zeros(3, dtype=torch.long))
    metrics.update(torch.tensor(5.0), torch.zeros(1, len(VOCAB)), torch.zeros(1, dtype=torch.long))
    assert float(metrics.loss.compute()) == pytest.approx((3 * 1.0 + 1 * 5.0) / 4)


def record_network_calls(module) -> list[dict]:
    """Every call of the module's network: training or not, the batch size, the state it started and ended with."""
    calls = []
    forward = module.net.forward

    def recording(x, hidden=None, all_positions=False):
        log_probs, state = forward(x, hidden, all_positions)
        calls.append({"training": module.net.training, "size": len(x), "start": hidden, "end": state})
        return log_probs, state

    module.net.forward = recording
    return calls


@pytest.mark.parametrize("objective", ["last", "all"])
def test_carry_state_starts_each_training_batch_from_the_last_ones_state_detached(quiet_trainer, objective):
    """The lab's Problem 3 loop: (h, c) goes from batch to batch, detached; zero at each epoch's start, when the
    batch size changes, and in evaluation."""
    torch.manual_seed(0)
    module = MozartLitModule(VOCAB, **TINY | {"carry_state": True, "objective": objective})
    calls = record_network_calls(module)
    train = windows(20)
    if objective == "all":  # a label at every position: the next token after each
        train = TensorDataset(train.tensors[0], torch.cat([train.tensors[0][:, 1:], train.tensors[1][:, None]], 1))
    trainer = quiet_trainer(max_epochs=2, num_sanity_val_steps=0)
    trainer.fit(module, DataLoader(train, batch_size=8, shuffle=True), DataLoader(windows(16, seed=1), batch_size=16))
    training = [call for call in calls if call["training"]]
    assert [call["size"] for call in training] == [8, 8, 4] * 2  # 20 windows: the last batch holds 4
    for first, second, short in (training[:3], training[3:]):
        assert first["start"] is None  # a new epoch starts from zero
        for carried, ended in zip(second["start"], first["end"], strict=True):
            assert torch.equal(carried, ended) and ended.requires_grad and not carried.requires_grad
        assert short["start"] is None  # 4 windows cannot start from the state of 8
    evaluation = [call for call in calls if not call["training"]]
    assert len(evaluation) == 2 and all(call["start"] is None for call in evaluation)


def test_carry_state_changes_the_loss_and_is_off_by_default(quiet_trainer):
    x, y = windows(16)[:]
    losses = {}
    for carry in (False, True):
        torch.manual_seed(0)
        module = MozartLitModule(VOCAB, **TINY | {"carry_state": carry, "dropout": 0.0})
        calls = record_network_calls(module)
        module.training_step((x[:8], y[:8]), 0)
        losses[carry] = float(module.training_step((x[8:], y[8:]), 1))
        assert (calls[1]["start"] is not None) == carry
    assert MozartLitModule(VOCAB, **TINY).carry_state is False
    assert losses[True] != pytest.approx(losses[False])  # the carried state reaches the loss


def test_carry_state_must_be_a_boolean():
    with pytest.raises(UserError, match=r"^model.carry_state='yes': must be true or false$"):
        check_model_settings(**TINY | {"carry_state": "yes"})
