"""run(cfg) from a composed config: what it writes, and how bad settings are refused."""

import json

import pytest

from heat_inverse.task import run
from labtools.errors import UserError

EPS_STAR_TEXT = r"eps\* = 0\.660491408893"


def test_problems_one_and_two_write_figures_results_and_summary(inverse_cfg, tmp_path, capsys):
    results = run(inverse_cfg("problem=2", "eps=[0.7,0.8,1.0]"))
    assert (tmp_path / "a_problem1.png").stat().st_size > 0
    assert (tmp_path / "a_problem2.png").stat().st_size > 0
    assert not (tmp_path / "nu_problem3.png").exists()
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["problem1"]["alpha"] == results["problem1"]["alpha"]
    assert [r["eps"] for r in saved["problem2"]["runs"]] == [0.7, 0.8, 1.0]
    out = capsys.readouterr().out
    assert "eps* = 0.660491408893" in out
    assert out == (tmp_path / "summary.txt").read_text() + f"outputs: {tmp_path}\n"


def test_default_run_skips_problem3_with_a_note(inverse_cfg):
    results = run(inverse_cfg())
    assert "problem3" not in results
    assert any("heat_data=PATH" in note for note in results["notes"])


def test_problem1_alone(inverse_cfg, tmp_path):
    results = run(inverse_cfg("problem=1", "eps=[]"))
    assert set(results) >= {"problem1"} and "problem2" not in results


def test_warnings_reach_results(inverse_cfg):
    results = run(inverse_cfg("problem=2", "eps=[0.6606]"))
    assert any("a reaches 1959" in w for w in results["warnings"])


@pytest.mark.parametrize("eps", ["[]", "[abc]", "[0.5]", "[0.8,0.66049140889]", "abc"])
def test_bad_eps_names_the_bound(inverse_cfg, tmp_path, eps):
    with pytest.raises(UserError, match=EPS_STAR_TEXT):
        run(inverse_cfg(f"eps={eps}"))
    assert not (tmp_path / "results.json").exists()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("problem=5", "problem=5: use all, 1, 2, 3"),
        ("problem=3", "problem 3 needs the measurements: pass heat_data=PATH"),
        ("heat_data=/nonexistent/measured_heat.npy", "heat_data=/nonexistent/measured_heat.npy: no such file"),
        ("noise=-1", "noise=-1 must be positive"),
        ("heat.smoothing=sometimes", "heat.smoothing"),
        ("start=abc", "start='abc' is not a number"),
    ],
)
def test_bad_settings_are_one_clear_error(inverse_cfg, override, message):
    with pytest.raises(UserError, match=message) as caught:
        run(inverse_cfg(override))
    assert "\n" not in str(caught.value)
