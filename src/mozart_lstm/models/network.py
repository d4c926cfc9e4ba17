"""The lab's network: Embedding → 3-layer LSTM → BatchNorm/Dropout/Linear blocks → LogSoftmax."""

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

from labtools.checks import is_number, is_whole
from labtools.errors import UserError
from mozart_lstm.models.precision import lstm_must_leave_autocast


@dataclass(frozen=True)
class NetworkConfig:
    """The network's settings: the one place that names them. The conf/model keys of the same names feed it, and
    conf/model/lstm.yaml holds their defaults (the lab's network): every field is required here.

    Checks itself on construction; each message names the `model.<key>` a user sets. `vocab_size` comes from
    the data, not from a config key.
    """

    vocab_size: int
    embedding_dim: int
    hidden_size: int
    num_layers: int
    dropout: float
    linear_sizes: tuple[int, ...]
    # AWD-LSTM's regularisers, off in the lab's network: whole token embeddings dropped (a dropped token is
    # dropped wherever it occurs in the batch), and DropConnect on the LSTM's hidden-to-hidden weights
    embedding_dropout: float
    weight_drop: float
    # the BatchNorm1d on the output logits, the lab's last layer
    head_batchnorm: bool

    def __post_init__(self):
        sizes = self.linear_sizes
        if isinstance(sizes, str) or not isinstance(sizes, Sequence):
            raise UserError(f"model.linear_sizes={sizes!r}: must be a list of whole numbers, e.g. [256]")
        # a tuple, so that the frozen config stays hashable when a YAML list built it
        object.__setattr__(self, "linear_sizes", tuple(sizes))
        counts = {"vocab_size": self.vocab_size, "model.embedding_dim": self.embedding_dim}
        counts |= {"model.hidden_size": self.hidden_size, "model.num_layers": self.num_layers}
        counts |= {f"model.linear_sizes[{i}]": size for i, size in enumerate(sizes)}
        for key, value in counts.items():
            if not is_whole(value):
                raise UserError(f"{key}={value!r}: must be a whole number >= 1")
        if not sizes:
            raise UserError("model.linear_sizes=[]: the lab's head needs a hidden Linear layer, e.g. [256]")
        for key in ("dropout", "embedding_dropout", "weight_drop"):
            value = getattr(self, key)
            if not is_number(value) or not 0 <= value < 1:
                raise UserError(f"model.{key}={value!r}: must be in [0, 1)")
        if not isinstance(self.head_batchnorm, bool):
            raise UserError(f"model.head_batchnorm={self.head_batchnorm!r}: must be true or false")

    @classmethod
    def from_settings(cls, vocab_size: int, settings: dict) -> "NetworkConfig":
        """The config from a dict that may hold other keys too (the model config, a checkpoint's hyperparameters).
        Every field must be there: mozart_lstm.legacy fills in those an old checkpoint lacks."""
        names = {field.name for field in fields(cls)} - {"vocab_size"}
        return cls(vocab_size, **{key: value for key, value in settings.items() if key in names})

    def settings(self) -> dict:
        """The config keys as plain values, vocab_size left out (the data gives it): what checkpoints store.
        Lists, not tuples, so that hparams.yaml and TensorBoard read them as they read the config's."""
        values = asdict(self) | {"linear_sizes": list(self.linear_sizes)}
        del values["vocab_size"]
        return values

    def weights_without_vocab(self) -> int:
        """The network's weights but the vocabulary-sized embedding and output layer (unknown before the data)."""
        h = self.hidden_size
        first = 4 * h * (self.embedding_dim + h + 2)
        later = (self.num_layers - 1) * 4 * h * (2 * h + 2)
        sizes = [h, *self.linear_sizes]
        head = sum(a * b + 3 * b for a, b in zip(sizes, sizes[1:], strict=False))
        return first + later + head


class TokenDropEmbedding(nn.Embedding):
    """nn.Embedding that, while training, drops whole vocabulary rows (AWD-LSTM's embedding dropout): one draw
    per token per forward, scaled like nn.Dropout, so a dropped token is zero wherever it occurs in the batch."""

    def __init__(self, *args, token_drop: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.token_drop = token_drop

    def forward(self, input):
        if not self.training or not self.token_drop:
            return super().forward(input)
        keep = self.weight.new_empty(self.num_embeddings, 1).bernoulli_(1 - self.token_drop) / (1 - self.token_drop)
        return F.embedding(input, self.weight * keep)


class WeightDropLSTM(nn.LSTM):
    """nn.LSTM with DropConnect on its hidden-to-hidden weights (`weight_hh_l*`) while training: a fresh mask
    per forward, shared by every time step, so the fused kernel still runs the whole window. Without
    `weight_drop`, or in eval(), it is nn.LSTM.

    The dropped weights are handed to nn.LSTM through its list of flat weights, which its forward reads.
    torch.func.functional_call would do the same but, on torch 2.13, leaves the dropped tensors in that list
    afterwards, so that eval() would go on using the last training mask.
    """

    def __init__(self, *args, weight_drop: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.weight_drop = weight_drop

    def forward(self, input, hx=None):
        if not self.training or not self.weight_drop:
            return super().forward(input, hx)
        weights = self._flat_weights
        self._flat_weights = [
            F.dropout(weight, self.weight_drop) if name.startswith("weight_hh") else weight
            for name, weight in zip(self._flat_weights_names, weights, strict=True)
        ]
        try:
            return super().forward(input, hx)
        finally:
            self._flat_weights = weights


class MozartLSTM(nn.Module):
    """Predicts the next token's log-probabilities from a window of token ids.

    Every LSTM layer is followed by dropout: nn.LSTM applies `dropout` between layers only,
    so the last layer gets an explicit Dropout. Each Linear is followed by a BatchNorm1d, and so are the
    output logits unless `head_batchnorm` is off.
    """

    def __init__(self, config: NetworkConfig):
        super().__init__()
        self.config = config
        hidden, dropout, vocab_size = config.hidden_size, config.dropout, config.vocab_size
        self.embedding = TokenDropEmbedding(vocab_size, config.embedding_dim, token_drop=config.embedding_dropout)
        self.lstm = WeightDropLSTM(
            config.embedding_dim,
            hidden,
            config.num_layers,
            batch_first=True,
            dropout=dropout,
            weight_drop=config.weight_drop,
        )
        self.lstm_dropout = nn.Dropout(dropout)

        blocks: list[nn.Module] = [nn.BatchNorm1d(hidden), nn.Dropout(dropout)]
        width = hidden
        for size in config.linear_sizes:
            blocks += [nn.Linear(width, size), nn.BatchNorm1d(size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        logits_norm = [nn.BatchNorm1d(vocab_size)] if config.head_batchnorm else []
        blocks += [nn.Linear(width, vocab_size), *logits_norm, nn.LogSoftmax(dim=1)]
        self.head = nn.Sequential(*blocks)

    def init_hidden(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        weight = self.lstm.weight_hh_l0
        shape = (self.config.num_layers, batch_size, self.config.hidden_size)
        return weight.new_zeros(shape), weight.new_zeros(shape)

    def forward(self, x: torch.Tensor, hidden=None, all_positions: bool = False):
        """x: (batch, seq) token ids. Returns (log_probs (batch, vocab), (h, c)): the next token after the window.

        With `all_positions`, log_probs is (batch, seq, vocab): the next token after every position. The head's
        BatchNorm layers then see batch x seq rows.
        """
        if hidden is None:
            hidden = self.init_hidden(x.shape[0])
        embedded = self.embedding(x)
        device_type = embedded.device.type
        on_cpu = device_type == "cpu"
        if lstm_must_leave_autocast(device_type):
            # the precision policy (models/precision.py): float32 LSTM, the head under autocast
            with torch.autocast(device_type, enabled=False):
                out, hidden = self.lstm(embedded.float(), hidden)
        elif on_cpu and x.shape[1] == 1 and not self.training:
            out, hidden = self._one_step(embedded, hidden)
        else:
            out, hidden = self.lstm(embedded, hidden)
            # under autocast the state comes back in 16 bits: carried on, it would be rounded at every batch
            hidden = tuple(state.to(self.lstm.weight_hh_l0.dtype) for state in hidden)
        if not all_positions:
            return self.head(self.lstm_dropout(out[:, -1])), hidden
        log_probs = self.head(self.lstm_dropout(out.reshape(-1, out.shape[-1])))
        return log_probs.reshape(*out.shape[:2], -1), hidden

    def _one_step(self, embedded: torch.Tensor, hidden):
        """One time step through every layer (stateful generation), written out.

        On a CPU nn.LSTM hands each call to oneDNN, which re-lays-out every weight matrix first: for a single
        step that costs ~10x the step itself. These are the same products, reading each weight once.
        """
        h0, c0 = hidden
        out = embedded[:, 0]
        hs, cs = [], []
        for layer in range(self.config.num_layers):
            weights = [
                getattr(self.lstm, f"{name}_l{layer}") for name in ("weight_ih", "bias_ih", "weight_hh", "bias_hh")
            ]
            gates = F.linear(out, weights[0], weights[1]) + F.linear(h0[layer], weights[2], weights[3])
            i, f, g, o = gates.chunk(4, dim=1)
            c = torch.sigmoid(f) * c0[layer] + torch.sigmoid(i) * torch.tanh(g)
            out = torch.sigmoid(o) * torch.tanh(c)
            hs.append(out)
            cs.append(c)
        return out[:, None], (torch.stack(hs), torch.stack(cs))
