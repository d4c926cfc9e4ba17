import numpy as np
import pytest

from heat_inverse import noisy_problem2
from heat_inverse.differentiation import tikhonov_derivative, trapezoid_matrix
from labtools.errors import UserError


def test_regularised_derivative_beats_finite_differences():
    result = noisy_problem2(1e-3, eps=0.8, samples=201, seed=0)
    naive, regularised = result["finite_differences"]["max_error"], result["tikhonov_gcv"]["max_error"]
    assert regularised < naive / 5
    assert regularised < 0.05


def test_same_seed_same_numbers():
    first, second = noisy_problem2(1e-3, seed=3), noisy_problem2(1e-3, seed=3)
    assert first["tikhonov_gcv"]["alpha"] == second["tikhonov_gcv"]["alpha"]


def test_trapezoid_matrix_integrates_exactly_for_linear_functions():
    x = np.linspace(0, 1, 21)
    np.testing.assert_allclose(trapezoid_matrix(x) @ (2 * x + 1), x**2 + x, atol=1e-14)


def test_tikhonov_derivative_of_a_smooth_noise_free_curve():
    x = np.linspace(0, 1, 101)
    slope, lam = tikhonov_derivative(x, np.sin(2 * x))
    assert lam > 0
    np.testing.assert_allclose(slope[5:-5], 2 * np.cos(2 * x[5:-5]), atol=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"delta": 0.0}, "noise=0.0"),
        ({"delta": 1e-3, "samples": 200}, "noisy.samples=200"),
        ({"delta": 1e-3, "eps": 0.5}, r"eps\* = 0\.660491408893"),
    ],
)
def test_bad_noise_settings(kwargs, message):
    with pytest.raises(UserError, match=message):
        noisy_problem2(**kwargs)
