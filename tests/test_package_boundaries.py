"""The two applications share only `labtools`: the inverse task must run where the music stack is not installed."""

import ast
import sys
import types
from pathlib import Path

import pytest

from labtools.errors import UserError, run_task

SRC = Path(__file__).resolve().parents[1] / "src"


def imported_packages(package: str) -> dict[str, set[str]]:
    """Top-level packages each module of `package` imports, by file."""
    found = {}
    for path in sorted((SRC / package).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(SRC))] = names
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("heat_inverse", {"mozart_lstm", "torch", "pytorch_lightning", "lightning", "music21"}),
        ("labtools", {"mozart_lstm", "heat_inverse", "torch", "numpy", "music21", "omegaconf", "hydra"}),
    ],
)
def test_package_imports_nothing_it_must_not(package, forbidden):
    modules = imported_packages(package)
    assert modules  # the scan really read the package
    leaks = {module: sorted(names & forbidden) for module, names in modules.items() if names & forbidden}
    assert not leaks


def test_every_entry_script_reports_user_errors_the_same_way():
    root = SRC.parent
    for script, task in (
        ("train.py", "mozart_lstm.train"),
        ("generate.py", "mozart_lstm.generate"),
        ("inverse.py", "heat_inverse.task"),
        ("bench/__main__.py", "bench.run"),
    ):
        text = (root / script).read_text()
        assert "from labtools.errors import run_task" in text, script
        assert f'run_task("{task}", cfg)' in text, script


@pytest.mark.parametrize(
    ("raised", "code", "line"),
    [
        (UserError("eps=0.5 is too small"), 2, "error: eps=0.5 is too small"),
        (KeyboardInterrupt(), 130, "interrupted (Ctrl-C): stopped;"),
    ],
)
def test_run_task_ends_a_user_error_or_ctrl_c_with_one_line(monkeypatch, capsys, raised, code, line):
    task = types.ModuleType("fake_task")

    def run(cfg):
        assert cfg == {"eps": [0.5]}
        raise raised

    task.run = run
    monkeypatch.setitem(sys.modules, "fake_task", task)
    with pytest.raises(SystemExit) as stopped:
        run_task("fake_task", {"eps": [0.5]})
    assert stopped.value.code == code
    err = capsys.readouterr().err
    assert err.startswith(line) and err.count("\n") == 1


def test_run_task_returns_what_the_task_returns(monkeypatch):
    task = types.ModuleType("fake_task")
    task.run = lambda cfg: {"done": cfg}
    monkeypatch.setitem(sys.modules, "fake_task", task)
    assert run_task("fake_task", 3) == {"done": 3}
