"""Every numeric setting of the inverse task at its extremes, and hopeless measurement files.

Each row is (overrides -> exit code, message fragment): exit code 2 is a UserError, which inverse.py prints
as one `error:` line (test_cli.py checks that mapping); 0 is a finished run whose summary or warnings hold the
fragment. Integers written as floats (2.0) are refused for integer keys and taken as they are for real ones.
"""

import numpy as np
import pytest

from heat_inverse.heat import Grid, simulate
from heat_inverse.problem3 import discrepancy_fit, true_diffusivity
from heat_inverse.task import run
from labtools.errors import UserError

NOISY = ["noise=1e-3", "noisy.samples=31"]  # the noisy experiment on its smallest grid


def outcome(cfg) -> tuple[int, str]:
    """(exit code, text): 2 and the one-line message for a UserError, else 0 and summary plus warnings."""
    try:
        results = run(cfg)
    except UserError as err:
        assert "\n" not in str(err)
        return 2, str(err)
    return 0, " ".join([str(results.get("problem2", "")), *results["warnings"], str(results.get("noisy", ""))])


SETTINGS = [
    # eps: each must exceed eps* ~ 0.6605; a huge one is the limit a = 1 + x, computed without overflow
    (["eps=[0]"], 2, "eps=0 is too small"),
    (["eps=[-1]"], 2, "eps=-1 is too small"),
    (["eps=[1e-300]"], 2, "eps=1e-300 is too small"),
    (["eps=[1e300]"], 0, "'eps': 1e+300"),
    (["eps=[nan]"], 2, "eps: nan is not a number"),
    (["eps=[inf]"], 2, "eps=inf: give a finite eps"),
    (["eps=[1]"], 0, "'eps': 1.0"),
    # start: the optimiser's initial conductivity, any finite non-zero value
    (["start=0"], 2, "start=0.0: the optimiser's initial conductivity must be finite and non-zero"),
    (["start=-1"], 0, "'success': True"),
    (["start=1e-300"], 2, "start=1e-300: so close to 0"),
    (["start=1e300"], 0, "'success': True"),
    (["start=nan"], 2, "start=nan is not a number"),
    (["start=inf"], 2, "start=inf: give a finite number"),
    # a_warn
    (["a_warn=0"], 2, "a_warn=0 must be positive"),
    (["a_warn=-1"], 2, "a_warn=-1 must be positive"),
    (["a_warn=1e-300"], 0, "above 1e-300"),
    (["a_warn=1e300"], 0, "'max_a'"),
    (["a_warn=nan"], 2, "a_warn=nan is not a number"),
    (["a_warn=inf"], 2, "a_warn=inf: give a finite number"),
    # noise and the noisy experiment
    (["noise=0"], 2, "noise=0 must be positive"),
    (["noise=-1"], 2, "noise=-1 must be positive"),
    (["noise=1e-300", "noisy.samples=31"], 0, "'delta': 1e-300"),
    (["noise=1e300", "noisy.samples=31"], 2, "noise=1e+300: with this much noise, finite differences give no"),
    (["noise=nan"], 2, "noise=nan is not a number"),
    (["noise=inf"], 2, "noise=inf: give a finite number"),
    ([*NOISY, "noisy.samples=0"], 2, "noisy.samples=0: use 10 m + 1 points"),
    ([*NOISY, "noisy.samples=-1"], 2, "noisy.samples=-1 must be a whole number >= 0"),
    ([*NOISY, "noisy.samples=21.0"], 2, "noisy.samples=21.0 must be a whole number"),
    ([*NOISY, "noisy.samples=1e300"], 2, "noisy.samples=1e+300 must be a whole number"),
    ([*NOISY, "noisy.samples=10000000001"], 2, "noisy.samples=10000000001: Tikhonov differentiation needs about"),
    ([*NOISY, "noisy.seed=-1"], 2, "noisy.seed=-1 must be a whole number >= 0"),
    ([*NOISY, "noisy.seed=1.0"], 2, "noisy.seed=1.0 must be a whole number"),
    ([*NOISY, "noisy.seed=1099511627776"], 0, "'seed': 1099511627776"),
    ([*NOISY, "noisy.eps=1e300"], 0, "'eps': 1e+300"),
    ([*NOISY, "noisy.eps=nan"], 2, "eps: nan is not a number"),
    # problem
    (["problem=2.0"], 2, "problem=2.0: use all, 1, 2, 3"),
    (["problem=0"], 2, "problem=0: use all, 1, 2, 3"),
]


@pytest.mark.parametrize(("overrides", "code", "fragment"), SETTINGS, ids=[" ".join(row[0]) for row in SETTINGS])
def test_setting_extremes(inverse_cfg, overrides, code, fragment):
    problem = [] if any(o.startswith("problem=") for o in overrides) else ["problem=2"]
    seen, text = outcome(inverse_cfg(*problem, *overrides))
    assert seen == code, text
    assert fragment in text


def lab_like(rows=21, noise=1e-3) -> np.ndarray:
    """Measurements as the lab made them (true nu, 11 nodes on [-10, 10], k = 0.1), plus Gaussian noise."""
    grid = Grid(np.linspace(-10.0, 10.0, 11), 0.1)
    exact = simulate(true_diffusivity(grid.x), np.exp(-(grid.x**2) / 8), rows - 1, grid)
    return exact + noise * np.random.default_rng(0).standard_normal(exact.shape)


def with_nan(data):
    data[3, 4] = np.nan
    return data


def with_inf(data):
    data[5, 2] = -np.inf
    return data


HEAT_FILES = [
    ("zeros", lambda: np.zeros((21, 11)), 2, "every value is 0: a constant u carries no information about nu"),
    ("constant", lambda: np.full((21, 11), 3.5), 2, "every value is 3.5: a constant u"),
    ("a NaN inside", lambda: with_nan(lab_like()), 2, "1 NaN value(s), the first at row 3, column 4"),
    ("an inf inside", lambda: with_inf(lab_like()), 2, "1 infinite value(s), the first at row 5, column 2"),
    ("one time step", lambda: lab_like()[:1], 2, "1 time step(s): the scheme needs the initial state"),
    ("two nodes", lambda: lab_like()[:, :2], 2, "2 node(s) per time step"),
    ("one row of numbers", lambda: lab_like()[0], 2, "expected a 2-D array of real numbers"),
    ("three dimensions", lambda: np.ones((2, 3, 4)), 2, "expected a 2-D array of real numbers"),
    ("huge values", lambda: lab_like() * 1e300, 2, "their squared misfit overflows"),
    ("too few steps to estimate the noise", lambda: lab_like(rows=2), 2, "too few to estimate the noise level"),
    ("pure noise", lambda: np.random.default_rng(0).standard_normal((21, 11)), 2, "no smooth nu misfits the data"),
    ("noise-free", lambda: lab_like(noise=0.0), 0, "the smoothed fit is the unpenalised one"),
    ("the lab's kind", lambda: lab_like(), 0, "penalised (lambda="),
]


@pytest.fixture
def heat_cfg(inverse_cfg, tmp_path):
    """The config for Problem 3 on `data`, saved as tmp_path/heat.npy (and the file's path)."""

    def make(data, *overrides):
        path = tmp_path / "heat.npy"
        np.save(path, data)
        return inverse_cfg("problem=3", f"heat_data={path}", "heat.timing=false", *overrides), path

    return make


@pytest.mark.parametrize(("make", "code", "fragment"), [row[1:] for row in HEAT_FILES], ids=[r[0] for r in HEAT_FILES])
def test_heat_data_files(heat_cfg, capsys, make, code, fragment):
    cfg, path = heat_cfg(make())
    seen, text = outcome(cfg)
    text += capsys.readouterr().out
    assert seen == code, text
    assert fragment in text
    if code:
        assert text.startswith(f"heat_data={path}: ")
        assert "heat.sigma=" not in text and "heat.sigma is" not in text  # the user never set it


HEAT_SETTINGS = [
    (["heat.dt=0"], 2, "heat.dt=0 must be positive"),
    (["heat.dt=-1"], 2, "heat.dt=-1 must be positive"),
    (["heat.dt=1e-300"], 2, "heat.start=2.0 is too close to an end of (0, 2e+300), where the scheme is stable"),
    (["heat.dt=1e300"], 2, "heat.start=2.0 must lie in (0, 2e-300)"),
    (["heat.dt=nan"], 2, "heat.dt=nan is not a number"),
    (["heat.dt=inf"], 2, "heat.dt=inf: give a finite number"),
    (["heat.x_range=[0,0]"], 2, "the left end must be below the right end"),
    (["heat.x_range=[-1e300,1e300]"], 2, "is outside what floating point can compute with"),
    (["heat.x_range=[0,1e-300]"], 2, "is outside what floating point can compute with"),
    (["heat.x_range=[nan,1]"], 2, "heat.x_range=nan is not a number"),
    (["heat.x_range=[-10,inf]"], 2, "heat.x_range=inf: give a finite number"),
    (["heat.x_range=[-10,10]"], 0, "penalised (lambda="),
    (["heat.start=0"], 2, "heat.start=0 must be positive"),
    (["heat.start=1e-300"], 2, "heat.start=1e-300 is too close to an end of (0, 20)"),
    (["heat.start=1e300"], 2, "heat.start=1e+300 must lie in (0, 20)"),
    (["heat.start=nan"], 2, "heat.start=nan is not a number"),
    (["heat.sigma=0"], 2, "heat.sigma=0 must be positive"),
    (["heat.sigma=1e-300"], 2, "heat.sigma=1e-300 is too small"),
    (["heat.sigma=1e300"], 2, "heat.sigma=1e+300 is too large"),
    (["heat.sigma=inf"], 2, "heat.sigma=inf: give a finite number"),
    (["heat.smoothing=0"], 0, "penalised (lambda=0)"),
    (["heat.smoothing=1e300"], 2, "heat.smoothing=1e+300: a fixed lambda must lie in [0, 1e+100]"),
    (["heat.smoothing=1e100"], 0, "penalised (lambda=1e+100)"),
    (["heat.smoothing=-1"], 2, "a fixed lambda must lie in [0, 1e+100]"),
    (["heat.smoothing=nan"], 2, "is not a number"),
]


@pytest.mark.parametrize(("overrides", "code", "fragment"), HEAT_SETTINGS, ids=[r[0][0] for r in HEAT_SETTINGS])
def test_heat_setting_extremes(heat_cfg, capsys, overrides, code, fragment):
    seen, text = outcome(heat_cfg(lab_like(), *overrides)[0])
    text += capsys.readouterr().out
    assert seen == code, text
    assert fragment in text


def test_a_zero_noise_estimate_gives_the_unpenalised_fit_not_a_zero_division():
    """The penalty search once divided by N sigma^2; with sigma estimated as 0 it must still answer."""
    data = lab_like(noise=0.0)
    grid = Grid(np.linspace(-10.0, 10.0, 11), 0.1)
    with pytest.warns(UserWarning, match="below what any penalty allows"):
        fit = discrepancy_fit(data, grid, 0.0, estimated=True, source="exact.npy")
    assert fit["lambda"] == 0.0 and fit["misfit"] < 1e-12
