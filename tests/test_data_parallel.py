"""trainer=ddp as users launch it, from the command line: two nodes on one machine (two train.py processes started
as node 0 and node 1 with the variables a launch by hand sets), and the settings that apply only on CUDA.
The bad launches are in reliability/test_ddp_launch_errors.py."""

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mozart_lstm import distributed
from mozart_lstm.launch_rank import hydra_overrides, launch_position

REPO = Path(__file__).resolve().parents[1]
EPOCHS, BATCH = 2, 4

RANK_RECORD = '''
import json
from pathlib import Path

import torch
from pytorch_lightning.callbacks import Callback


class RankRecord(Callback):
    """Each process writes the windows its sampler hands it every epoch, how many batches it trained on, the
    metrics it ends with and its weights, so that a test can compare the ranks."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.epochs = []

    def on_train_epoch_start(self, trainer, pl_module):
        loader = trainer.train_dataloader  # its sampler is Lightning's DistributedSampler, at this epoch's seed
        self.epochs.append({"windows": len(loader.dataset), "indices": list(loader.sampler), "batches": 0})

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.epochs[-1]["batches"] += 1

    def on_train_end(self, trainer, pl_module):
        metrics = {key: float(value) for key, value in trainer.callback_metrics.items() if "/" in key}
        record = {"world_size": trainer.world_size, "epochs": self.epochs, "metrics": metrics}
        (self.folder / f"rank{trainer.global_rank}.json").write_text(json.dumps(record))
        torch.save(pl_module.state_dict(), self.folder / f"rank{trainer.global_rank}.pt")
'''


def start_node(node: int, port: int, args: list[str], cwd: Path, helpers: Path) -> subprocess.Popen:
    env = os.environ | {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "NODE_RANK": str(node)}
    env |= {"WORLD_SIZE": "2", "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(helpers), str(REPO / "src"), os.environ.get("PYTHONPATH", "")])
    command = [sys.executable, str(REPO / "train.py"), *args]
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(nodes: list[subprocess.Popen], timeout: float) -> list[str]:
    """What each node printed, once all have ended; all are stopped when one outlives the timeout."""
    try:
        return [node.communicate(timeout=timeout)[0] for node in nodes]
    finally:
        for node in nodes:
            if node.poll() is None:
                node.kill()
                node.wait()


@pytest.fixture(scope="module")
def two_node_run(tmp_path_factory, midi_dir, token_cache_dir, tiny_sizes, free_port):
    """A tiny run trained by node 0 and node 1 together: its folder, and the records, the weights of ranks 0 and
    1, node 0's process id."""
    base = tmp_path_factory.mktemp("two_nodes")
    helpers, cwd, run = base / "helpers", base / "cwd", base / "run"
    for folder in (helpers, cwd):
        folder.mkdir()
    (helpers / "rank_record.py").write_text(RANK_RECORD)
    args = [
        "trainer=ddp", "trainer.accelerator=cpu", "trainer.num_nodes=2", "trainer.devices=1",
        f"trainer.max_epochs={EPOCHS}", "trainer.enable_progress_bar=false", "trainer.strategy.timeout.seconds=300",
        f"hydra.run.dir={run}", f"data.archive={midi_dir}", f"data.cache_dir={token_cache_dir}",
        f"data.data_dir={base / 'data'}", *tiny_sizes, f"data.batch_size={BATCH}", "torch_threads=1",
        "+callbacks.ranks._target_=rank_record.RankRecord", f"+callbacks.ranks.folder={helpers}",
    ]  # fmt: skip
    port = free_port()
    nodes = [start_node(node, port, args, cwd, helpers) for node in (0, 1)]
    printed = finish(nodes, timeout=500)
    for node, output in zip(nodes, printed, strict=True):
        assert node.returncode == 0, output[-3000:]
    assert list(cwd.iterdir()) == [], "no process made a run folder of its own under the working folder"
    records = [json.loads((helpers / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    weights = [torch.load(helpers / f"rank{rank}.pt", weights_only=True) for rank in (0, 1)]
    return run, records, weights, nodes[0].pid


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_two_nodes_shard_the_windows_disjointly(two_node_run):
    _, records, _, _ = two_node_run
    assert [record["world_size"] for record in records] == [2, 2]
    for epoch in range(EPOCHS):
        first, second = (record["epochs"][epoch] for record in records)
        windows = first["windows"]
        share = math.ceil(windows / 2)  # DistributedSampler pads the shorter rank with a window of the other's
        assert len(first["indices"]) == len(second["indices"]) == share
        assert set(first["indices"]) | set(second["indices"]) == set(range(windows))
        assert len(set(first["indices"]) & set(second["indices"])) == 2 * share - windows
        assert first["batches"] == second["batches"] == share // BATCH  # the training loader drops a short batch
    orders = [records[0]["epochs"][epoch]["indices"] for epoch in range(EPOCHS)]
    assert orders[0] != orders[1], "each epoch shuffles anew"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_two_nodes_end_with_the_same_weights_and_metrics(two_node_run):
    run, records, weights, _ = two_node_run
    assert weights[0].keys() == weights[1].keys()
    for name, tensor in weights[0].items():
        assert torch.equal(tensor, weights[1][name]), name
    saved = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    assert all(torch.equal(saved[name], tensor) for name, tensor in weights[1].items())
    assert records[0]["metrics"] == records[1]["metrics"]
    assert {"train/loss", "test/loss", "test/acc"} <= records[0]["metrics"].keys()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_rank_0_alone_writes_the_run_into_one_folder(two_node_run):
    run, _, _, rank0_pid = two_node_run
    checkpoints = {path.name for path in (run / "checkpoints").iterdir()}
    assert {"last.ckpt", "epoch_000.ckpt", "epoch_001.ckpt", "lab_epoch_001.pt"} <= checkpoints
    with open(run / "metrics.csv", newline="") as rows:
        assert len(list(csv.DictReader(rows))) == EPOCHS
    assert (run / "plots" / "loss.png").is_file() and (run / "plots" / "accuracy.png").is_file()
    events = list((run / "tensorboard").glob("events.out.tfevents.*"))
    assert events and {event.name.rsplit(".", 2)[1] for event in events} == {str(rank0_pid)}
    # node 1 keeps to its own log file there, and writes no .hydra/ of its own over rank 0's
    assert (run / "train.log").is_file() and (run / "train_node1_process0.log").is_file()
    assert "train_node1" not in (run / ".hydra" / "hydra.yaml").read_text()
    assert "Initializing distributed: GLOBAL_RANK: 1" in (run / "train_node1_process0.log").read_text()


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_two_cpu_processes_on_one_machine(tiny_train_overrides, tmp_path):
    """trainer.devices=2 on a CPU: Lightning starts the second process itself, into the same run folder."""
    run = tmp_path / "run"
    args = [*tiny_train_overrides(run), "trainer=ddp", "trainer.devices=2", "trainer.accelerator=cpu"]
    command = [sys.executable, str(REPO / "train.py"), *args, f"hydra.run.dir={run}"]
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=380)
    assert done.returncode == 0, done.stderr[-3000:]
    printed = done.stdout + done.stderr  # Hydra logs to stdout
    assert "trainer.sync_batchnorm: off, torch's SyncBatchNorm runs on CUDA GPUs only" in printed
    assert "distributed_backend=gloo" in printed and "Starting with 2 processes" in printed
    assert (run / "checkpoints" / "last.ckpt").is_file() and (run / "metrics.csv").is_file()
    assert [path.name for path in tmp_path.iterdir()] == ["run"]
    assert (run / "train_node0_process1.log").is_file()


@pytest.mark.parametrize(
    ("environ", "position"),
    [
        ({}, None),
        ({"NODE_RANK": "0", "LOCAL_RANK": "0"}, None),
        ({"NODE_RANK": "1"}, "node1_process0"),
        ({"NODE_RANK": "0", "LOCAL_RANK": "1"}, "node0_process1"),
        ({"RANK": "0", "LOCAL_RANK": "0", "GROUP_RANK": "0"}, None),  # torchrun's rank 0
        ({"RANK": "3", "LOCAL_RANK": "1", "GROUP_RANK": "1"}, "rank3"),
        ({"SLURM_PROCID": "2", "SLURM_LOCALID": "0"}, "rank2"),
    ],
)
def test_the_processes_other_than_rank_0_keep_out_of_the_run_folder(environ, position):
    assert launch_position(environ) == position
    expected = [] if position is None else [f"hydra.job.name=train_{position}", "hydra.output_subdir=null"]
    assert hydra_overrides("train", environ) == expected


@pytest.mark.parametrize(
    ("accelerator", "cuda", "applies"),
    [("cpu", False, False), ("auto", False, False), ("cpu", True, False), ("auto", True, True), ("gpu", True, True)],
)
def test_sync_batchnorm_only_on_cuda(compose_cfg, monkeypatch, accelerator, cuda, applies):
    monkeypatch.setattr(distributed.CUDAAccelerator, "is_available", staticmethod(lambda: cuda))
    cfg = compose_cfg("train", ["trainer=ddp", f"trainer.accelerator={accelerator}"])
    assert cfg.trainer.sync_batchnorm is True
    assert distributed.trainer_overrides(cfg.trainer) == ({} if applies else {"sync_batchnorm": False})
