"""Checkpoint files of both kinds: what they hold, load_model, weights_only loading, atomic writes, bad files."""

import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from pytorch_lightning.callbacks import ModelCheckpoint
from torch.utils.data import DataLoader, TensorDataset

from labtools.errors import UserError
from mozart_lstm.callbacks import LabCheckpoint
from mozart_lstm.models import MozartLitModule, MozartLSTM, NetworkConfig, load_model, read_checkpoint
from mozart_lstm.models.checkpoint import AtomicCheckpointIO
from tests.defaults import model_settings, network_settings

VOCAB = [f"T{i}" for i in range(10)]
NETWORK = NetworkConfig(len(VOCAB), **network_settings(embedding_dim=4, hidden_size=8, num_layers=2, linear_sizes=(8,)))


@pytest.fixture(scope="module")
def trained(tmp_path_factory, quiet_trainer) -> Path:
    """Two epochs of a tiny model, checkpointed both ways; returns the checkpoint folder."""
    folder = tmp_path_factory.mktemp("ckpt")
    torch.manual_seed(0)
    x = torch.randint(0, len(VOCAB), (48, 5))
    loader = DataLoader(TensorDataset(x, x[:, -1]), batch_size=8, shuffle=True, drop_last=True)
    module = MozartLitModule(VOCAB, **model_settings(**NETWORK.settings()))
    trainer = quiet_trainer(
        max_epochs=2,
        enable_checkpointing=True,
        callbacks=[
            ModelCheckpoint(folder, "epoch_{epoch:03d}", auto_insert_metric_name=False, save_top_k=-1, save_last=True),
            LabCheckpoint(folder),
        ],
        plugins=[AtomicCheckpointIO()],
    )
    trainer.fit(module, loader, DataLoader(TensorDataset(x, x[:, -1]), batch_size=16))
    return folder


def test_the_lab_format_holds_the_labs_keys(trained):
    saved = torch.load(trained / "lab_epoch_001.pt", weights_only=True)
    assert {"epoch", "model_state_dict", "optimizer_state_dict", "loss", "vocab", "hparams"} <= saved.keys()
    assert saved["epoch"] == 1 and saved["vocab"] == VOCAB and "vocab" not in saved["hparams"]
    assert isinstance(saved["loss"], float)
    assert saved["model_state_dict"].keys() == MozartLSTM(NETWORK).state_dict().keys()


@pytest.mark.parametrize("name", ["epoch_000.ckpt", "epoch_001.ckpt", "last.ckpt", "lab_epoch_000.pt"])
def test_every_file_loads_with_weights_only(trained, name):
    assert isinstance(torch.load(trained / name, weights_only=True), dict)


def test_both_kinds_read_alike(trained):
    lightning, lab = read_checkpoint(trained / "epoch_001.ckpt"), read_checkpoint(trained / "lab_epoch_001.pt")
    assert (lightning.kind, lab.kind) == ("lightning", "lab")
    assert lightning.epoch == lab.epoch == 1
    assert lightning.vocab == lab.vocab == VOCAB
    assert lightning.network == lab.network == NETWORK
    assert lightning.state_dict.keys() == lab.state_dict.keys()
    assert all(torch.equal(lightning.state_dict[k], lab.state_dict[k]) for k in lab.state_dict)


def test_the_network_settings_are_stored_as_plain_values(trained):
    """No NetworkConfig object in a file: the settings are the module's flat hyperparameters (its config keys)."""
    lightning = torch.load(trained / "last.ckpt", weights_only=True)["hyper_parameters"]
    lab = torch.load(trained / "lab_epoch_001.pt", weights_only=True)["hparams"]
    for hparams in (lightning, lab):
        assert {key: hparams[key] for key in NETWORK.settings()} == NETWORK.settings() == {
            "embedding_dim": 4, "hidden_size": 8, "num_layers": 2, "dropout": 0.3, "linear_sizes": [8],
            "embedding_dropout": 0.0, "weight_drop": 0.0, "head_batchnorm": True,
        }  # fmt: skip


def test_a_file_written_before_network_config_still_loads(trained, tmp_path):
    """The lab file as the old writer left it: flat hparams, and only the keys that writer knew."""
    saved = torch.load(trained / "lab_epoch_001.pt", weights_only=True)
    saved["hparams"] = {"embedding_dim": 4, "hidden_size": 8, "num_layers": 2, "linear_sizes": [8], "lr": 0.001}
    torch.save(saved, tmp_path / "old.pt")
    old = read_checkpoint(tmp_path / "old.pt")
    assert old.network == NETWORK  # dropout and the later keys: the values of before (mozart_lstm.legacy)
    model = old.build_network()
    assert type(model) is MozartLSTM and not model.training and not hasattr(model, "vocab")


def test_impossible_network_settings_in_a_file_name_it(trained, tmp_path):
    saved = torch.load(trained / "lab_epoch_001.pt", weights_only=True)
    saved["hparams"]["hidden_size"] = 0
    torch.save(saved, tmp_path / "zero.pt")
    with pytest.raises(UserError, match=r"zero.pt: model.hidden_size=0: must be a whole number >= 1"):
        read_checkpoint(tmp_path / "zero.pt")


def test_load_model_gives_identical_predictions_from_both_kinds(trained):
    x = torch.randint(0, len(VOCAB), (7, 5), generator=torch.Generator().manual_seed(3))
    predictions = []
    for name in ("epoch_001.ckpt", "lab_epoch_001.pt"):
        model, criterion, optimizer = load_model(trained / name)
        assert not model.training and model.vocab == VOCAB
        assert isinstance(criterion, torch.nn.NLLLoss) and isinstance(optimizer, torch.optim.RMSprop)
        assert optimizer.state_dict()["state"], "the RMSprop state was not restored"
        with torch.no_grad():
            predictions.append(model(x)[0])
    assert torch.equal(*predictions)


def test_older_epochs_differ(trained):
    older, newer = read_checkpoint(trained / "epoch_000.ckpt"), read_checkpoint(trained / "last.ckpt")
    assert newer.epoch == 1 and older.epoch == 0
    assert not torch.equal(older.state_dict["embedding.weight"], newer.state_dict["embedding.weight"])


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="no such checkpoint"):
        load_model(tmp_path / "nope.ckpt")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not a checkpoint", "not a readable checkpoint"),
        (pickle.dumps({"a": 1}), "not a readable checkpoint"),
    ],
)
def test_unreadable_files(tmp_path, content, message):
    path = tmp_path / "bad.ckpt"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message) as err:
        read_checkpoint(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_truncated_file(trained, tmp_path):
    whole = (trained / "last.ckpt").read_bytes()
    path = tmp_path / "cut.ckpt"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(UserError, match="not a readable checkpoint"):
        read_checkpoint(path)


class Arbitrary:
    """An object that weights_only loading must refuse to build."""


def test_arbitrary_python_objects_are_refused(tmp_path):
    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "hyper_parameters": {"vocab": VOCAB}, "payload": Arbitrary()}, path)
    with pytest.raises(UserError, match="not a readable checkpoint"):
        read_checkpoint(path)


@pytest.mark.parametrize("contents", [{"weights": 1}, [1, 2, 3]])
def test_other_torch_files_are_not_checkpoints(tmp_path, contents):
    path = tmp_path / "other.pt"
    torch.save(contents, path)
    with pytest.raises(UserError, match="not a mozart-lstm checkpoint"):
        read_checkpoint(path)


def test_vocabulary_and_weights_must_agree(trained, tmp_path):
    saved = torch.load(trained / "lab_epoch_001.pt", weights_only=True)
    saved["vocab"] = saved["vocab"] + ["extra"]
    torch.save(saved, tmp_path / "mismatch.pt")
    with pytest.raises(UserError, match="11 vocabulary tokens but weights for 10"):
        load_model(tmp_path / "mismatch.pt")


def test_weights_must_fit_the_hyperparameters(trained, tmp_path):
    saved = torch.load(trained / "lab_epoch_001.pt", weights_only=True)
    saved["hparams"]["hidden_size"] = 12
    torch.save(saved, tmp_path / "wrong_size.pt")
    with pytest.raises(UserError, match="do not fit"):
        load_model(tmp_path / "wrong_size.pt")


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "last.ckpt"
    AtomicCheckpointIO().save_checkpoint({"epoch": 1}, path)
    with pytest.raises(Exception, match="pickle"):
        AtomicCheckpointIO().save_checkpoint({"epoch": 2, "bad": lambda: None}, path)
    assert torch.load(path, weights_only=True) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]


WRITER = """
import sys, torch
from mozart_lstm.models.checkpoint import AtomicCheckpointIO
from tests.defaults import model_settings, network_settings
io, big = AtomicCheckpointIO(), {"weights": torch.randn(1_000_000), "epoch": 0}
for epoch in range(10**6):
    big["epoch"] = epoch
    io.save_checkpoint(big, sys.argv[1])
    print(epoch, flush=True)
"""


def test_a_killed_writer_never_leaves_a_truncated_checkpoint(tmp_path):
    """SIGKILL a process that rewrites a 4 MB checkpoint in a loop: the file on disk always loads."""
    path = tmp_path / "last.ckpt"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(2):  # let it complete a few writes, then kill it while it writes the next
            writer.stdout.readline()
        time.sleep(0.01)
    finally:
        writer.kill()
        writer.wait()
    saved = torch.load(path, weights_only=True)
    assert saved["weights"].shape == (1_000_000,) and saved["epoch"] >= 1
    assert os.path.getsize(path) > 4_000_000
