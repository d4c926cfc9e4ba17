"""A data-parallel launch gone wrong, from the command line: each is one `error:` line and exit code 2, never a
traceback, and a node that never comes stops the run at trainer.strategy.timeout.seconds, naming it and the port.

Node 0 and node 1 are launched as by hand (MASTER_ADDR, MASTER_PORT, NODE_RANK, WORLD_SIZE); the one run that
trains on two nodes is in test_data_parallel.py."""

import socket

import pytest

TWO_NODES = ["trainer.num_nodes=2", "trainer.devices=1", "trainer.strategy.timeout.seconds=2"]
# (overrides, environment, the error line's start); {held}: a port something listens on, {free}: one nobody does
CASES = [
    (["trainer.num_nodes=0"], {}, "error: trainer.num_nodes=0: must be a whole number >= 1"),
    (["trainer.devices=0"], {}, "error: trainer.devices=0: must be a whole number >= 1"),
    (TWO_NODES, {"MASTER_PORT": "http"}, "error: MASTER_PORT=http: must be a port number in [1, 65535]"),
    (TWO_NODES, {"NODE_RANK": "2"}, "error: NODE_RANK=2: must be below trainer.num_nodes=2 (nodes count from 0)"),
    (
        TWO_NODES,
        {"WORLD_SIZE": "3"},
        "error: WORLD_SIZE=3: the launch's processes must equal trainer.num_nodes=2 x trainer.devices=1 = 2",
    ),
    (TWO_NODES, {"MASTER_PORT": "{held}"}, "error: MASTER_PORT={held}: already in use at 127.0.0.1:{held}"),
    (
        TWO_NODES,
        {"MASTER_PORT": "{free}"},
        "error: node 1 never joined node 0 at 127.0.0.1:{free} within 2 s (1 of 2 processes joined): start it",
    ),
    (
        TWO_NODES,
        {"MASTER_PORT": "{free}", "NODE_RANK": "1"},
        "error: node 1: node 0 never answered at 127.0.0.1:{free} within 2 s: start node 0 (NODE_RANK=0)",
    ),
]
LAUNCH = {"MASTER_ADDR": "127.0.0.1", "NODE_RANK": "0", "WORLD_SIZE": "2"}


@pytest.mark.slow
@pytest.mark.timeout(120 * len(CASES))  # the cases share one interpreter, as long as command_line_cases allows
def test_a_bad_launch_is_one_line_and_exit_2(command_line_cases, tiny_train_overrides, free_port, tmp_path):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        ports = {"held": held.getsockname()[1], "free": free_port()}
        cases = [
            {
                "args": [*tiny_train_overrides(tmp_path / f"run{number}"), "trainer=ddp", "trainer.accelerator=cpu",
                         *overrides, f"hydra.run.dir={tmp_path / f'run{number}'}"],
                "env": {"MASTER_PORT": str(ports["free"])} | LAUNCH | {k: v.format(**ports) for k, v in env.items()},
            }
            for number, (overrides, env, _) in enumerate(CASES)
        ]  # fmt: skip
        results = command_line_cases("train.py", cases, cwd=tmp_path)
    for (overrides, env, expected), (code, stderr) in zip(CASES, results, strict=True):
        errors = [line for line in stderr.splitlines() if line.startswith("error:")]
        assert code == 2 and len(errors) == 1, (overrides, env, stderr[-3000:])
        assert errors[0].startswith(expected.format(**ports)), errors[0]
        assert "Traceback" not in stderr
