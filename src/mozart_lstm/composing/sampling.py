"""Problem 4: predict the next tokens, one at a time, from a seed window.

`mode="window"` is the lab's loop: feed the last `seq_len` tokens, append the prediction, drop the
first token, repeat; every token costs a full pass of `seq_len` LSTM steps.
`mode="stateful"` reads the seed window once, then feeds one token at a time and carries (h, c): one
LSTM step per token. It is an approximation of the windowed model: the network was trained on windows
that start from a zero state, while the carried state remembers the whole piece so far. Its first
prediction (from the seed window) is exactly the windowed one; later ones drift apart.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from labtools.checks import is_number, is_positive, is_whole
from labtools.errors import check_fields

MODES = ("window", "stateful")
SAMPLINGS = ("argmax", "temperature")
FIXED_POINT_UNITS = 2**52


@dataclass(frozen=True)
class Sampler:
    """How the next token is chosen from the model's log-probabilities.

    `sampling="argmax"` is the lab's choice. With `"temperature"` the token is drawn from
    softmax(log_probs / temperature), restricted to the `top_k` likeliest tokens and/or to the smallest
    set whose probability reaches `top_p`. `repetition_penalty` > 1 raises the probability of every
    token already in the window to that power before choosing (1.0 turns it off), for both samplings.
    """

    sampling: str = "argmax"
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    repetition_penalty: float = 1.0

    def __post_init__(self):
        """Each field is judged here and only here; the message starts with the field as a config sets it."""
        top_k, top_p, penalty = self.top_k, self.top_p, self.repetition_penalty
        problems = [
            (self.sampling not in SAMPLINGS, f"sampling={self.sampling!r}: must be one of {SAMPLINGS}"),
            (not is_positive(self.temperature), f"temperature={self.temperature!r}: must be a finite number > 0"),
            (top_k is not None and not is_whole(top_k), f"top_k={top_k!r}: must be an integer >= 1 or null"),
            (
                top_p is not None and (not is_number(top_p) or not 0 < top_p <= 1),
                f"top_p={top_p!r}: must be in (0, 1] or null",
            ),
            (
                not (is_number(penalty) and 1 <= penalty < math.inf),
                f"repetition_penalty={penalty!r}: must be a finite number >= 1 (1 turns it off)",
            ),
        ]
        check_fields(problems)

    def choose(self, log_probs: torch.Tensor, recent: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """One token id per row of `log_probs` (batch, vocab); `recent` (batch, window) are the ids in view."""
        # float64, so that a temperature of 1e-300 or a penalty of 1e300 stays finite (MPS has no float64)
        log_probs = log_probs.to(torch.float32 if log_probs.device.type == "mps" else torch.float64)
        if self.repetition_penalty != 1.0:
            seen = torch.zeros_like(log_probs, dtype=torch.bool).scatter_(1, recent, True)
            log_probs = torch.where(seen, log_probs * self.repetition_penalty, log_probs)
        if self.sampling == "argmax":
            return log_probs.argmax(dim=1)
        probs = torch.softmax(log_probs / self.temperature, dim=1)
        if self.top_k is not None:
            kth = probs.topk(min(self.top_k, probs.shape[1]), dim=1).values[:, -1:]
            probs = torch.where(probs >= kth, probs, 0.0)
        if self.top_p is not None:
            sorted_probs, order = probs.sort(dim=1, descending=True)
            # in fixed point: CUDA has no deterministic float cumsum (it raises under
            # torch.use_deterministic_algorithms, as trainer.deterministic=true sets), while an integer sum is
            # exact in any order; 2**52 units keep float64's resolution and sum to well under int64's range
            units = (sorted_probs * FIXED_POINT_UNITS).round().long()
            mass_before = units.cumsum(dim=1) - units
            # float64: a long tensor times a Python float is float32, where top_p=1e-300 would round to 0
            keep_sorted = mass_before < self.top_p * units.sum(dim=1, keepdim=True).double()
            probs = torch.where(torch.zeros_like(keep_sorted).scatter_(1, order, keep_sorted), probs, 0.0)
        return torch.multinomial(probs, 1, generator=generator).squeeze(1)


ARGMAX = Sampler()


def check_run(n_notes, mode) -> None:
    if not is_whole(n_notes):
        raise ValueError(f"n_notes must be an integer >= 1, got {n_notes!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")


@torch.inference_mode()
def generate_ids(
    model,
    seed_ids: torch.Tensor,
    n_notes: int = 500,
    *,
    sampler: Sampler = ARGMAX,
    mode: str = "window",
    window: int | None = None,
    seed: int | None = 0,
    progress=None,
) -> torch.Tensor:
    """Continue every row of `seed_ids` (batch, seq) by `n_notes` tokens; return (batch, seq + n_notes).

    The rows are generated together as one batch. `mode="window"` feeds the last `window` tokens
    (None: the seed's length) at every step. `sampler` chooses each token; `seed` seeds its draws
    (`sampling="temperature"`). `progress`, when given, wraps the iterable of steps (a tqdm bar).
    """
    check_run(n_notes, mode)
    device = next(model.parameters(), torch.empty(0)).device  # a model without weights (the n-gram): the CPU
    ids = torch.as_tensor(seed_ids, dtype=torch.long, device=device)
    if ids.ndim != 2 or ids.shape[1] == 0:
        raise ValueError(f"seed_ids must have shape (batch, seq) with seq >= 1, got {tuple(ids.shape)}")
    generator = torch.Generator(device=device)
    if seed is not None:
        generator.manual_seed(seed)
    window = window or ids.shape[1]

    was_training = model.training
    model.eval()
    try:
        log_probs, hidden = model(ids[:, -window:])
        for step in range(n_notes) if progress is None else progress(range(n_notes)):
            if step and mode == "window":
                log_probs, _ = model(ids[:, -window:])
            elif step:
                log_probs, hidden = model(ids[:, -1:], hidden)
            token = sampler.choose(log_probs, ids[:, -window:], generator)
            ids = torch.cat([ids, token[:, None]], dim=1)
    finally:
        model.train(was_training)
    return ids.cpu()


def predict_notes(model, vocab: Sequence[str], seed_tokens: Sequence, n_notes: int = 500, **sampling) -> list[str]:
    """Return the seed followed by `n_notes` predicted tokens (600 strings for the lab's 100 + 500).

    `vocab` is the model's (index = class id; a checkpoint's `read_checkpoint(path).vocab`). `seed_tokens` are
    token strings (mapped through `vocab`) or token ids. `sampling` takes the keyword arguments of
    `generate_ids`, among them `window`: the training window length (a checkpoint's
    `data_settings["seq_len"]`), or None for the seed's length.
    """
    vocab = list(vocab)
    if all(isinstance(token, str) for token in seed_tokens):
        index = {token: i for i, token in enumerate(vocab)}
        unknown = sorted({token for token in seed_tokens if token not in index})
        if unknown:
            raise ValueError(f"seed tokens not in the model's vocabulary: {unknown[:5]}")
        seed_ids = torch.tensor([[index[token] for token in seed_tokens]])
    else:
        seed_ids = torch.as_tensor(seed_tokens, dtype=torch.long).reshape(1, -1)
    ids = generate_ids(model, seed_ids, n_notes, **sampling)
    return [vocab[i] for i in ids[0].tolist()]
