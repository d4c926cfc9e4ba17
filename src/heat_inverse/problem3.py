"""Lab Problem 3: estimate the diffusivity nu(x) of u_t = (nu u_x)_x from noisy measurements of u.

The data are the lab's measured_heat.npy: row n is u at time n k on x = linspace(-10, 10, 11), k = 0.1, made
with nu(x) = 5/(1 + e^-x) + 1/2. Least squares by BFGS from nu = 2, over theta with nu = nu_max/(1 + e^-theta):
every trial nu then lies in (0, nu_max = h^2/(2k)), where the explicit scheme is stable, whatever step BFGS
takes. (L-BFGS-B's box bounds would do the same; this keeps the BFGS the lab names.)
The left end is poorly identified (u is nearly 0 there), so an optional penalty lambda ||D^2 nu||^2 smooths it,
lambda chosen by the discrepancy principle: the penalised misfit equals (number of data) x sigma^2.
"""

import math
import timeit
from pathlib import Path

import numpy as np
from scipy.optimize import approx_fprime, brentq, minimize
from scipy.special import expit

from heat_inverse.errors import InputError
from heat_inverse.heat import Grid, misfit, misfit_and_gradient, simulate, simulate_loop

WELL_IDENTIFIED = 4.0  # |x| <= 4: where u carries enough signal to pin nu down


def true_diffusivity(x):
    return 5 / (1 + np.exp(-x)) + 0.5


def load_heat_data(path) -> np.ndarray:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"heat_data={path}: no such file; pass the lab's measured_heat.npy as heat_data=PATH")
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise InputError(f"heat_data={path}: not a numpy .npy array ({err})") from None
    if data.ndim != 2 or data.shape[0] < 2 or data.shape[1] < 3 or not np.all(np.isfinite(data)):
        raise InputError(
            f"heat_data={path}: expected a finite 2-D array, one row per time step (row 0 the initial state) "
            f"and at least 3 nodes; got shape {data.shape}"
        )
    return data.astype(float)


def second_difference(n):
    return np.diff(np.eye(n), 2, axis=0)


def fit_diffusivity(data, grid: Grid, start=2.0, lam=0.0) -> dict:
    """Minimise J(nu) + lam ||D^2 nu||^2 inside the stability limit.

    The objective is divided by its value at the start, so gtol is relative; and it is tight, because the
    default one stops early (on the lab's unscaled misfit, above the misfit of the true nu).
    """
    n = grid.x.size
    d2 = second_difference(n)
    penalty = lam * d2.T @ d2
    nu0 = np.full(n, float(start))
    scale = misfit(nu0, data, grid) + nu0 @ penalty @ nu0 or 1.0  # 0 only when the start fits exactly

    def diffusivity(theta):
        return grid.nu_max * expit(theta)

    def objective(theta):
        nu = diffusivity(theta)
        value, grad = misfit_and_gradient(nu, data, grid)
        grad = grad + 2 * penalty @ nu
        return (value + nu @ penalty @ nu) / scale, grad * nu * (1 - nu / grid.nu_max) / scale

    theta0 = np.full(n, math.log(start / (grid.nu_max - start)))
    res = minimize(objective, theta0, jac=True, method="BFGS", options={"gtol": 1e-9, "maxiter": 20000})
    nu = diffusivity(res.x)
    truth = true_diffusivity(grid.x)
    error = np.abs(nu - truth)
    middle = np.abs(grid.x) <= WELL_IDENTIFIED
    fitted = misfit(nu, data, grid)
    return {
        "lambda": lam,
        "nu": nu.tolist(),
        "misfit": fitted,
        "rms": math.sqrt(fitted / data[1:, 1:-1].size),
        "max_error": float(error.max()),
        "max_error_at": float(grid.x[error.argmax()]),
        "max_error_well_identified": float(error[middle].max()),
        "at_stability_bound": bool(np.any(np.isclose(nu, grid.nu_max))),
        "iterations": int(res.nit),
        "gradient_norm_scaled": float(np.linalg.norm(res.jac)),
        "success": bool(res.success),
        "message": str(res.message),
    }


def discrepancy_fit(data, grid: Grid, target, start=2.0) -> dict:
    """The fit whose misfit equals `target`; the misfit grows with lambda, so a root in log10(lambda)."""

    def excess(log_lam):
        return math.log(fit_diffusivity(data, grid, start, 10.0**log_lam)["misfit"] / target)

    low, high = -10.0, -4.0
    if excess(low) >= 0:
        raise InputError(f"heat.sigma is too small: even the unpenalised misfit exceeds N sigma^2 = {target:.4g}")
    while excess(high) < 0:
        if high >= 6:
            raise InputError(f"heat.sigma is too large: no smooth nu has a misfit as big as N sigma^2 = {target:.4g}")
        low, high = high, high + 2
    return fit_diffusivity(data, grid, start, 10.0 ** brentq(excess, low, high, xtol=0.05))


def time_solvers(nu, data, grid: Grid) -> dict:
    """Seconds per call: the lab's loop with a finite-difference gradient against mat-vecs and the adjoint."""
    steps = data.shape[0] - 1

    def seconds(fn):
        number, total = timeit.Timer(fn).autorange()
        return total / number

    lab = {
        "forward": seconds(lambda: simulate_loop(nu, data[0], steps, grid)),
        "gradient": seconds(lambda: approx_fprime(nu, lambda v: misfit(v, data, grid, simulate_loop))),
    }
    ours = {
        "forward": seconds(lambda: simulate(nu, data[0], steps, grid)),
        "gradient": seconds(lambda: misfit_and_gradient(nu, data, grid)),
    }
    return {
        "lab_loop_s": lab,
        "vectorised_s": ours,
        "speedup": {key: lab[key] / ours[key] for key in lab},
    }


def problem3(data, x_range=(-10.0, 10.0), dt=0.1, start=2.0, smoothing="discrepancy", sigma=None, timing=True):
    """Fit nu with and without the smoothness penalty; smoothing: 'discrepancy', None, or a fixed lambda."""
    grid = Grid(np.linspace(x_range[0], x_range[1], data.shape[1]), dt)
    if not 0 < start < grid.nu_max:
        raise InputError(f"heat.start={start} must lie in (0, {grid.nu_max:g}), where the scheme is stable")
    truth = true_diffusivity(grid.x)
    count = data[1:, 1:-1].size
    true_misfit = misfit(truth, data, grid)
    plain = fit_diffusivity(data, grid, start)
    result = {
        "x": grid.x.tolist(),
        "true_nu": truth.tolist(),
        "h": grid.h,
        "k": grid.dt,
        "stability": {"condition": "k/h^2 max(nu) <= 1/2", "nu_max": grid.nu_max},
        "data_shape": list(data.shape),
        "data_count": count,
        "true_misfit": true_misfit,
        "true_rms": math.sqrt(true_misfit / count),
        "fit": plain,
    }
    if smoothing == "discrepancy":
        noise = sigma if sigma is not None else math.sqrt(plain["misfit"] / (count - grid.x.size))
        result["noise_sigma"] = {"value": noise, "estimated": sigma is None}
        result["smoothed"] = discrepancy_fit(data, grid, count * noise**2, start)
    elif smoothing is not None:
        result["smoothed"] = fit_diffusivity(data, grid, start, float(smoothing))
    if timing:
        result["timing"] = time_solvers(np.full(grid.x.size, float(start)), data, grid)
    return result
