import numpy as np
import pytest

from heat_inverse import critical_eps, problem1, solve_conductivity
from heat_inverse.problems import P2_NODES, p1_source, p1_u_prime, p2_source, p2_u_prime
from labtools.errors import UserError

# The lab's answer for Problem 1 at x = 0, 0.1, ..., 1.
LAB_NODAL_A = [3 / 4, 33 / 50, 59 / 100, 27 / 50, 51 / 100] + [1 / 2] * 6


def test_problem1_nodal_values_match_the_lab():
    result = problem1()
    np.testing.assert_allclose(result["alpha"], LAB_NODAL_A, rtol=0, atol=1e-8)
    assert result["max_diff"] <= 1e-8


def test_problem1_boundary_conditions():
    result = problem1()
    assert result["flux_left"] == pytest.approx(3 / 8, abs=1e-10)
    assert result["flux_right"] == pytest.approx(5 / 4, abs=1e-10)


@pytest.mark.parametrize("start", [1000.0, 1e-3, -1.0])
def test_bad_starts_reach_the_closed_form_on_problem1(start):
    result = solve_conductivity(p1_source, 3 / 8, p1_u_prime, np.linspace(0, 1, 11), start=start, breakpoints=(0.5,))
    np.testing.assert_allclose(result.alpha, LAB_NODAL_A, rtol=0, atol=1e-8)
    assert result.max_diff <= 1e-8
    assert result.optimizer["start"] == start


@pytest.mark.parametrize("start", [1000.0, 1e-3, -1.0])
def test_bad_starts_reach_the_closed_form_near_the_bound(start):
    """eps = 0.661 puts a(1) near 418, where a plateau in alpha would stall a naive optimiser."""
    eps = 0.661
    result = solve_conductivity(p2_source, 1.0, lambda x: p2_u_prime(x, eps), P2_NODES, start=start)
    assert result.alpha[-1] == pytest.approx(2 / p2_u_prime(1.0, eps), rel=1e-10)
    assert result.max_diff <= 1e-8


def test_closed_form_is_reported_beside_the_optimiser():
    result = solve_conductivity(p2_source, 1.0, lambda x: 1 + 0 * x, P2_NODES)
    np.testing.assert_allclose(result.closed_form, 1 + P2_NODES, rtol=1e-12)
    assert result.max_diff == pytest.approx(np.max(np.abs(result.alpha - result.closed_form)))


def test_zero_start_is_refused():
    with pytest.raises(UserError, match="start=0"):
        solve_conductivity(p2_source, 1.0, lambda x: 1 + 0 * x, P2_NODES, start=0.0)


def test_a_sign_change_in_u_prime_means_no_positive_conductivity():
    eps = 0.5 * critical_eps()
    with pytest.raises(UserError, match="no positive conductivity at x="):
        solve_conductivity(p2_source, 1.0, lambda x: p2_u_prime(x, eps), P2_NODES)


def test_u_prime_may_be_given_as_nodal_values():
    result = solve_conductivity(p2_source, 1.0, np.full(11, 2.0), P2_NODES)
    np.testing.assert_allclose(result.alpha, (1 + P2_NODES) / 2, rtol=1e-12)
