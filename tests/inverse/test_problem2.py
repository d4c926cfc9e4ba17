import math
import warnings

import numpy as np
import pytest
from scipy.optimize import newton

from heat_inverse import critical_eps, problem2
from heat_inverse.problems import check_eps, p2_u_prime
from labtools.errors import UserError

LAB_EPS_STAR = 0.660491408893


def test_critical_eps_matches_the_lab():
    assert critical_eps() == pytest.approx(LAB_EPS_STAR, abs=1e-9)


def test_u_prime_first_touches_zero_at_x_one_for_critical_eps():
    eps = critical_eps()
    # independently of the arccos form brentq solves: the lab's u'(x) = 1 + cos(x/eps^2)/eps is 0 at x = 1, by
    # the secant method on that equation itself
    touching = newton(lambda e: 1 + math.cos(1 / e**2) / e, 0.65, x1=0.67, tol=1e-15)
    assert eps == pytest.approx(touching, abs=1e-12)
    x = np.linspace(0, 1, 100001)
    assert p2_u_prime(x[:-1], eps).min() > 0
    assert p2_u_prime(1.0, eps) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("eps", [0.5, 0.66, LAB_EPS_STAR - 1e-12])
def test_eps_at_or_below_the_bound_names_the_bound(eps):
    with pytest.raises(UserError, match=r"eps\* = 0\.660491408893.*no positive conductivity"):
        problem2([0.8, eps])


def test_eps_exactly_at_the_bound_is_refused():
    with pytest.raises(UserError, match=r"eps\* = 0\.660491408893"):
        check_eps([critical_eps()])


@pytest.mark.parametrize("bad", [[], ["abc"], [True], [float("nan")], "abc"])
def test_eps_that_is_empty_or_not_numbers_names_the_bound(bad):
    with pytest.raises(UserError, match=r"eps\* = 0\.660491408893"):
        check_eps(bad)


def test_just_above_the_bound_is_allowed_with_a_warning():
    with pytest.warns(UserWarning, match=r"eps=0.6606: a reaches 1959 at x=1 \(above 1000\)"):
        result = problem2([0.6606])
    assert result["runs"][0]["max_a"] == pytest.approx(1958.57, abs=0.01)


def test_a_below_the_warning_level_passes_quietly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = problem2([0.661, 0.8])
    assert result["runs"][0]["max_a"] == pytest.approx(418.33, abs=0.01)
    with pytest.warns(UserWarning, match="a reaches 418.3"):
        problem2([0.661], warn_above=400)


def test_table_shows_small_data_change_and_large_solution_change():
    runs = {run["eps"]: run for run in problem2([0.7, 0.8, 1.0])["runs"]}
    for eps, run in runs.items():
        assert run["u_dev_sup"] <= eps + 1e-12
        alpha = np.array(run["alpha"])
        assert run["max_dev_from_limit"] == pytest.approx(np.max(np.abs(alpha - (1 + np.linspace(0, 1, 11)))))
        assert run["max_a"] == pytest.approx(alpha.max())
        assert run["flux_right"] == pytest.approx(2.0, abs=1e-10)  # a(1)u'(1) = c1
    # below sqrt(2/pi) the sine completes a quarter period on [0, 1], so the data moves by exactly eps
    assert runs[0.7]["u_dev_sup"] == pytest.approx(0.7, abs=1e-6)
    assert runs[0.7]["max_dev_from_limit"] > 5 * runs[0.7]["u_dev_sup"]
