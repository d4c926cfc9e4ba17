"""What `make train`, `make train-lab` and `make generate` run, with a stand-in python that records its arguments."""

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# answers the Makefile's "does torch see a CUDA GPU" with $CUDA (0: yes), and prints any other command line
FAKE_PYTHON = """#!/bin/sh
if [ "$1" = "-c" ]; then exit "$CUDA"; fi
echo "ran: $*"
"""


def make(tmp_path, target: str, cuda: bool, *variables: str) -> list[str]:
    """The command lines `make target` runs, the environment taken as installed."""
    python = tmp_path / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    installed = tmp_path / "installed"
    installed.touch()  # newer than pyproject.toml: no install first
    command = ["make", "-s", "-C", str(REPO), target, f"PY={python}", f"STAMP={installed}", *variables]
    done = subprocess.run(
        command, capture_output=True, text=True, env={"CUDA": "0" if cuda else "1", "PATH": "/usr/bin:/bin"}
    )
    assert done.returncode == 0, done.stderr
    return [line.removeprefix("ran: ") for line in done.stdout.splitlines() if line.startswith("ran: ")]


@pytest.mark.parametrize(
    ("cuda", "variables", "expected"),
    [
        (True, [], "train.py experiment=recipe trainer=gpu"),
        (False, [], "train.py experiment=recipe trainer.precision=auto cpu_fallback=true"),
        (
            False,
            ["RECIPE=smoke", "ARGS=seed=3"],
            "train.py experiment=smoke trainer.precision=auto cpu_fallback=true seed=3",
        ),
    ],
)
def test_make_train_runs_the_recipe_on_a_gpu_and_on_a_cpu(tmp_path, cuda, variables, expected):
    assert make(tmp_path, "train", cuda, *variables) == [expected]


@pytest.mark.parametrize("cuda", [True, False])
def test_make_train_lab_is_the_labs_run_anywhere(tmp_path, cuda):
    assert make(tmp_path, "train-lab", cuda) == ["train.py"]


@pytest.mark.parametrize(
    ("variables", "expected"), [([], "generate.py"), (["CKPT=a/last.ckpt"], "generate.py ckpt=a/last.ckpt")]
)
def test_make_generate_takes_ckpt_only_when_given(tmp_path, variables, expected):
    assert make(tmp_path, "generate", False, *variables) == [expected]


@pytest.mark.parametrize(
    ("target", "variables", "expected"),
    [
        ("test", [], "-m pytest -n auto --dist loadfile --no-loadscope-reorder"),
        ("test", ["TEST_WORKERS=0"], "-m pytest -n 0 --dist loadfile --no-loadscope-reorder"),
        ("test-fast", [], "-m pytest -n auto --dist loadfile --no-loadscope-reorder -m not slow"),
    ],
)
def test_make_test_runs_one_pytest_process_per_core(tmp_path, target, variables, expected):
    assert make(tmp_path, target, False, *variables) == [expected]
