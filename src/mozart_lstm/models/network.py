"""The lab's network: Embedding → 3-layer LSTM → BatchNorm/Dropout/Linear blocks → LogSoftmax."""

import torch
import torch.nn.functional as F
from torch import nn


class MozartLSTM(nn.Module):
    """Predicts the next token's log-probabilities from a window of token ids.

    Every LSTM layer is followed by dropout: nn.LSTM applies `dropout` between layers only,
    so the last layer gets an explicit Dropout. Each Linear is followed by a BatchNorm1d.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int = 32,
        hidden_size: int = 512,
        num_layers: int = 3,
        dropout: float = 0.3,
        linear_sizes: tuple[int, ...] = (256,),
    ):
        super().__init__()
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, num_layers, batch_first=True, dropout=dropout)
        self.lstm_dropout = nn.Dropout(dropout)

        blocks: list[nn.Module] = [nn.BatchNorm1d(hidden_size), nn.Dropout(dropout)]
        width = hidden_size
        for size in linear_sizes:
            blocks += [nn.Linear(width, size), nn.BatchNorm1d(size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        blocks += [nn.Linear(width, vocab_size), nn.BatchNorm1d(vocab_size), nn.LogSoftmax(dim=1)]
        self.head = nn.Sequential(*blocks)

    def init_hidden(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        weight = self.lstm.weight_hh_l0
        shape = (self.num_layers, batch_size, self.hidden_size)
        return weight.new_zeros(shape), weight.new_zeros(shape)

    def forward(self, x: torch.Tensor, hidden=None, all_positions: bool = False):
        """x: (batch, seq) token ids. Returns (log_probs (batch, vocab), (h, c)): the next token after the window.

        With `all_positions`, log_probs is (batch, seq, vocab): the next token after every position. The head's
        BatchNorm layers then see batch x seq rows.
        """
        if hidden is None:
            hidden = self.init_hidden(x.shape[0])
        embedded = self.embedding(x)
        on_cpu = embedded.device.type == "cpu"
        if on_cpu and torch.is_autocast_enabled("cpu"):
            # oneDNN has no bfloat16 LSTM on CPUs without AVX-512 and raises; under CPU autocast
            # (precision=bf16-mixed) the LSTM runs in float32 and the head in bfloat16.
            with torch.autocast("cpu", enabled=False):
                out, hidden = self.lstm(embedded.float(), hidden)
        elif on_cpu and x.shape[1] == 1 and not self.training:
            out, hidden = self._one_step(embedded, hidden)
        else:
            out, hidden = self.lstm(embedded, hidden)
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
        for layer in range(self.num_layers):
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
