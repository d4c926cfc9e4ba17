"""Derivatives of noisy samples: naive finite differences, and Tikhonov-regularised differentiation with GCV.

Tikhonov: write y_i = c + int_0^{x_i} v + noise, discretise the integral by the trapezoid rule (y ~ A z with
z = (c, v)), and take z minimising ||A z - y||^2 + lambda ||D^2 v||^2. lambda minimises the GCV function
n ||(I - H) y||^2 / tr(I - H)^2 with H the hat matrix, so the noise level need not be known.
"""

import numpy as np
from scipy.linalg import eigh
from scipy.optimize import minimize_scalar

LOG_LAMBDA_RANGE = (-12.0, 6.0)


def finite_difference_derivative(x, y):
    """Central differences inside, one-sided at the ends (numpy.gradient)."""
    return np.gradient(y, x)


def trapezoid_matrix(x):
    """K with (K v)_i = trapezoid rule for int_{x_0}^{x_i} v."""
    widths = np.diff(x)
    K = np.zeros((x.size, x.size))
    for i in range(1, x.size):
        K[i, :i] += widths[:i] / 2
        K[i, 1 : i + 1] += widths[:i] / 2
    return K


def tikhonov_derivative(x, y) -> tuple[np.ndarray, float]:
    """v ~ y' on the sample points, and the GCV-chosen lambda."""
    n = x.size
    A = np.hstack([np.ones((n, 1)), trapezoid_matrix(x)])
    L = np.hstack([np.zeros((n - 2, 1)), np.diff(np.eye(n), 2, axis=0)])
    AtA, LtL = A.T @ A, L.T @ L
    # One generalised eigendecomposition W^T AtA W = diag(theta), W^T LtL W = diag(1 - theta) makes every
    # lambda cost O(n^2): (AtA + lambda LtL)^-1 = W diag(1 / (theta + lambda (1 - theta))) W^T.
    theta, W = eigh(AtA, AtA + LtL)
    theta = np.clip(theta, 0.0, 1.0)
    projected = W.T @ (A.T @ y)

    def solve(log_lam):
        weights = 1 / (theta + 10.0**log_lam * (1 - theta))
        z = W @ (weights * projected)
        residual = A @ z - y
        dof = n - np.sum(theta * weights)
        return z, n * (residual @ residual) / dof**2

    # GCV can have several local minima: a coarse grid first, then Brent inside the best cell
    grid = np.linspace(*LOG_LAMBDA_RANGE, 37)
    best = grid[int(np.argmin([solve(g)[1] for g in grid]))]
    step = grid[1] - grid[0]
    found = minimize_scalar(
        lambda g: solve(g)[1], bounds=(best - step, best + step), method="bounded", options={"xatol": 1e-3}
    )
    z, _ = solve(found.x)
    return z[1:], float(10.0**found.x)
