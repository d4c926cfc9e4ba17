"""The spaced sampler under DDP, on 2 CPU processes (ddp_spawn: plain ddp would relaunch pytest itself)."""

import json

import pytest
import pytorch_lightning as pl
import torch

from mozart_lstm.data.spaced_sampler import SpacedEpochSampler
from mozart_lstm.data.windows import WindowDataset, make_loader
from mozart_lstm.models.module import MozartLitModule
from tests.defaults import model_settings

SEQ_LEN, WINDOWS, SPACING, EPOCHS = 4, 64, 4, 3


class RecordStarts(pl.Callback):
    """Each rank writes the start of every training window it saw, per epoch (a window's first id is its start)."""

    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.seen: dict[int, list[int]] = {}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.seen.setdefault(trainer.current_epoch, []).extend(batch[0][:, 0].tolist())

    def on_train_end(self, trainer, pl_module):
        (self.out_dir / f"rank{trainer.global_rank}.json").write_text(json.dumps(self.seen))


def ignore_epoch(epoch: int) -> None:
    """What an older DDP sampler wrapper amounts to: set_epoch never reaches the spaced sampler."""


@pytest.mark.slow
@pytest.mark.parametrize("forwarded", [True, False])
def test_two_processes_shard_each_epochs_phase_and_the_phase_moves(tmp_path, forwarded):
    ids = torch.arange(WINDOWS + SEQ_LEN)  # every window starts with a distinct id: its start
    loader = make_loader(WindowDataset(ids, torch.arange(WINDOWS), SEQ_LEN), 4, train=True, spacing=SPACING)
    if not forwarded:
        loader.sampler.set_epoch = ignore_epoch
    vocab = [str(i) for i in range(len(ids))]
    model = MozartLitModule(
        vocab, **model_settings(embedding_dim=4, hidden_size=8, num_layers=1, linear_sizes=[8], dropout=0.0)
    )
    trainer = pl.Trainer(
        accelerator="cpu", devices=2, strategy="ddp_spawn", max_epochs=EPOCHS, limit_val_batches=0,
        logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        callbacks=[RecordStarts(tmp_path)],
    )  # fmt: skip
    trainer.fit(model, train_dataloaders=loader)

    ranks = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    phases = SpacedEpochSampler(torch.arange(WINDOWS), SPACING, seed=0)
    for epoch in range(EPOCHS):
        first, second = (rank[str(epoch)] for rank in ranks)
        assert not set(first) & set(second), "the ranks share no window"
        assert sorted(first + second) == list(range(phases.phase(epoch), WINDOWS, SPACING))
    assert len({phases.phase(epoch) for epoch in range(EPOCHS)}) == EPOCHS
