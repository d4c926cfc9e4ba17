"""Recover the conductivity a(x) of -(a u')' = f on (0, 1) at nodes, from f, the flux c0 = a(0)u'(0) and u'.

Integrating once gives a(x) u'(x) = c0 - F(x) with F(x) = int_0^x f, so the nodal values alpha_j minimise
sum_j ((c0 - F(x_j)) / alpha_j - u'(x_j))^2. In alpha that objective has a pole at 0 and a flat plateau for
large alpha: plain BFGS from alpha = 1000 stops at once and from 1e-3 jumps across the pole. We minimise over
beta = 1/alpha instead, where the same residuals are linear, so the objective is a convex quadratic and Newton
(trust-exact, analytic gradient and Hessian) reaches the minimiser from any finite non-zero start.
"""

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.integrate import quad
from scipy.optimize import minimize

from labtools.errors import UserError

AGREEMENT_TOL = 1e-8


@dataclass
class ConductivityResult:
    nodes: np.ndarray
    alpha: np.ndarray  # the optimiser's nodal conductivities
    closed_form: np.ndarray  # (c0 - F) / u'
    max_diff: float  # max_j |alpha_j - closed_form_j|
    flux: np.ndarray  # c0 - F(x_j), which equals a(x_j) u'(x_j)
    u_prime: np.ndarray
    optimizer: dict  # method, start, success, message, iterations, objective

    def as_dict(self) -> dict:
        return {
            "nodes": self.nodes.tolist(),
            "alpha": self.alpha.tolist(),
            "closed_form": self.closed_form.tolist(),
            "max_diff": self.max_diff,
            "optimizer": self.optimizer,
        }


def integral_from_zero(f, nodes, breakpoints=()):
    """F(x_j) = int_0^{x_j} f by adaptive quadrature, node interval by node interval (kinks go in breakpoints)."""
    edges = np.concatenate([[0.0], nodes])
    pieces = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = [b for b in breakpoints if min(lo, hi) < b < max(lo, hi)] or None
        pieces.append(quad(f, lo, hi, points=inside, epsabs=1e-13, epsrel=1e-13, limit=200)[0])
    return np.cumsum(pieces)


def closed_form_conductivity(flux, u_prime, nodes):
    """a = (c0 - F) / u', or a UserError at the first node where no positive conductivity exists."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a = flux / u_prime
    bad = np.flatnonzero(~(np.isfinite(a) & (a > 0)))
    if bad.size:
        j = bad[0]
        raise UserError(
            f"no positive conductivity at x={nodes[j]:.6g}: a = (c0 - F)/u' = {flux[j]:.6g}/{u_prime[j]:.6g}; "
            "a(x)u'(x) = c0 - F(x) needs u' non-zero and of the same sign as c0 - F"
        )
    return a


def solve_conductivity(f, c0, u_prime, nodes, start=1.0, breakpoints=()) -> ConductivityResult:
    """Nodal conductivities by scipy.optimize.minimize, reported beside the closed form.

    f: callable f(x); u_prime: callable u'(x) (vectorised) or its values at the nodes; start: the optimiser's
    initial alpha, a scalar or one value per node (finite, non-zero, of any sign).
    """
    nodes = np.asarray(nodes, dtype=float)
    flux = c0 - integral_from_zero(f, nodes, breakpoints)
    slope = np.asarray(u_prime(nodes) if callable(u_prime) else u_prime, dtype=float)
    closed = closed_form_conductivity(flux, slope, nodes)
    alpha0 = np.broadcast_to(np.asarray(start, dtype=float), nodes.shape)
    if not np.all(np.isfinite(alpha0) & (alpha0 != 0)):
        raise UserError(f"start={start}: the optimiser's initial conductivity must be finite and non-zero")

    def objective(beta):
        residual = flux * beta - slope
        return residual @ residual, 2 * flux * residual

    with np.errstate(over="ignore"):
        overflows = not np.isfinite(objective(1 / alpha0)[0])
    if overflows:
        raise UserError(
            f"start={start}: so close to 0 that the optimiser's objective in beta = 1/start overflows; "
            "use a start further from 0, e.g. 1e-100 or larger in size"
        )
    res = minimize(
        objective,
        1 / alpha0,
        jac=True,
        hess=lambda _: np.diag(2 * flux**2),
        method="trust-exact",
        options={"gtol": 1e-14},
    )
    alpha = 1 / res.x
    max_diff = float(np.max(np.abs(alpha - closed)))
    if max_diff > AGREEMENT_TOL * max(1.0, float(np.max(closed))):
        warnings.warn(f"optimiser and closed form differ by {max_diff:.3g} ({res.message})", stacklevel=2)
    info = {
        "method": "trust-exact on beta = 1/alpha",
        "start": np.asarray(start, dtype=float).tolist(),
        "success": bool(res.success),
        "message": str(res.message),
        "iterations": int(res.nit),
        "objective": float(res.fun),
    }
    return ConductivityResult(nodes, alpha, closed, max_diff, flux, slope, info)
