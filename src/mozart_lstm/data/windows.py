"""Vocabulary, next-token windows and splits (lab Problem 2).

Windows are rows of a view over one int tensor (`unfold`), never a list of 100k small tensors;
a batch is gathered with one indexing operation.
"""

import logging
import math
from collections.abc import Sequence

import torch
from torch.utils.data import DataLoader, Dataset, random_split

from labtools.checks import is_whole
from labtools.errors import UserError
from mozart_lstm.data.spaced_sampler import SpacedEpochSampler

log = logging.getLogger(__name__)

SPLIT_BY = ("window", "piece")
# model.objective, and the labels of a training window that follow it (data.train_targets: ${model.objective}):
# last, the next token after the window (the lab's); all, the next token at every position
OBJECTIVES = ("last", "all")
# NLLLoss's default ignore_index: a position with this target is left out of the loss
IGNORED = -100


class Vocab:
    """Tokens in sorted order, so the same corpus always gives the same ids."""

    def __init__(self, tokens: Sequence[str]):
        self.tokens = sorted(set(tokens))
        self.index = {token: i for i, token in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: Sequence[str]) -> torch.Tensor:
        try:
            return torch.tensor([self.index[token] for token in tokens], dtype=torch.long)
        except KeyError as err:
            raise UserError(f"token {err.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids) -> list[str]:
        return [self.tokens[i] for i in torch.as_tensor(ids).tolist()]


class WindowDataset(Dataset):
    """Item i is (ids[s : s + seq_len], ids[s + seq_len]) with s = starts[i].

    With `targets` (a stream as long as `ids`), the label of item i is instead the row
    targets[s + 1 : s + seq_len + 1]: the next token at every position of the window, for a loss on all of them.
    """

    def __init__(self, ids: torch.Tensor, starts: torch.Tensor, seq_len: int, targets: torch.Tensor | None = None):
        self.ids, self.starts, self.seq_len = ids, torch.as_tensor(starts, dtype=torch.long), seq_len
        self._rows = ids.unfold(0, seq_len, 1)
        self._target_rows = None if targets is None else targets[1:].unfold(0, seq_len, 1)

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i):
        x, y = self.__getitems__([i])
        return x[0], y[0]

    def __getitems__(self, indices):
        """A whole batch in one gather; DataLoader calls this instead of __getitem__ per item."""
        starts = self.starts[torch.as_tensor(indices, dtype=torch.long)]
        # index_select, not self._rows[starts]: advanced indexing splits this small gather over threads, and
        # with another process on a core each batch then waits milliseconds instead of microseconds
        x = self._rows.index_select(0, starts)
        if self._target_rows is not None:
            return x, self._target_rows.index_select(0, starts)
        return x, self.ids[starts + self.seq_len]

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Every window and its label (the next token after the window, whatever `targets` says)."""
        starts = self.starts
        return self._rows.index_select(0, starts), self.ids[starts + self.seq_len]

    def subset(self, size: int | None, seed: int) -> "WindowDataset":
        """A fixed random `size` of the windows (all of them when size is None or not smaller), in a seeded order."""
        if size is None or size >= len(self):
            return self
        chosen = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:size]
        return WindowDataset(self.ids, self.starts[chosen], self.seq_len)


def held_out_targets(ids: torch.Tensor, held_out: Sequence[WindowDataset]) -> torch.Tensor:
    """`ids` with every held-out window's label replaced by IGNORED.

    Training windows built on this stream (WindowDataset `targets`) score the next token at every position,
    except where that token is the label of a validation or test window: no held-out label is ever a training
    target, so the held-out split is exactly as exposed as under the lab's last-position loss (its tokens may
    still appear as inputs, as they do there).
    """
    targets = ids.clone()
    for dataset in held_out:
        targets[dataset.starts + dataset.seq_len] = IGNORED
    return targets


def training_runs(
    length: int, train_starts: torch.Tensor, seq_len: int, held_out: Sequence[WindowDataset], pieces
) -> list[tuple[int, int, int]]:
    """(piece index, start, end) of each run of the stream that training windows cover, cut at the ends of the
    `pieces` ([start, end) bounds) and at every held-out window's label: the training side, as a model that
    counts n-grams across whole runs may see it without ever holding a held-out label."""
    cover = torch.zeros(length + 1, dtype=torch.long)
    cover.index_add_(0, train_starts, torch.ones_like(train_starts))
    cover.index_add_(0, train_starts + seq_len + 1, -torch.ones_like(train_starts))
    usable = cover.cumsum(0)[:length] > 0
    for dataset in held_out:
        usable[dataset.starts + dataset.seq_len] = False
    runs = []
    for piece, (lo, hi) in enumerate(pieces):
        edges = torch.diff(
            usable[lo:hi].int(), prepend=torch.zeros(1, dtype=torch.int), append=torch.zeros(1, dtype=torch.int)
        )
        starts, ends = torch.nonzero(edges == 1).flatten(), torch.nonzero(edges == -1).flatten()
        runs += [(piece, lo + a, lo + b) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    return runs


def collate_batch(batch):
    """The batch is already stacked by WindowDataset.__getitems__."""
    return batch


def validate_split(split) -> list[float]:
    """The split as fractions, or one UserError: checked where a user gives it (the data module, make_dataloaders)."""
    try:
        fractions = [float(f) for f in split]
    except (TypeError, ValueError):
        fractions = None
    finite = fractions and all(math.isfinite(f) for f in fractions)
    if not finite or len(fractions) not in (2, 3) or min(fractions) <= 0 or abs(sum(fractions) - 1) > 1e-6:
        raise UserError(
            f"data.split={split} must be 2 finite fractions (train, test) or 3 (train, val, test), each above 0, "
            "summing to 1"
        )
    return fractions


def piece_bounds(piece_lengths: Sequence[int]) -> list[tuple[int, int]]:
    """Each piece's [start, end) in the concatenated token stream."""
    bounds = torch.tensor([0, *piece_lengths]).cumsum(0).tolist()
    return list(zip(bounds, bounds[1:], strict=False))


def window_starts(piece_lengths: Sequence[int], seq_len: int, within_pieces: bool) -> list[torch.Tensor]:
    """Valid window starts, one tensor per piece; across the concatenated stream when not within_pieces."""
    if not within_pieces:
        return [torch.arange(sum(piece_lengths) - seq_len)]
    return [torch.arange(lo, max(lo, hi - seq_len)) for lo, hi in piece_bounds(piece_lengths)]


def split_windows(
    ids: torch.Tensor,
    seq_len: int,
    split: Sequence[float],
    seed: int,
    piece_lengths: Sequence[int] | None = None,
    split_by: str = "window",
) -> list[WindowDataset]:
    """One WindowDataset per split fraction, deterministic for a seed.

    split_by="window" (the lab's way): windows over the whole stream, split at random with random_split.
    split_by="piece": whole pieces are held out, and no window crosses a piece boundary.
    The settings are MidiDataModule's, checked there; what depends on the tokens is checked here.
    """
    fractions = list(split)
    if len(ids) <= seq_len:
        raise UserError(
            f"data.seq_len={seq_len} is not shorter than the token stream ({len(ids)} tokens): "
            "lower data.seq_len or add files"
        )
    generator = torch.Generator().manual_seed(seed)
    if split_by == "piece":
        parts = _split_pieces(window_starts(piece_lengths or [len(ids)], seq_len, True), fractions, generator)
    else:
        starts = window_starts([len(ids)], seq_len, within_pieces=False)[0]
        parts = [starts[subset.indices] for subset in random_split(range(len(starts)), fractions, generator)]
    if min(map(len, parts)) == 0:
        raise UserError(
            f"data.seq_len={seq_len} leaves {len(ids) - seq_len} windows in {len(ids)} tokens, too few to give "
            f"every part of data.split={fractions} a window: lower data.seq_len or add files"
        )
    return [WindowDataset(ids, part, seq_len) for part in parts]


def _split_pieces(starts_per_piece, fractions, generator) -> list[torch.Tensor]:
    """Shuffle the pieces, then fill each split in turn up to its share of the windows."""
    order = torch.randperm(len(starts_per_piece), generator=generator).tolist()
    total = sum(len(s) for s in starts_per_piece)
    bounds = torch.tensor(fractions).cumsum(0).mul(total).tolist()
    parts: list[list[torch.Tensor]] = [[] for _ in fractions]
    assigned = 0
    for piece in order:
        target = next((k for k, bound in enumerate(bounds) if assigned < bound - 1e-9), len(bounds) - 1)
        parts[target].append(starts_per_piece[piece])
        assigned += len(starts_per_piece[piece])
    if any(sum(len(s) for s in part) == 0 for part in parts):
        raise UserError(
            f"data.split_by=piece could not give every split a piece: {len(starts_per_piece)} pieces for "
            f"split {fractions}. Use more files (data.max_files) or data.split_by=window."
        )
    return [torch.cat(part) for part in parts]


def make_loader(dataset, batch_size: int, train: bool, num_workers: int = 0, spacing: int = 1, seed: int = 0):
    """The lab's loaders: training shuffled with drop_last, evaluation in order.

    A training `spacing` above 1 draws every spacing-th window per epoch (SpacedEpochSampler) and keeps the
    last short batch, so that each of its labels is scored once per epoch (unless it holds one window).
    """
    spaced = train and spacing > 1
    sampler = SpacedEpochSampler(dataset.starts, spacing, seed) if spaced else None
    # a last batch of a single window would stop training: BatchNorm needs two values per channel
    single_last = spaced and len(sampler) % batch_size == 1
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=train and not spaced,
        sampler=sampler,
        drop_last=train and (not spaced or single_last),
        num_workers=num_workers,
        collate_fn=collate_batch,
        persistent_workers=num_workers > 0,
    )


def make_dataloaders(
    notes: Sequence[str],
    *,
    seq_len: int,
    split: Sequence[float],
    batch_size: int,
    eval_batch_size: int,
    seed: int,
):
    """Lab Problem 2 for notebook users: (train_loader, [val_loader,] test_loader, vocab). The settings are named
    as in conf/data/mozart.yaml, which holds the lab's values."""
    if not is_whole(seq_len):
        raise UserError(f"seq_len must be an integer of at least 1, got {seq_len!r}")
    vocab = Vocab(notes)
    datasets = split_windows(vocab.encode(notes), seq_len, validate_split(split), seed)
    loaders = [make_loader(datasets[0], batch_size, train=True)]
    loaders += [make_loader(d, eval_batch_size, train=False) for d in datasets[1:]]
    return (*loaders, vocab)
