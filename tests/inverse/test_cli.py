"""inverse.py as a user runs it: a subprocess from the repository root."""

import json
import re

import pytest

pytestmark = pytest.mark.slow  # subprocesses

FORBIDDEN = ("torch", "pytorch_lightning", "lightning", "music21")


@pytest.fixture(scope="module")
def full_run(run_cli, measured_heat, tmp_path_factory):
    """Every part of the task in one run, with Python's import log on stderr."""
    out = tmp_path_factory.mktemp("inverse_run")
    proc = run_cli("-X", "importtime", "inverse.py", f"heat_data={measured_heat}", "noise=1e-3", f"hydra.run.dir={out}")
    return proc, out


def test_end_to_end_writes_every_figure_and_results(full_run):
    proc, out = full_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name in ("a_problem1.png", "a_problem2.png", "nu_problem3.png", "a_noisy.png", "summary.txt"):
        assert (out / name).stat().st_size > 0, name
    results = json.loads((out / "results.json").read_text())
    assert {"problem1", "problem2", "problem3", "noisy"} <= set(results)
    assert results["problem3"]["timing"]["speedup"]["gradient"] > 1
    assert "Problem 3: nu from 21x11 measurements" in proc.stdout


def test_never_imports_the_music_stack(full_run):
    proc, _ = full_run
    imported = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)", proc.stderr, flags=re.MULTILINE))
    # the log really covers the task (importtime does not log importlib.import_module itself, only what it imports)
    assert "heat_inverse.settings" in imported
    assert not {name for name in imported if name.split(".")[0] in FORBIDDEN}
    assert not {name for name in imported if name.split(".")[0] == "mozart_lstm"}


def test_bad_eps_is_one_line_and_exit_code_2(run_cli, tmp_path):
    proc = run_cli("inverse.py", "eps=[0.5]", f"hydra.run.dir={tmp_path}")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert re.match(r"error: eps=0.5 is too small; .*eps\* = 0\.660491408893", proc.stderr)


def test_multirun_over_eps_lists(run_cli, tmp_path):
    proc = run_cli("inverse.py", "-m", "eps=[0.7],[0.8,1.0]", f"hydra.sweep.dir={tmp_path}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    runs = [json.loads((tmp_path / str(i) / "results.json").read_text())["problem2"]["runs"] for i in (0, 1)]
    assert [[r["eps"] for r in job] for job in runs] == [[0.7], [0.8, 1.0]]
    assert all((tmp_path / str(i) / "a_problem2.png").is_file() for i in (0, 1))
