"""The lab's explicit scheme for u_t = (nu u_x)_x with zero Dirichlet ends, its least-squares misfit and gradient.

One step is U_j <- U_j + k/h^2 [nu_j (U_{j+1} - 2U_j + U_{j-1}) + (nu_{j+1} - nu_{j-1})(U_{j+1} - U_{j-1})/4],
i.e. U^{n+1} = A(nu) U^n with A tridiagonal and linear in nu. Building A once per nu turns the lab's double loop
into one small mat-vec per step, and the adjoint recursion lambda^n = A^T lambda^{n+1} + dJ/dU^n gives the whole
gradient for the price of one more sweep.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Grid:
    x: np.ndarray  # the nodes, ends included
    dt: float

    @property
    def h(self) -> float:
        return float(self.x[1] - self.x[0])

    @property
    def ratio(self) -> float:
        return self.dt / self.h / self.h  # h**2 would overflow for a huge x_range before the division

    @property
    def nu_max(self) -> float:
        """The stability limit of the explicit scheme: k/h^2 max(nu) <= 1/2."""
        return 0.5 / self.ratio


def step_matrix(nu, grid: Grid):
    n = nu.size
    drift = (nu[2:] - nu[:-2]) / 4
    inner = np.arange(1, n - 1)
    A = np.eye(n)
    A[inner, inner - 1] += grid.ratio * (nu[1:-1] - drift)
    A[inner, inner] -= 2 * grid.ratio * nu[1:-1]
    A[inner, inner + 1] += grid.ratio * (nu[1:-1] + drift)
    return A


def simulate(nu, u0, steps, grid: Grid):
    """All states, shape (steps + 1, nodes); row 0 is u0 with its ends set to the Dirichlet value 0."""
    A = step_matrix(np.asarray(nu, dtype=float), grid)
    U = np.empty((steps + 1, u0.size))
    U[0] = u0
    U[0, [0, -1]] = 0.0
    for n in range(steps):
        U[n + 1] = A @ U[n]
    return U


def simulate_loop(nu, u0, steps, grid: Grid):
    """The lab's way, node by node; kept as the reference the vectorised solver is timed and checked against."""
    U = np.zeros((steps + 1, u0.size))
    U[0, 1:-1] = u0[1:-1]
    r = grid.ratio
    for n in range(steps):
        for j in range(1, u0.size - 1):
            U[n + 1, j] = U[n, j] + r * (
                nu[j] * (U[n, j + 1] - 2 * U[n, j] + U[n, j - 1])
                + (nu[j + 1] - nu[j - 1]) * (U[n, j + 1] - U[n, j - 1]) / 4
            )
    return U


def misfit(nu, data, grid: Grid, simulator=simulate):
    """J(nu) = sum over rows 1.. and interior columns of (U - data)^2."""
    U = simulator(nu, data[0], data.shape[0] - 1, grid)
    return float(np.sum((U[1:, 1:-1] - data[1:, 1:-1]) ** 2))


def misfit_and_gradient(nu, data, grid: Grid):
    """J(nu) and dJ/dnu by the adjoint of the scheme."""
    nu = np.asarray(nu, dtype=float)
    U = simulate(nu, data[0], data.shape[0] - 1, grid)
    residual = np.zeros_like(U)
    residual[1:, 1:-1] = U[1:, 1:-1] - data[1:, 1:-1]
    AT = step_matrix(nu, grid).T
    adjoint = np.empty_like(U)
    adjoint[-1] = 2 * residual[-1]
    for n in range(U.shape[0] - 2, -1, -1):
        adjoint[n] = AT @ adjoint[n + 1] + 2 * residual[n]
    # dA/dnu applied to U^n, paired with the adjoint of the state it produces
    before, after = U[:-1], adjoint[1:, 1:-1]
    curvature = np.einsum("nj,nj->j", after, before[:, 2:] - 2 * before[:, 1:-1] + before[:, :-2])
    slope = np.einsum("nj,nj->j", after, before[:, 2:] - before[:, :-2]) / 4
    grad = np.zeros_like(nu)
    grad[1:-1] += curvature
    grad[2:] += slope
    grad[:-2] -= slope
    return float(np.sum(residual**2)), grid.ratio * grad
