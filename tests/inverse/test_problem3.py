"""Lab Problem 3 on the lab's measured_heat.npy."""

import numpy as np
import pytest

from heat_inverse import problem3
from heat_inverse.problem3 import WELL_IDENTIFIED, load_heat_data


@pytest.fixture(scope="module")
def result(measured_heat):
    return problem3(load_heat_data(measured_heat), timing=False)


def test_the_grid_is_the_labs(result):
    assert result["data_shape"] == [21, 11]
    assert result["h"] == 2.0
    assert result["k"] == 0.1


def test_true_diffusivity_reproduces_the_data(result):
    assert result["true_rms"] < 1e-3


def test_estimate_is_accurate_where_u_carries_signal(result):
    x, truth, nu = np.array(result["x"]), np.array(result["true_nu"]), np.array(result["fit"]["nu"])
    middle = np.abs(x) <= WELL_IDENTIFIED
    assert np.max(np.abs(nu - truth)[middle]) < 0.05
    assert result["fit"]["max_error_well_identified"] == pytest.approx(np.max(np.abs(nu - truth)[middle]))


def test_tight_tolerance_reaches_below_the_true_misfit(result):
    """The default gtol stops above the true nu's misfit; a least-squares minimiser must not."""
    assert result["fit"]["success"]
    assert result["fit"]["misfit"] <= result["true_misfit"]


def test_penalty_tames_the_poorly_identified_end(result):
    plain, smoothed = result["fit"], result["smoothed"]
    assert plain["max_error"] > 0.5 and plain["max_error_at"] == -10.0
    assert smoothed["max_error"] < 0.25
    assert smoothed["max_error_well_identified"] < 0.05


def test_lambda_meets_the_discrepancy_principle(result):
    target = result["data_count"] * result["noise_sigma"]["value"] ** 2
    assert result["smoothed"]["lambda"] > 0
    assert result["smoothed"]["misfit"] == pytest.approx(target, rel=0.02)


def test_estimates_stay_in_the_stable_region(result):
    """Inside the scheme's limit k/h^2 max(nu) <= 1/2, and far from it: the fits are not at the bound, and say so."""
    nu_max = result["h"] ** 2 / (2 * result["k"])
    assert result["stability"]["nu_max"] == pytest.approx(nu_max) == 20.0
    for fit in (result["fit"], result["smoothed"]):
        nu = np.array(fit["nu"])
        assert 0 < nu.min() and result["k"] / result["h"] ** 2 * nu.max() <= 0.5
        assert nu.max() < 0.5 * nu_max  # the lab's nu is at most 5.5
        assert fit["at_stability_bound"] is False


def test_a_fixed_lambda_is_used_as_given(measured_heat, result):
    fixed = problem3(load_heat_data(measured_heat), smoothing=1e-3, timing=False)
    assert fixed["smoothed"]["lambda"] == 1e-3
    assert "noise_sigma" not in fixed
    # far more smoothing than the discrepancy principle asks for: the fit no longer explains the data
    assert fixed["smoothed"]["misfit"] > 10 * result["smoothed"]["misfit"]
