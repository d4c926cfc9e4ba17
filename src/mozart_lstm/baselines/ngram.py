"""A smoothed n-gram over token ids: interpolated absolute discounting (Ney, Essen & Kneser 1994).

    P_n(w | h) = max(c(h, w) - D, 0) / c(h)  +  D * N1+(h .) / c(h) * P_{n-1}(w | h')

h is the last n-1 tokens, h' the last n-2; a history never seen in training falls back to P_{n-1}. The unigram
interpolates with the uniform distribution, so no token has probability 0. Counts come only from the sequences
given to `fit`: the caller hands it the training side, cut wherever a held-out label sits.

Every order up to `max_order` is counted at once, and `log_probs(..., order=k)` uses orders 1..k: choosing the
order on a validation split needs one fit. A fit of the 114k-token corpus at order 8 takes about a second.
"""

from collections.abc import Iterable

import numpy as np
import torch

from labtools.checks import is_whole
from labtools.errors import UserError

DISCOUNT = 0.75


def check_order(value, key: str) -> int:
    if not is_whole(value):
        raise UserError(f"{key}={value!r}: an n-gram order must be a whole number >= 1 (1: unigram)")
    return value


class _Histories:
    """Dense ids of the histories of one length: `codes` sorted, so that a history is found by binary search."""

    def __init__(self, codes: np.ndarray):
        self.codes = codes

    def find(self, codes: np.ndarray) -> np.ndarray:
        """The id of each code, -1 where it was never seen (or where the shorter history was not: code -1)."""
        found = np.searchsorted(self.codes, codes).clip(max=len(self.codes) - 1)
        return np.where((codes >= 0) & (self.codes[found] == codes), found, -1)


class NGramModel:
    """`fit(sequences)`, then `log_probs(windows)` like the network's: (batch, vocab) log-probabilities of the
    next token after each window."""

    def __init__(self, vocab_size: int, max_order: int = 8, discount: float = DISCOUNT):
        self.vocab_size, self.max_order, self.discount = vocab_size, check_order(max_order, "max_order"), discount
        self.order = max_order  # the order log_probs uses by default; choose_order may lower it
        self._histories: list[_Histories] = []  # [k]: histories of length k, k = 1..max_order-1
        # [k]: continuations of the histories of length k (k = 0 is the unigram): CSR rows by history id
        self._rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def fit(self, sequences: Iterable[torch.Tensor | np.ndarray]) -> "NGramModel":
        sequences = [np.asarray(s, dtype=np.int64) for s in sequences if len(s)]
        if not sequences:
            raise UserError("the n-gram has no training tokens to count")
        tokens = np.concatenate(sequences)
        # the position of each token within its sequence: a history of length k needs k tokens before it
        starts = np.repeat(np.cumsum([0] + [len(s) for s in sequences[:-1]]), [len(s) for s in sequences])
        position = np.arange(len(tokens)) - starts
        history = np.zeros(len(tokens), dtype=np.int64)  # length 0: one empty history
        for k in range(self.max_order):
            if k:
                codes = np.where(position >= k, history * self.vocab_size + np.roll(tokens, k), -1)
                unique, history = np.unique(codes, return_inverse=True)
                seen = unique >= 0
                history = np.where(codes >= 0, history - (~seen).sum(), -1)
                self._histories.append(_Histories(unique[seen]))
            valid = history >= 0
            pairs, counts = np.unique(history[valid] * self.vocab_size + tokens[valid], return_counts=True)
            row_of_pair = pairs // self.vocab_size
            indptr = np.searchsorted(row_of_pair, np.arange(int(history.max()) + 2))
            self._rows.append((indptr, pairs % self.vocab_size, counts.astype(np.float64)))
        return self

    def _history_ids(self, windows: np.ndarray, order: int) -> list[np.ndarray]:
        """[k]: each window's history id of length k, k = 0..order-1 (-1: unseen)."""
        ids = [np.zeros(len(windows), dtype=np.int64)]
        for k in range(1, order):
            if k > windows.shape[1]:
                ids.append(np.full(len(windows), -1))
                continue
            codes = np.where(ids[-1] >= 0, ids[-1] * self.vocab_size + windows[:, -k], -1)
            ids.append(self._histories[k - 1].find(codes))
        return ids

    def _probabilities(self, windows: np.ndarray, order: int):
        """Yield (k, probabilities (batch, vocab)) for k = 1..order: each order refines the one below it."""
        if not self._rows:
            raise RuntimeError("fit the n-gram before asking it for probabilities")
        if not 1 <= order <= self.max_order:
            raise UserError(f"n-gram order {order} must be between 1 and the fitted maximum {self.max_order}")
        probs = np.full((len(windows), self.vocab_size), 1.0 / self.vocab_size)
        for k, history in enumerate(self._history_ids(windows, order)):
            indptr, continuation, counts = self._rows[k]
            rows = np.flatnonzero(history >= 0)
            start, end = indptr[history[rows]], indptr[history[rows] + 1]
            rows, start, end = rows[end > start], start[end > start], end[end > start]
            lengths = end - start
            entries = (
                np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths) + np.repeat(start, lengths)
            )
            entry_rows = np.repeat(rows, lengths)
            totals = np.add.reduceat(counts[entries], np.cumsum(lengths) - lengths) if len(rows) else np.zeros(0)
            backoff = self.discount * lengths / totals
            probs[rows] *= backoff[:, None]
            share = np.maximum(counts[entries] - self.discount, 0) / np.repeat(totals, lengths)
            probs[entry_rows, continuation[entries]] += share
            yield k + 1, probs

    def log_probs(self, windows: torch.Tensor, order: int | None = None) -> torch.Tensor:
        """(batch, vocab) float32 log-probabilities of the next token after each row of `windows`."""
        *_, (_, probs) = self._probabilities(np.asarray(windows, dtype=np.int64), order or self.order)
        return torch.from_numpy(np.log(probs)).float()

    def scores(self, windows, labels, orders=None, chunk: int = 4096) -> dict[int, dict[str, float]]:
        """For each order in `orders` (all by default): mean NLL (`loss`), accuracy and top-5 accuracy."""
        orders = sorted(orders or range(1, self.max_order + 1))
        labels, windows = np.asarray(labels, dtype=np.int64), np.asarray(windows, dtype=np.int64)
        sums = {k: np.zeros(3) for k in orders}
        for lo in range(0, len(labels), chunk):
            y = labels[lo : lo + chunk]
            for k, probs in self._probabilities(windows[lo : lo + chunk], orders[-1]):
                if k not in sums:
                    continue
                p_label = probs[np.arange(len(y)), y][:, None]
                # the label's rank, ties broken towards the lower id as argmax and topk break them
                ties_before = (probs == p_label) & (np.arange(self.vocab_size) < y[:, None])
                rank = (probs > p_label).sum(axis=1) + ties_before.sum(axis=1)
                sums[k] += [-np.log(p_label).sum(), (rank == 0).sum(), (rank < 5).sum()]
        names = ("loss", "acc", "acc_top5")
        return {k: dict(zip(names, (s / len(labels)).tolist(), strict=True)) for k, s in sums.items()}

    def choose_order(self, windows: torch.Tensor, labels: torch.Tensor) -> dict[int, dict[str, float]]:
        """Set `self.order` to the order with the lowest NLL on these (validation) windows; return all scores."""
        scores = self.scores(windows, labels)
        self.order = min(scores, key=lambda k: scores[k]["loss"])
        return scores


DEFAULT_ORDER = 5


class NGramComposer(torch.nn.Module):
    """An n-gram behind the network's interface, `model(ids, hidden) -> (log_probs, hidden)`, so that generation
    runs it unchanged. Its hidden state is the last order-1 tokens: stateful generation works as well."""

    def __init__(self, ngram: NGramModel):
        super().__init__()
        self.ngram = ngram

    def forward(self, ids: torch.Tensor, hidden: torch.Tensor | None = None):
        history = ids if hidden is None else torch.cat([hidden, ids], dim=1)
        history = history[:, history.shape[1] - min(self.ngram.order - 1, history.shape[1]) :]
        return self.ngram.log_probs(history.cpu()).to(ids.device), history


def fit_training_ngram(datamodule, order: int | None = None, max_order: int = 8) -> NGramModel:
    """The n-gram of a set-up MidiDataModule's training side (`ngram_sequences`). `order` None chooses it on the
    validation split when there is one, else takes DEFAULT_ORDER (the test split never chooses anything)."""
    if order is not None:
        max_order = check_order(order, "ngram_order")
    model = NGramModel(len(datamodule.vocab), max_order).fit(datamodule.ngram_sequences())
    if order is None and datamodule.val_set is not None:
        model.choose_order(*datamodule.val_set.tensors())
    elif order is None:
        model.order = min(DEFAULT_ORDER, max_order)
    return model
