"""The lab's network: layer structure, output shape, a probability distribution, the zero state."""

import dataclasses

import pytest
import torch
from torch import nn

from labtools.errors import UserError
from mozart_lstm.models import MozartLSTM, NetworkConfig
from tests.defaults import network_settings

VOCAB = 50


def network(**changes) -> NetworkConfig:
    """conf/model's network (the lab's) over VOCAB tokens, with `changes`."""
    return NetworkConfig(VOCAB, **network_settings(**changes))


def forward_order(model: MozartLSTM) -> list[nn.Module]:
    """The layers in the order forward() applies them."""
    return [model.embedding, model.lstm, model.lstm_dropout, *model.head]


def test_layer_structure_is_the_labs():
    model = MozartLSTM(network())  # conf/model's: the lab's network
    layers = forward_order(model)
    kinds = [type(layer) for layer in layers]

    embedding, lstm, lstm_dropout = layers[:3]
    assert (embedding.num_embeddings, embedding.embedding_dim) == (VOCAB, 32)
    assert (lstm.input_size, lstm.hidden_size, lstm.num_layers) == (32, 512, 3)
    assert lstm.batch_first and lstm.dropout == pytest.approx(0.3)
    # nn.LSTM drops out between layers only: the last layer needs its own Dropout
    assert isinstance(lstm_dropout, nn.Dropout) and lstm_dropout.p == pytest.approx(0.3)

    head = layers[3:]
    assert isinstance(head[0], nn.BatchNorm1d) and head[0].num_features == 512
    assert isinstance(head[1], nn.Dropout) and head[1].p == pytest.approx(0.3)
    assert kinds.count(nn.Linear) >= 2
    assert kinds.count(nn.BatchNorm1d) >= 3
    linear_at = [i for i, kind in enumerate(kinds) if kind is nn.Linear]
    for i in linear_at:  # every Linear is followed by a BatchNorm1d of its width
        assert isinstance(layers[i + 1], nn.BatchNorm1d)
        assert layers[i + 1].num_features == layers[i].out_features
    for first, second in zip(linear_at, linear_at[1:], strict=False):  # a nonlinearity between Linears
        assert any(isinstance(layer, nn.ReLU | nn.Tanh | nn.GELU) for layer in layers[first:second])
    assert layers[linear_at[-1]].out_features == VOCAB
    assert isinstance(layers[-1], nn.LogSoftmax) and layers[-1].dim == 1


def test_more_hidden_linears_keep_the_pattern():
    model = MozartLSTM(network(hidden_size=16, linear_sizes=(24, 12)))
    kinds = [type(layer) for layer in forward_order(model)]
    assert kinds.count(nn.Linear) == 3 and kinds.count(nn.BatchNorm1d) == 4


@pytest.mark.parametrize("train_mode", [True, False])
def test_output_is_a_log_distribution_per_window(train_mode):
    torch.manual_seed(0)
    model = MozartLSTM(network(embedding_dim=8, hidden_size=16, num_layers=3)).train(train_mode)
    x = torch.randint(0, VOCAB, (6, 11))
    log_probs, (h, c) = model(x)
    assert log_probs.shape == (6, VOCAB)
    assert torch.allclose(log_probs.exp().sum(dim=1), torch.ones(6), atol=1e-5)
    assert h.shape == c.shape == (3, 6, 16)


def test_init_hidden_is_zero_on_the_parameters_device_and_dtype():
    model = MozartLSTM(network(embedding_dim=8, hidden_size=16, num_layers=2)).double()
    h, c = model.init_hidden(5)
    assert h.shape == c.shape == (2, 5, 16)
    assert h.dtype == c.dtype == torch.float64 and h.device == model.lstm.weight_hh_l0.device
    assert not h.any() and not c.any()


def test_every_batch_starts_from_zero_state():
    torch.manual_seed(0)
    model = MozartLSTM(network(embedding_dim=8, hidden_size=16)).eval()
    x = torch.randint(0, VOCAB, (4, 7))
    from_none, _ = model(x)
    from_zeros, _ = model(x, model.init_hidden(4))
    _, warm = model(torch.randint(0, VOCAB, (4, 7)))
    from_warm, _ = model(x, warm)
    assert torch.equal(from_none, from_zeros)
    assert not torch.allclose(from_none, from_warm)


def test_a_single_step_matches_nn_lstm():
    """forward() writes one eval-mode time step out (fast on a CPU); it must equal nn.LSTM's step."""
    torch.manual_seed(0)
    model = MozartLSTM(network(embedding_dim=8, hidden_size=16, num_layers=3)).eval()
    x = torch.randint(0, VOCAB, (4, 6))
    with torch.no_grad():
        _, state = model(x[:, :5])
        log_probs, (h, c) = model(x[:, 5:], state)
        out, (h_ref, c_ref) = model.lstm(model.embedding(x[:, 5:]), state)
        expected = model.head(out[:, -1])
    torch.testing.assert_close(log_probs, expected)
    torch.testing.assert_close(h, h_ref)
    torch.testing.assert_close(c, c_ref)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"embedding_dim": 0}, "model.embedding_dim=0: must be a whole number >= 1"),
        ({"hidden_size": 16.0}, "model.hidden_size=16.0: must be a whole number >= 1"),
        ({"num_layers": True}, "model.num_layers=True: must be a whole number >= 1"),
        ({"linear_sizes": [8, -1]}, "model.linear_sizes[1]=-1: must be a whole number >= 1"),
        ({"linear_sizes": []}, "model.linear_sizes=[]: the lab's head needs a hidden Linear layer, e.g. [256]"),
        ({"linear_sizes": 256}, "model.linear_sizes=256: must be a list of whole numbers, e.g. [256]"),
        ({"dropout": 1.0}, "model.dropout=1.0: must be in [0, 1)"),
        ({"dropout": "0.3"}, "model.dropout='0.3': must be in [0, 1)"),
        ({"vocab_size": 0}, "vocab_size=0: must be a whole number >= 1"),
    ],
)
def test_bad_settings_are_one_line_user_errors_naming_the_key(settings, message):
    with pytest.raises(UserError) as err:
        NetworkConfig(**({"vocab_size": VOCAB} | network_settings() | settings))
    assert str(err.value) == message


def test_config_is_frozen_and_keeps_yaml_lists_as_tuples():
    config = network(linear_sizes=[24, 12])
    assert config.linear_sizes == (24, 12) and hash(config) == hash(network(linear_sizes=(24, 12)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.hidden_size = 8
    assert config.settings()["linear_sizes"] == [24, 12] and "vocab_size" not in config.settings()
    assert NetworkConfig.from_settings(VOCAB, config.settings() | {"lr": 0.1}) == config
