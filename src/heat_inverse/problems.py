"""The lab's two steady problems for -(a u')' = f: their data, the bound on epsilon, and drivers that return numbers."""

import functools
import math
import warnings

import numpy as np
from scipy.optimize import brentq

from heat_inverse.conductivity import solve_conductivity
from labtools.checks import is_number
from labtools.errors import UserError

# Problem 1: a(x) = x^2 - x + 3/4 on [0, 1/2] and 1/2 above.
P1_C0, P1_C1 = 3 / 8, 5 / 4
P1_NODES = np.linspace(0.0, 1.0, 11)
# Problem 2: f = -1, c0 = 1, c1 = 2, u = x + 1 + eps sin(x/eps^2).
P2_C0, P2_C1 = 1.0, 2.0
P2_NODES = np.linspace(0.0, 1.0, 11)


def p1_source(x):
    return -6 * x * x + 3 * x - 1 if x <= 0.5 else -1.0


def p1_u_prime(x):
    return 2 * x + 0.5


def p1_exact(x):
    x = np.asarray(x, dtype=float)
    return np.where(x <= 0.5, x * x - x + 0.75, 0.5)


def p2_source(_x):
    return -1.0


# x/eps/eps, not x/eps**2: eps**2 overflows for eps beyond 1e154, yet every finite eps > eps* is legal
def p2_u(x, eps):
    return x + 1 + eps * np.sin(x / eps / eps)


def p2_u_prime(x, eps):
    return 1 + np.cos(x / eps / eps) / eps


def p2_exact(x, eps):
    """The true conductivity, (c0 - F)/u' = (1 + x)/u'(x)."""
    return (1 + x) / p2_u_prime(x, eps)


@functools.cache
def critical_eps() -> float:
    """eps*: below it u' = 1 + cos(x/eps^2)/eps reaches 0 on [0, 1], at x = eps^2 arccos(-eps).

    That x increases with eps, so eps* is the root of eps^2 arccos(-eps) = 1 on (0, 1).
    """
    return brentq(lambda e: e * e * math.acos(-e) - 1, 0.5, 1.0, xtol=1e-15, rtol=4 * np.finfo(float).eps)


def eps_rule() -> str:
    return (
        f"every eps must be a number > eps* = {critical_eps():.12f}: at or below it u' = 1 + cos(x/eps^2)/eps "
        "reaches 0 on [0,1], so no positive conductivity a exists"
    )


def check_eps(eps_list) -> list[float]:
    """The eps values as floats, or a UserError that states eps* and why."""
    if is_number(eps_list):
        eps_list = [eps_list]
    if isinstance(eps_list, str | bytes) or not hasattr(eps_list, "__iter__"):
        raise UserError(f"eps={eps_list!r} is not a list of numbers; {eps_rule()} (e.g. 'eps=[0.7,0.8,1.0]')")
    values = list(eps_list)
    if not values:
        raise UserError(f"eps=[] is empty; {eps_rule()} (e.g. 'eps=[0.7,0.8,1.0]')")
    for value in values:
        if not is_number(value) or math.isnan(value):
            raise UserError(f"eps: {value!r} is not a number; {eps_rule()}")
        if math.isinf(value):
            raise UserError(f"eps={value}: give a finite eps (a -> 1 + x as eps -> oo; e.g. eps=1e300); {eps_rule()}")
        if value <= critical_eps():
            raise UserError(f"eps={value} is too small; {eps_rule()}")
    return [float(v) for v in values]


def problem1(start=1.0) -> dict:
    """Lab Problem 1: nodal conductivities, the closed form, the exact answer and both boundary conditions."""
    res = solve_conductivity(p1_source, P1_C0, p1_u_prime, P1_NODES, start=start, breakpoints=(0.5,))
    exact = p1_exact(P1_NODES)
    return {
        **res.as_dict(),
        "exact": exact.tolist(),
        "max_error_vs_exact": float(np.max(np.abs(res.alpha - exact))),
        "flux_left": float(res.alpha[0] * p1_u_prime(0.0)),
        "flux_right": float(res.alpha[-1] * p1_u_prime(1.0)),
        "c0": P1_C0,
        "c1": P1_C1,
    }


def problem2(eps_list, start=1.0, warn_above=1e3) -> dict:
    """Lab Problem 2 for each eps: nodal conductivities and how far a and u stray from the eps -> oo limit."""
    fine = np.linspace(0.0, 1.0, 20001)
    runs = []
    for eps in check_eps(eps_list):
        res = solve_conductivity(p2_source, P2_C0, lambda x, e=eps: p2_u_prime(x, e), P2_NODES, start=start)
        limit = 1 + P2_NODES
        if res.alpha.max() > warn_above:
            warnings.warn(
                f"eps={eps}: a reaches {res.alpha.max():.4g} at x={P2_NODES[res.alpha.argmax()]:.3g} "
                f"(above {warn_above:g}); eps is close to eps* = {critical_eps():.12f}",
                stacklevel=2,
            )
        runs.append(
            {
                "eps": eps,
                **res.as_dict(),
                "max_dev_from_limit": float(np.max(np.abs(res.alpha - limit))),
                "max_a": float(res.alpha.max()),
                "u_dev_sup": float(np.max(np.abs(p2_u(fine, eps) - (fine + 1)))),
                "flux_right": float(res.alpha[-1] * p2_u_prime(1.0, eps)),
            }
        )
    return {"critical_eps": critical_eps(), "c0": P2_C0, "c1": P2_C1, "runs": runs}
