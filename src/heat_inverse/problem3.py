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
import warnings
from pathlib import Path

import numpy as np
from scipy.optimize import approx_fprime, brentq, minimize
from scipy.special import expit

from heat_inverse.heat import Grid, misfit, misfit_and_gradient, simulate, simulate_loop
from labtools.errors import UserError

WELL_IDENTIFIED = 4.0  # |x| <= 4: where u carries enough signal to pin nu down
START_MARGIN = 1e-6  # the start's least distance from 0 and from nu_max, as a fraction of nu_max
# Any larger penalty weight already forces nu onto a straight line; much larger ones overflow the objective.
MAX_LAMBDA = 1e100


def true_diffusivity(x):
    return 5 / (1 + np.exp(-x)) + 0.5


def load_heat_data(path) -> np.ndarray:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"heat_data={path}: no such file; pass the lab's measured_heat.npy as heat_data=PATH")
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise UserError(f"heat_data={path}: not a numpy .npy array ({err})") from None
    problem = data_problem(data)
    if problem:
        raise UserError(f"heat_data={path}: {problem}")
    return data.astype(float)


def data_problem(data: np.ndarray) -> str | None:
    """What makes these measurements unusable for the fit, in words; None when nothing does."""
    if data.ndim != 2 or not (np.issubdtype(data.dtype, np.number) and not np.iscomplexobj(data)):
        return (
            "expected a 2-D array of real numbers (rows: time steps, columns: nodes), "
            f"got a {data.dtype} array of shape {data.shape}"
        )
    rows, nodes = data.shape
    if rows < 2:
        return f"{rows} time step(s): the scheme needs the initial state (row 0) and at least one later step"
    if nodes < 3:
        return f"{nodes} node(s) per time step: the scheme needs both ends and at least one node between them"
    finite = np.isfinite(data)
    if not finite.all():
        row, col = np.argwhere(~finite)[0]
        counts = {"NaN": int(np.isnan(data).sum()), "infinite": int(np.isinf(data).sum())}
        kinds = " and ".join(f"{n} {kind}" for kind, n in counts.items() if n)
        return f"{kinds} value(s), the first at row {row}, column {col}; the fit needs every measurement finite"
    with np.errstate(over="ignore"):
        overflows = not np.isfinite(np.sum(np.square(data.astype(float))))
    if overflows:
        return f"values up to {np.abs(data).max():.3g}: their squared misfit overflows; rescale the data"
    if np.ptp(data) == 0:
        value = data.flat[0]
        return f"every value is {value:g}: a constant u carries no information about nu (its u_x is 0)"
    return None


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


def discrepancy_fit(data, grid: Grid, sigma, estimated: bool, source, start=2.0) -> dict:
    """The fit whose misfit equals N sigma^2; the misfit grows with lambda, so a root in log10(lambda).

    Compared in logarithms, so that neither a tiny nor a huge sigma over- or underflows N sigma^2. When sigma is
    the program's estimate, a failure is about the data, not about a setting the user never made.
    """
    count = data[1:, 1:-1].size
    log_target = math.log(count) + 2 * math.log(max(sigma, np.finfo(float).tiny))  # an estimate can be 0
    target_text = f"N sigma^2 = {count} x {sigma:.4g}^2"

    def excess(log_lam):
        fitted = fit_diffusivity(data, grid, start, 10.0**log_lam)["misfit"]
        return math.log(max(fitted, np.finfo(float).tiny)) - log_target

    low, high = -10.0, -4.0
    if excess(low) >= 0:
        if estimated:  # the unpenalised fit is (nearly) exact: the principle asks for no penalty at all
            warnings.warn(
                f"heat_data={source}: the estimated noise level sigma={sigma:.3g} is below what any penalty "
                f"allows (lambda >= 1e{low:.0f}); the smoothed fit is the unpenalised one",
                stacklevel=2,
            )
            return fit_diffusivity(data, grid, start, 0.0)
        raise UserError(f"heat.sigma={sigma:g} is too small: even the unpenalised misfit exceeds {target_text}")
    while excess(high) < 0:
        if high >= 6:
            if estimated:
                raise UserError(
                    f"heat_data={source}: no smooth nu misfits the data as much as the noise level estimated "
                    f"from the unpenalised fit ({target_text}): the data barely depend on nu on this grid, or are "
                    "mostly noise; check heat.dt and heat.x_range, or set heat.smoothing=none or a fixed lambda"
                )
            raise UserError(f"heat.sigma={sigma:g} is too large: no smooth nu has a misfit as big as {target_text}")
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


def make_grid(nodes, x_range, dt, start) -> Grid:
    """The scheme's grid, refused when its stability limit h^2/(2k) is not a usable number or excludes the start."""
    with np.errstate(over="ignore"):
        grid = Grid(np.linspace(x_range[0], x_range[1], nodes), dt)
        ratio = grid.ratio
    if not 0 < ratio < math.inf:
        raise UserError(
            f"heat.x_range={list(x_range)} with heat.dt={dt:g}: k/h^2 = {ratio:g} (h = {grid.h:g}) is outside what "
            "floating point can compute with; use a range and step nearer the lab's [-10,10] and 0.1"
        )
    stable = f"(0, {grid.nu_max:g}), where the scheme is stable (h^2/(2k), h = {grid.h:g}, k = heat.dt = {dt:g})"
    if not 0 < start < grid.nu_max:
        raise UserError(f"heat.start={start} must lie in {stable}")
    # nu = nu_max expit(theta): at the edges of (0, nu_max) the gradient in theta vanishes and BFGS cannot move
    if not START_MARGIN < start / grid.nu_max < 1 - START_MARGIN:
        raise UserError(
            f"heat.start={start} is too close to an end of {stable} for the optimiser to move from it; "
            f"use a value between {START_MARGIN * grid.nu_max:.3g} and {(1 - START_MARGIN) * grid.nu_max:.6g}"
        )
    return grid


def problem3(
    data,
    x_range=(-10.0, 10.0),
    dt=0.1,
    start=2.0,
    smoothing="discrepancy",
    sigma=None,
    timing=True,
    source="the measurements",
):
    """Fit nu with and without the smoothness penalty; smoothing: 'discrepancy', None, or a fixed lambda.

    `source` names the data (their file) in messages."""
    problem = data_problem(np.asarray(data))
    if problem:
        raise UserError(f"heat_data={source}: {problem}")
    grid = make_grid(data.shape[1], x_range, dt, start)
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
        estimated = sigma is None
        if estimated and count <= grid.x.size:
            raise UserError(
                f"heat_data={source}: {count} measurements after row 0 between the ends are too few to estimate "
                f"the noise level (more than the {grid.x.size} unknowns are needed); "
                "set heat.sigma, or heat.smoothing=none or a fixed lambda"
            )
        noise = math.sqrt(plain["misfit"] / (count - grid.x.size)) if estimated else sigma
        result["noise_sigma"] = {"value": noise, "estimated": estimated}
        result["smoothed"] = discrepancy_fit(data, grid, noise, estimated, source, start)
    elif smoothing is not None:
        result["smoothed"] = fit_diffusivity(data, grid, start, float(smoothing))
    if timing:
        result["timing"] = time_solvers(np.full(grid.x.size, float(start)), data, grid)
    return result
