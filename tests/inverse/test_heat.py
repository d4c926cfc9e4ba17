"""The explicit scheme, its adjoint gradient and the fit, on synthetic data (no lab file needed)."""

import numpy as np
import pytest

from heat_inverse import problem3
from heat_inverse.heat import Grid, misfit, misfit_and_gradient, simulate, simulate_loop
from heat_inverse.problem3 import fit_diffusivity, load_heat_data, true_diffusivity
from labtools.errors import UserError

GRID = Grid(np.linspace(-10.0, 10.0, 11), 0.1)


def bump():
    u0 = np.zeros(11)
    u0[4:7] = [0.1, 1.0, 0.1]
    return u0


def test_vectorised_scheme_matches_the_lab_loop():
    nu = np.random.default_rng(0).uniform(0.5, 5.0, 11)
    np.testing.assert_allclose(simulate(nu, bump(), 20, GRID), simulate_loop(nu, bump(), 20, GRID), atol=1e-15)


def test_scheme_keeps_zero_dirichlet_ends():
    states = simulate(np.full(11, 3.0), np.ones(11), 20, GRID)
    assert np.all(states[:, [0, -1]] == 0)


def test_adjoint_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    data = simulate(true_diffusivity(GRID.x), bump(), 20, GRID) + 1e-3 * rng.standard_normal((21, 11))
    nu = rng.uniform(1.0, 4.0, 11)
    value, grad = misfit_and_gradient(nu, data, GRID)
    assert value == pytest.approx(misfit(nu, data, GRID), rel=1e-12)
    step = 1e-6
    numeric = [(misfit(nu + step * e, data, GRID) - misfit(nu - step * e, data, GRID)) / (2 * step) for e in np.eye(11)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-10)


def test_noise_free_data_give_back_the_diffusivity_where_u_carries_signal():
    data = simulate(true_diffusivity(GRID.x), bump(), 20, GRID)
    fit = fit_diffusivity(data, GRID, start=2.0)
    assert fit["misfit"] < 1e-14
    assert fit["max_error_well_identified"] < 1e-6


def test_stability_limit():
    assert GRID.nu_max == pytest.approx(20.0)
    assert GRID.ratio * GRID.nu_max == pytest.approx(0.5)


def test_a_start_outside_the_stable_box_is_refused():
    data = simulate(true_diffusivity(GRID.x), bump(), 20, GRID)
    with pytest.raises(UserError, match=r"heat.start=2.0 must lie in \(0, 0.4\)"):
        problem3(data, dt=5.0, timing=False)


def test_the_fit_never_leaves_the_stable_box():
    """Data that no stable nu explains push the optimiser to its bound, not past it, and the fit says so."""
    data = simulate(np.full(11, 19.0), bump(), 20, GRID)
    data[1:] *= 0  # all heat gone after one step: only an unstable, huge nu could do that
    fit = fit_diffusivity(data, GRID, start=2.0)
    nu_max = 2.0**2 / (2 * 0.1)  # k/h^2 max(nu) <= 1/2 with h = 2, k = 0.1
    assert max(fit["nu"]) == pytest.approx(nu_max, rel=1e-5)  # at the bound
    assert max(fit["nu"]) <= nu_max and min(fit["nu"]) >= 0  # not past it
    assert fit["at_stability_bound"] is True


def test_bad_heat_data_files(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        load_heat_data(tmp_path / "missing.npy")
    np.save(tmp_path / "flat.npy", np.zeros(11))
    with pytest.raises(UserError, match=r"shape \(11,\)"):
        load_heat_data(tmp_path / "flat.npy")
    (tmp_path / "text.npy").write_text("not an array")
    with pytest.raises(UserError, match="not a numpy .npy array"):
        load_heat_data(tmp_path / "text.npy")
