"""MidiDataModule: the archive, the tokens and the windows, as Lightning expects them."""

import logging
from pathlib import Path

import pytorch_lightning as pl
import torch

from labtools.checks import is_whole
from labtools.errors import UserError
from mozart_lstm.data.rhythm import rhythm_of
from mozart_lstm.data.tokenize import load_pieces
from mozart_lstm.data.transpose import PieceShifts, ShiftTable, allowed_shifts, check_transpose, shifted_tokens
from mozart_lstm.data.windows import (
    OBJECTIVES,
    SPLIT_BY,
    Vocab,
    WindowDataset,
    held_out_targets,
    make_loader,
    piece_bounds,
    split_windows,
    training_runs,
    validate_split,
)
from mozart_lstm.tokenizers import build_tokenizer

log = logging.getLogger(__name__)


class MidiDataModule(pl.LightningDataModule):
    """Lab Problems 1 and 2. With a 2-way split the test split is evaluated every epoch (as the lab asks)
    through the validation loop; with a 3-way split the middle part is the validation set and the test
    split is left for trainer.test().

    Beyond the lab: `train_targets="all"` labels each training window with the next token at every position
    (held-out labels masked out, see `held_out_targets`); `train_spacing` draws every n-th training window per
    epoch (SpacedEpochSampler); `eval_windows` evaluates a fixed random subset of the held-out windows every
    epoch, and the whole split goes through `test_dataloader` (as `test_full` with a 2-way split);
    `transpose=K` shifts each training piece by a random allowed number of semitones in [-K, K], drawn anew each
    epoch (see data/transpose.py): the Trainer must reload the training loader every epoch, as train.py has it.
    """

    def __init__(
        self,
        *,
        archive: str | None,
        sha256: str | None,
        url: str,
        data_dir: str,
        cache_dir: str,
        max_files: int | None,
        chord_order: str,
        seq_len: int,
        split,
        split_by: str,
        batch_size: int,
        eval_batch_size: int,
        num_workers: int,
        num_parse_workers: int | None,
        seed: int,
        train_targets: str,
        train_spacing: int,
        eval_windows: int | None,
        tokenization: str,
        transpose: int,
    ):
        """Every setting is conf/data's, which holds their defaults (and passes model.objective as train_targets);
        an old checkpoint's data settings get those added since it was written from mozart_lstm.legacy."""
        super().__init__()
        # Plain values only, so that checkpoints load with torch.load(weights_only=True); absolute paths,
        # so that generate.py can rebuild the same data from any working directory.
        archive = None if archive is None else str(Path(archive).expanduser().resolve())
        data_dir, cache_dir = (str(Path(p).expanduser().resolve()) for p in (data_dir, cache_dir))
        split = validate_split(split)
        _check_settings(seq_len, batch_size, eval_batch_size, max_files, split_by, num_workers)
        _check_training_settings(train_targets, train_spacing, eval_windows)
        # data.tokenization and data.chord_order: the one tokenizer everything downstream asks about tokens
        self.tokenizer = build_tokenizer(tokenization, chord_order)
        check_transpose(transpose)
        self.save_hyperparameters()
        self.vocab: Vocab | None = None
        self.rhythm: dict | None = None
        self.train_set = self.val_set = self.test_set = None
        self._pieces: list[tuple[int, int]] = []  # each training piece's [start, end) in the token stream
        self._shifts: PieceShifts | None = None
        self._shift_table: ShiftTable | None = None

    @property
    def eval_name(self) -> str:
        return "val" if len(self.hparams.split) == 3 else "test"

    @property
    def full_test_name(self) -> str | None:
        """The metric prefix of a pass over the whole test split after fit, or None when fit already made one.

        With a 3-way split it is the lab's single test pass. With a 2-way split and `eval_windows`, every epoch
        evaluated a subset as `test/*`, and the whole split is `test_full/*`.
        """
        if self.eval_name == "val":
            return "test"
        return "test_full" if self.hparams.eval_windows is not None else None

    def pieces(self):
        """The corpus as `Piece`s (tokens with their offsets and durations), read through the token cache."""
        h = self.hparams
        return load_pieces(
            h.archive, self.tokenizer, h.cache_dir, h.num_parse_workers, h.max_files, h.sha256, h.url, h.data_dir
        )

    def prepare_data(self):
        """Download, extract and fill the token cache, once, on one process."""
        if self.vocab is None:  # after setup() the data is on disk already: skip a second pass over it
            self.pieces()

    def setup(self, stage=None):
        if self.vocab is not None:
            return
        h = self.hparams
        pieces = self.pieces()
        tokens = [token for piece in pieces for token in piece.tokens]
        self.vocab = Vocab(tokens)
        log.info("Tokens: %d, distinct tokens: %d, from %d files", len(tokens), len(self.vocab), len(pieces))
        if len(self.vocab) < 2:
            raise UserError(f"The corpus has only {len(self.vocab)} distinct token(s): nothing to learn. Add files.")
        self.rhythm = rhythm_of(pieces)
        lengths = [len(p.tokens) for p in pieces]
        datasets = split_windows(self.vocab.encode(tokens), h.seq_len, h.split, h.seed, lengths, h.split_by)
        train_starts = datasets[0].starts
        self._pieces = [
            (lo, hi) for lo, hi in piece_bounds(lengths) if ((train_starts >= lo) & (train_starts < hi)).any()
        ]
        if h.transpose:
            datasets = self._add_shifted_tokens(tokens, datasets)
        self.train_set, self.test_set = datasets[0], datasets[-1]
        self.val_set = datasets[1] if len(datasets) == 3 else None
        if h.train_targets == "all":
            stream = held_out_targets(self.train_set.ids, self.held_out_sets())
            self.train_set = WindowDataset(self.train_set.ids, self.train_set.starts, h.seq_len, stream)
        per_epoch = len(self._loader(self.train_set, train=True).sampler)  # the windows its sampler draws
        if per_epoch < 2:
            raise UserError(
                f"data.train_spacing={h.train_spacing} leaves {per_epoch} of the {len(self.train_set)} training "
                "windows per epoch: lower it (data.seq_len is the usual value)"
            )
        if h.train_spacing == 1 and len(self.train_set) < h.batch_size:
            raise UserError(
                f"data.batch_size={h.batch_size} exceeds the {len(self.train_set)} training windows: "
                "lower it or use more files"
            )
        names = ["train", "val", "test"] if len(datasets) == 3 else ["train", "test"]
        sizes = ", ".join(f"{n} {len(d)}" for n, d in zip(names, datasets, strict=True))
        log.info("Windows of %d tokens: %d (%s; split by %s)", h.seq_len, sum(map(len, datasets)), sizes, h.split_by)
        lengths = ", ".join(f"{n} {len(loader)}" for n, loader in zip(names, self._loaders(), strict=True))
        log.info("Loader lengths (batches): %s", lengths)

    def _add_shifted_tokens(self, tokens, datasets) -> list[WindowDataset]:
        """Widen the vocabulary by every token the shifted training pieces can produce; the same windows over
        the stream re-encoded in it."""
        h = self.hparams
        training = [tokens[lo:hi] for lo, hi in self._pieces]
        allowed = [allowed_shifts(piece, h.transpose, self.tokenizer) for piece in training]
        widest = max(max(map(abs, shifts)) for shifts in allowed)
        if widest < h.transpose:
            raise UserError(
                f"data.transpose={h.transpose}: no training piece can shift by more than {widest} semitones and "
                f"stay on the piano (MIDI 21-108); use at most {widest}"
            )
        self.vocab = Vocab(tokens + sorted(shifted_tokens(training, h.transpose, self.tokenizer)))
        log.info("Transposition by up to %d semitones: %d distinct tokens", h.transpose, len(self.vocab))
        ids = self.vocab.encode(tokens)
        self._shift_table = ShiftTable(self.vocab.tokens, self.vocab.index, h.transpose, self.tokenizer)
        self._shifts = PieceShifts(self._pieces, allowed, len(ids), h.seed)
        return [WindowDataset(ids, d.starts, h.seq_len) for d in datasets]

    def held_out_sets(self) -> list[WindowDataset]:
        return [s for s in (self.val_set, self.test_set) if s is not None]

    def train_set_for_epoch(self, epoch: int) -> WindowDataset:
        """The training windows of an epoch: with `transpose`, over the stream shifted by that epoch's draw."""
        if self._shifts is None:
            return self.train_set
        ids = self._shift_table.apply(self.train_set.ids, self._shifts.per_position(epoch))
        targets = held_out_targets(ids, self.held_out_sets()) if self.hparams.train_targets == "all" else None
        return WindowDataset(ids, self.train_set.starts, self.hparams.seq_len, targets)

    def ngram_sequences(self) -> list[torch.Tensor]:
        """The training side as token runs for an n-gram: cut at piece ends and at every held-out label, so that
        no n-gram holds one; with `transpose`, each run in every shift its piece allows."""
        ids, h = self.train_set.ids, self.hparams
        runs = training_runs(len(ids), self.train_set.starts, h.seq_len, self.held_out_sets(), self._pieces)
        if self._shifts is None:
            return [ids[lo:hi] for _, lo, hi in runs]
        return [
            self._shift_table.apply(ids[lo:hi], torch.full((hi - lo,), shift))
            for piece, lo, hi in runs
            for shift in self._shifts.allowed[piece]
        ]

    def _loaders(self):
        sets = [s for s in (self.train_set, self.val_set, self.test_set) if s is not None]
        return [self._loader(sets[0], train=True)] + [self._loader(s, train=False) for s in sets[1:]]

    def _loader(self, dataset, train: bool):
        h = self.hparams
        batch_size = h.batch_size if train else h.eval_batch_size
        return make_loader(dataset, batch_size, train, h.num_workers, h.train_spacing, h.seed)

    def train_dataloader(self):
        if self._shifts is None:
            return self._loader(self.train_set, train=True)
        if self.trainer is None or self.trainer.reload_dataloaders_every_n_epochs != 1:
            raise UserError(
                "data.transpose draws new shifts every epoch: the Trainer needs reload_dataloaders_every_n_epochs=1 "
                "(train.py sets it)"
            )
        epoch = self.trainer.current_epoch
        loader = self._loader(self.train_set_for_epoch(epoch), train=True)
        if hasattr(loader.sampler, "set_epoch"):  # a loader built anew each epoch starts its sampler at epoch 0
            loader.sampler.set_epoch(epoch)
        return loader

    def val_dataloader(self):
        """The split evaluated every epoch: val with a 3-way split, else the test split (the lab's way);
        with `eval_windows`, a fixed random subset of it."""
        evaluated = self.val_set if self.val_set is not None else self.test_set
        return self._loader(evaluated.subset(self.hparams.eval_windows, self.hparams.seed), train=False)

    def test_dataloader(self):
        return self._loader(self.test_set, train=False)

    def state_dict(self):
        return {"vocab": self.vocab.tokens if self.vocab else None, "rhythm": self.rhythm}

    def load_state_dict(self, state_dict):
        saved = state_dict.get("vocab")
        if saved and self.vocab is not None and saved != self.vocab.tokens:
            raise UserError(
                "The checkpoint's vocabulary differs from the one built from the data: "
                "resume with the same data settings "
                "(data.archive, data.max_files, data.chord_order, data.tokenization)."
            )
        if saved:
            self.vocab = self.vocab or Vocab(saved)
        self.rhythm = state_dict.get("rhythm") or self.rhythm


def _check_settings(seq_len, batch_size, eval_batch_size, max_files, split_by, num_workers):
    """Every value a user can get wrong, checked before any download or parse. Here only: load_pieces and
    split_windows take these as checked and refuse only what depends on the data."""
    for key, value in (("seq_len", seq_len), ("batch_size", batch_size), ("eval_batch_size", eval_batch_size)):
        if not is_whole(value):
            raise UserError(f"data.{key} must be an integer of at least 1, got {value!r}")
    if max_files is not None and not is_whole(max_files):
        raise UserError(f"data.max_files must be null or at least 1, got {max_files!r}")
    if not is_whole(num_workers, minimum=0):
        raise UserError(f"data.num_workers must be at least 0, got {num_workers!r}")
    if split_by not in SPLIT_BY:
        raise UserError(f"data.split_by={split_by!r} is not one of {', '.join(SPLIT_BY)}")


def _check_training_settings(train_targets, train_spacing, eval_windows):
    if train_targets not in OBJECTIVES:
        raise UserError(f"data.train_targets={train_targets!r} is not one of {', '.join(OBJECTIVES)} (model.objective)")
    if not is_whole(train_spacing):
        raise UserError(f"data.train_spacing must be an integer of at least 1 (1: every window), got {train_spacing!r}")
    if eval_windows is not None and not is_whole(eval_windows):
        raise UserError(f"data.eval_windows must be null (the whole split) or at least 1, got {eval_windows!r}")
