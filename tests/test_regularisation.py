"""AWD-LSTM's regularisers and the head switch: embedding dropout, weight-drop, head_batchnorm, their checks, and
checkpoints that carry them (or predate them)."""

import pytest
import torch
from torch import nn

from labtools.errors import UserError
from mozart_lstm.models import MozartLitModule, MozartLSTM, NetworkConfig, read_checkpoint
from tests.defaults import model_settings, network_settings

VOCAB = 20
TINY = {"embedding_dim": 8, "hidden_size": 16, "num_layers": 2, "linear_sizes": (16,)}


def network(seed: int = 0, **settings) -> MozartLSTM:
    torch.manual_seed(seed)
    return MozartLSTM(NetworkConfig(VOCAB, **network_settings(**TINY | settings)))


def windows(seed: int = 1) -> torch.Tensor:
    return torch.randint(0, VOCAB, (6, 8), generator=torch.Generator().manual_seed(seed))


def test_the_defaults_are_the_labs_network_bitwise():
    lab, default = network(), network(embedding_dropout=0.0, weight_drop=0.0, head_batchnorm=True)
    x = windows()
    for model in (lab, default):
        model.train()
    torch.manual_seed(5)
    expected = lab(x)[0]
    torch.manual_seed(5)
    assert torch.equal(default(x)[0], expected)
    assert sum(isinstance(layer, nn.BatchNorm1d) for layer in lab.head) == 3


@pytest.mark.parametrize("settings", [{"weight_drop": 0.5}, {"embedding_dropout": 0.5}])
def test_a_regulariser_changes_training_outputs_but_not_evaluation(settings):
    plain, dropped = network(dropout=0.0), network(dropout=0.0, **settings)
    dropped.load_state_dict(plain.state_dict())
    x = windows()
    plain.train()
    dropped.train()
    # BatchNorm in train mode is deterministic: only the regulariser's masks differ between these
    assert not torch.allclose(dropped(x)[0], plain(x)[0])
    assert not torch.allclose(dropped(x)[0], dropped(x)[0])
    plain.load_state_dict(dropped.state_dict())  # the BatchNorm running statistics those steps left
    plain.eval()
    dropped.eval()
    assert torch.equal(dropped(x)[0], plain(x)[0])


def test_weight_drop_masks_only_the_recurrent_weights_and_leaves_them_intact():
    model = network(weight_drop=0.5).train()
    before = {name: weight.clone() for name, weight in model.lstm.named_parameters()}
    model(windows())[0].sum().backward()
    grads = {name: weight.grad for name, weight in model.lstm.named_parameters()}
    # DropConnect zeroes the gradient of about half the recurrent weights, none of the input weights
    assert 0.3 < (grads["weight_hh_l0"] == 0).float().mean() < 0.7
    assert (grads["weight_ih_l0"] == 0).float().mean() < 0.1
    assert all(torch.equal(weight, before[name]) for name, weight in model.lstm.named_parameters())
    # the mask is gone after the training step: evaluation uses the parameters themselves
    fresh = network(weight_drop=0.5)
    fresh.load_state_dict(model.state_dict())
    model.eval()
    fresh.eval()
    assert torch.equal(model(windows())[0], fresh(windows())[0])


def test_the_stateful_single_step_path_agrees_with_the_window_after_training():
    model = network(weight_drop=0.5, embedding_dropout=0.2)
    model.train()
    model(windows())
    model.eval()
    x = windows()[:1]
    whole = model(x)[0]
    hidden = None
    for position in range(x.shape[1]):
        step, hidden = model(x[:, position : position + 1], hidden)
    assert torch.allclose(step, whole, atol=1e-5)


def test_embedding_dropout_drops_a_token_wherever_it_occurs():
    model = network(embedding_dropout=0.5).train()
    x = torch.arange(VOCAB).repeat(4, 2)  # every token at two positions of each of four windows
    embedded = model.embedding(x)
    dropped = (embedded == 0).all(dim=-1)
    per_token = [dropped[x == token] for token in range(VOCAB)]
    assert all(positions.all() or not positions.any() for positions in per_token)
    assert 0 < sum(bool(positions[0]) for positions in per_token) < VOCAB
    kept = ~dropped
    assert torch.allclose(embedded[kept], 2 * model.embedding.weight[x[kept]])  # scaled by 1 / (1 - 0.5)


def test_head_batchnorm_off_removes_only_the_logits_norm():
    lab, plain = network(), network(head_batchnorm=False)
    assert len(plain.head) == len(lab.head) - 1 and isinstance(plain.head[-2], nn.Linear)
    assert lab.state_dict().keys() - plain.state_dict().keys() == {
        f"head.{len(lab.head) - 2}.{name}"
        for name in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
    }


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"embedding_dropout": 1.0}, "model.embedding_dropout=1.0: must be in [0, 1)"),
        ({"weight_drop": -0.1}, "model.weight_drop=-0.1: must be in [0, 1)"),
        ({"weight_drop": "0.3"}, "model.weight_drop='0.3': must be in [0, 1)"),
        ({"head_batchnorm": "no"}, "model.head_batchnorm='no': must be true or false"),
    ],
)
def test_bad_values_are_one_line_naming_the_key(settings, message):
    with pytest.raises(UserError) as err:
        NetworkConfig(VOCAB, **network_settings(**settings))
    assert str(err.value) == message


def save_module(path, **settings):
    """A Lightning-format checkpoint of a fresh module, as ModelCheckpoint would store it."""
    module = MozartLitModule([f"T{i}" for i in range(VOCAB)], **model_settings(**TINY | settings))
    hparams = dict(module.hparams)
    state = {f"net.{key}": value for key, value in module.net.state_dict().items()}
    torch.save({"epoch": 0, "state_dict": state, "hyper_parameters": hparams}, path)
    return hparams


def test_a_checkpoint_carries_the_regularisers_and_generation_rebuilds_them(tmp_path):
    settings = {"embedding_dropout": 0.1, "weight_drop": 0.25, "head_batchnorm": False}
    hparams = save_module(tmp_path / "new.ckpt", **settings)
    assert {key: hparams[key] for key in settings} == settings
    saved = read_checkpoint(tmp_path / "new.ckpt")
    assert saved.network == NetworkConfig(VOCAB, **network_settings(**TINY | settings))
    model = saved.build_network()
    assert model.lstm.weight_drop == 0.25 and not model.training


def test_a_checkpoint_from_before_the_regularisers_loads_as_the_labs_network(tmp_path):
    hparams = save_module(tmp_path / "new.ckpt")
    old = torch.load(tmp_path / "new.ckpt", weights_only=True)
    for key in ("embedding_dropout", "weight_drop", "head_batchnorm", "optim", "schedule"):
        del old["hyper_parameters"][key]
    torch.save(old, tmp_path / "old.ckpt")
    saved = read_checkpoint(tmp_path / "old.ckpt")
    assert saved.network == NetworkConfig(VOCAB, **network_settings(**TINY)) and hparams["weight_drop"] == 0.0
    assert isinstance(saved.optimizer.build(saved.build_network().parameters(), saved.lr), torch.optim.RMSprop)
