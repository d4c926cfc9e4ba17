"""Training beyond the lab's objective: every position scored, held-out labels masked, spaced epochs, eval subsets."""

import csv

import pytest
import torch

from labtools.errors import UserError
from mozart_lstm.data.spaced_sampler import SpacedEpochSampler
from mozart_lstm.data.windows import IGNORED, WindowDataset, held_out_targets, make_loader, split_windows
from mozart_lstm.models import MozartLitModule
from mozart_lstm.models.network import MozartLSTM, NetworkConfig
from mozart_lstm.train import run
from tests.defaults import model_settings, network_settings

SEQ_LEN = 8
FAST = ("model.objective=all", f"data.train_spacing={SEQ_LEN}", "data.eval_windows=5", "trainer.deterministic=true")


def toy_split(split_by="window", split=(0.6, 0.2, 0.2)):
    ids = torch.randint(0, 30, (400,), generator=torch.Generator().manual_seed(0))
    return ids, split_windows(ids, SEQ_LEN, split, seed=1, piece_lengths=[100] * 4, split_by=split_by)


def scored_target_indices(train: WindowDataset, targets: torch.Tensor) -> set[int]:
    """Stream indices that some training window scores: position t of window s targets index s + t + 1."""
    indices = train.starts[:, None] + torch.arange(1, SEQ_LEN + 1)
    return set(indices[targets[indices] != IGNORED].tolist())


@pytest.mark.parametrize("split", [(0.8, 0.2), (0.6, 0.2, 0.2)])
def test_no_held_out_label_is_ever_a_training_target(split):
    ids, datasets = toy_split(split=split)
    train, held_out = datasets[0], datasets[1:]
    targets = held_out_targets(ids, held_out)
    held_out_labels = {int(s) + SEQ_LEN for dataset in held_out for s in dataset.starts}
    scored = scored_target_indices(train, targets)
    assert held_out_labels and not scored & held_out_labels
    # and nothing else is masked: every other position of every training window is scored
    every_position = set((train.starts[:, None] + torch.arange(1, SEQ_LEN + 1)).flatten().tolist())
    assert scored == every_position - held_out_labels
    x, rows = WindowDataset(ids, train.starts, SEQ_LEN, targets).__getitems__(range(len(train)))
    assert torch.equal(x, train.tensors()[0])
    assert torch.equal(rows[:, -1], train.tensors()[1])  # the window's own label is a training label
    assert torch.equal(rows[:, :-1][rows[:, :-1] != IGNORED], x[:, 1:][rows[:, :-1] != IGNORED])


def test_split_by_piece_masks_nothing_inside_the_training_pieces():
    ids, datasets = toy_split(split_by="piece", split=(0.5, 0.5))
    targets = held_out_targets(ids, datasets[1:])
    train = datasets[0]
    indices = train.starts[:, None] + torch.arange(1, SEQ_LEN + 1)
    assert (targets[indices] != IGNORED).all()


@pytest.mark.parametrize("split", ["[0.8,0.2]", "[0.6,0.2,0.2]"])
def test_the_data_module_masks_held_out_labels(make_train_cfg, split):
    """The targets the training loader serves, against the held-out labels found from the held-out windows' starts:
    IGNORED exactly where a validation or test window has its label, the next token everywhere else."""
    from mozart_lstm.train import instantiate

    datamodule = instantiate(make_train_cfg("model.objective=all", f"data.split={split}").data, "data")
    datamodule.setup("fit")
    served = datamodule.train_dataloader().dataset
    x, rows = served.__getitems__(range(len(served)))
    stream = datamodule.train_set.ids  # the token stream, unmasked
    held_out = [datamodule.test_set] + ([datamodule.val_set] if split.count(",") == 2 else [])
    assert all(dataset is not None and len(dataset) for dataset in held_out)
    held_out_labels = torch.cat([dataset.starts + SEQ_LEN for dataset in held_out])
    # position t of the window starting at s holds tokens s..s+7 and is labelled with token s + t + 1
    inputs = served.starts[:, None] + torch.arange(SEQ_LEN)
    labelled = inputs + 1
    assert torch.equal(x, stream[inputs])
    masked = torch.isin(labelled, held_out_labels)
    assert torch.equal(rows, torch.where(masked, IGNORED, stream[labelled]))
    assert masked.any(), "a window split of this size must have held-out labels inside training windows"


def test_the_last_position_of_all_positions_is_the_labs_output():
    torch.manual_seed(0)
    net = MozartLSTM(
        NetworkConfig(20, **network_settings(embedding_dim=8, hidden_size=16, num_layers=2, linear_sizes=(16,)))
    )
    net = net.eval()
    x = torch.randint(0, 20, (5, SEQ_LEN))
    every, _ = net(x, all_positions=True)
    assert every.shape == (5, SEQ_LEN, 20)
    assert torch.allclose(every[:, -1], net(x)[0], atol=1e-6)


def test_the_objectives_losses():
    torch.manual_seed(0)
    vocab = [f"T{i}" for i in range(20)]
    tiny = model_settings(embedding_dim=8, hidden_size=16, num_layers=2, linear_sizes=[16])
    x = torch.randint(0, 20, (6, SEQ_LEN))
    rows = torch.randint(0, 20, (6, SEQ_LEN))
    rows[0, 2] = rows[3, 5] = IGNORED
    last = MozartLitModule(vocab, **tiny)
    assert last.hparams.objective == "last"
    torch.manual_seed(1)
    lab_loss = last.training_step((x, rows[:, -1]), 0)
    torch.manual_seed(1)
    assert torch.allclose(lab_loss, torch.nn.functional.nll_loss(last(x), rows[:, -1]))

    every = MozartLitModule(vocab, **tiny | {"objective": "all"})
    every.load_state_dict(last.state_dict())
    torch.manual_seed(1)
    loss = every.training_step((x, rows), 0)
    torch.manual_seed(1)
    log_probs = every.net(x, all_positions=True)[0]
    kept = rows != IGNORED
    manual = -log_probs.gather(2, rows.clamp(min=0)[..., None]).squeeze(2)[kept].mean()
    assert torch.allclose(loss, manual, atol=1e-6)
    with pytest.raises(UserError, match="train_targets=all"):
        every.training_step((x, rows[:, -1]), 0)


def test_spacing_covers_every_training_window_once_per_cycle():
    starts = torch.randperm(1003, generator=torch.Generator().manual_seed(3)) * 2  # stream order != dataset order
    sampler = SpacedEpochSampler(starts, spacing=10, seed=0)
    for cycle in range(2):
        seen = []
        for epoch in range(cycle * 10, cycle * 10 + 10):
            sampler.set_epoch(epoch)
            drawn = list(sampler)
            assert len(drawn) == len(sampler) == 101
            in_stream = sorted(int(starts[i]) for i in drawn)
            assert max(b - a for a, b in zip(in_stream, in_stream[1:], strict=False)) <= 2 * 10 * 2
            seen += drawn
        assert set(seen) == set(range(1003))
    phases = [sampler.phase(epoch) for epoch in range(20)]
    assert phases[:10] != phases[10:], "a new permutation of phases each cycle"
    sampler.set_epoch(7)
    again = SpacedEpochSampler(starts, spacing=10, seed=0)
    again.set_epoch(7)
    assert list(sampler) == list(again)


def test_each_pass_moves_to_the_next_epoch_when_nobody_calls_set_epoch():
    """A DDP wrapper that does not forward set_epoch still gets a new phase every epoch."""
    starts = torch.arange(40)
    counting = SpacedEpochSampler(starts, spacing=4, seed=0)
    passes = [list(counting) for _ in range(4)]
    told = SpacedEpochSampler(starts, spacing=4, seed=0)
    for epoch, drawn in enumerate(passes):
        told.set_epoch(epoch)
        assert drawn == list(told)
    assert len({min(drawn) % 4 for drawn in passes}) == 4, "every phase once in the cycle"


def test_a_spaced_loader_keeps_its_last_short_batch():
    ids, datasets = toy_split(split=(0.8, 0.2))
    loader = make_loader(datasets[0], batch_size=16, train=True, spacing=SEQ_LEN)
    assert sum(len(y) for _, y in loader) == len(loader.sampler) == -(-len(datasets[0]) // SEQ_LEN)
    assert len(make_loader(datasets[0], batch_size=16, train=True)) == len(datasets[0]) // 16


@pytest.mark.usefixtures("single_torch_thread")
def test_eval_subset_every_epoch_and_the_whole_split_at_the_end(make_train_cfg, tmp_path):
    metrics = run(make_train_cfg(*FAST, "trainer.max_epochs=2"))
    with open(tmp_path / "run" / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [bool(row["test/acc"]) for row in rows] == [True, True]
    assert [bool(row["test_full/acc"]) for row in rows] == [False, True]
    # 5 windows cannot give an accuracy that is not a multiple of 1/5; the whole split has many more
    assert round(float(rows[0]["test/acc"]) * 5, 4) == round(float(rows[0]["test/acc"]) * 5)
    assert {"test/acc", "test_full/acc", "test_full/loss"} <= set(metrics)


@pytest.mark.slow  # three trainings
@pytest.mark.usefixtures("single_torch_thread")
def test_resume_with_the_spaced_loader_equals_an_uninterrupted_run(make_train_cfg, tmp_path):
    run(make_train_cfg(*FAST, out="first"))
    last = tmp_path / "first" / "checkpoints" / "last.ckpt"
    resumed = run(make_train_cfg(*FAST, "trainer.max_epochs=3", f"ckpt_path={last}", out="resumed"))
    whole = run(make_train_cfg(*FAST, "trainer.max_epochs=3", out="whole"))
    assert resumed == whole
    assert (tmp_path / "resumed" / "metrics.csv").read_text() == (tmp_path / "whole" / "metrics.csv").read_text()


def test_the_objective_and_the_data_targets_must_agree(make_train_cfg):
    with pytest.raises(UserError, match="train_targets"):
        run(make_train_cfg("model.objective=all", "data.train_targets=last"))


@pytest.mark.parametrize(
    ("override", "key"),
    [("model.objective=every", "model.objective"), ("data.train_spacing=0", "data.train_spacing"),
     ("data.eval_windows=0", "data.eval_windows"), ("data.train_spacing=true", "data.train_spacing")],
)  # fmt: skip
def test_bad_settings_name_the_key(make_train_cfg, override, key):
    with pytest.raises(UserError, match=key):
        run(make_train_cfg(override))


@pytest.mark.usefixtures("single_torch_thread")
def test_a_finished_run_evaluates_the_whole_split_when_resumed(make_train_cfg, tmp_path):
    finished = run(make_train_cfg(*FAST, out="finished"))
    last = tmp_path / "finished" / "checkpoints" / "last.ckpt"
    asked = run(make_train_cfg(*FAST, f"ckpt_path={last}", out="asked"))
    # the whole split's figures, with the n-gram's on the same windows
    assert set(asked) == {key for key in finished if key.startswith(("test_full/", "baseline/test_full_"))}
    assert asked == pytest.approx({key: finished[key] for key in asked})


def test_a_spaced_epoch_never_ends_on_a_single_window_batch():
    """BatchNorm cannot train on one window: such a last batch is dropped, any other short one kept."""
    ids, datasets = toy_split(split=(0.8, 0.2))
    per_epoch = -(-len(datasets[0]) // SEQ_LEN)
    loader = make_loader(datasets[0], batch_size=per_epoch - 1, train=True, spacing=SEQ_LEN)
    assert [len(y) for _, y in loader] == [per_epoch - 1]
