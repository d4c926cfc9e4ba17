"""The two applications share only `labtools`: the inverse task must run where the music stack is not installed."""

import ast
import os
import subprocess
import sys
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


ENTRY_SCRIPTS = {
    "train.py": "mozart_lstm.train",
    "generate.py": "mozart_lstm.generate",
    "inverse.py": "heat_inverse.task",
    "bench/__main__.py": "bench.run",
}


def task_imports(script: Path) -> tuple[list[str], list[str]]:
    """The modules `script` imports at its top level, and those imported inside its functions."""
    tree = ast.parse(script.read_text(), filename=str(script))
    top = [node.module for node in tree.body if isinstance(node, ast.ImportFrom)]
    inner = [
        node.module
        for function in tree.body
        if isinstance(function, ast.FunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.ImportFrom)
    ]
    return top, inner


@pytest.mark.parametrize(("script", "task"), ENTRY_SCRIPTS.items())
def test_every_entry_script_reports_user_errors_the_same_way(script, task):
    """Each script hands run_task a function that imports its task's `run` by name, inside the function: an editor
    follows the import, and the heavy packages load only when a run starts."""
    text = (SRC.parent / script).read_text()
    top, inner = task_imports(SRC.parent / script)
    assert "labtools.errors" in top and "run_task(" in text
    assert task in inner and task not in top
    assert f"from {task} import run\n" in text


@pytest.mark.parametrize("script", ["train.py", "generate.py", "inverse.py"])
def test_help_answers_without_loading_the_task(script):
    """`python <script> --help` prints Hydra's help without importing torch, music21 or numpy."""
    probe = (
        "import runpy, sys\n"
        f"sys.argv = [{script!r}, '--help']\n"
        "try:\n"
        f"    runpy.run_path({script!r}, run_name='__main__')\n"
        "except SystemExit as stop:\n"
        "    assert not stop.code, stop.code\n"
        "print(sorted(name for name in ('torch', 'music21', 'numpy') if name in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=SRC.parent, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "Powered by Hydra" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("raised", "code", "line"),
    [
        (UserError("eps=0.5 is too small"), 2, "error: eps=0.5 is too small"),
        (KeyboardInterrupt(), 130, "interrupted (Ctrl-C): stopped;"),
    ],
)
def test_run_task_ends_a_user_error_or_ctrl_c_with_one_line(capsys, raised, code, line):
    def run(cfg):
        assert cfg == {"eps": [0.5]}
        raise raised

    with pytest.raises(SystemExit) as stopped:
        run_task(run, {"eps": [0.5]})
    assert stopped.value.code == code
    err = capsys.readouterr().err
    assert err.startswith(line) and err.count("\n") == 1


def test_run_task_returns_what_the_task_returns():
    assert run_task(lambda cfg: {"done": cfg}, 3) == {"done": 3}
