"""Problem 2 with measured u: add Gaussian noise of size delta to samples of u, then recover a at the nodes."""

import numpy as np

from heat_inverse.conductivity import solve_conductivity
from heat_inverse.differentiation import finite_difference_derivative, tikhonov_derivative
from heat_inverse.problems import P2_C0, P2_NODES, check_eps, p2_exact, p2_source, p2_u
from labtools.errors import UserError
from labtools.memory import fits_in_memory, format_bytes

# Tikhonov + GCV holds about this many (samples x samples) float64 matrices at once
SQUARE_MATRICES = 8


def noisy_problem2(delta, eps=0.8, samples=201, seed=0) -> dict:
    """a from u + delta N(0, 1) on `samples` points of [0, 1], by finite differences and by Tikhonov + GCV."""
    if not delta > 0:
        raise UserError(f"noise={delta}: the noise size delta must be a positive number, e.g. noise=1e-3")
    (eps,) = check_eps([eps])
    per_interval = (samples - 1) / (P2_NODES.size - 1)
    if samples < 2 * P2_NODES.size or per_interval != int(per_interval):
        raise UserError(
            f"noisy.samples={samples}: use 10 m + 1 points (m >= 2) so that the nodes 0, 0.1, ..., 1 are samples"
        )
    needed = SQUARE_MATRICES * 8.0 * samples * samples
    if not fits_in_memory(needed):
        raise UserError(
            f"noisy.samples={samples}: Tikhonov differentiation needs about {format_bytes(needed)} "
            "(several samples x samples matrices), more than this machine has free; use fewer samples, e.g. 1001"
        )
    x = np.linspace(0.0, 1.0, samples)
    u = p2_u(x, eps) + delta * np.random.default_rng(seed).standard_normal(samples)
    at_nodes = np.arange(0, samples, int(per_interval))
    exact = p2_exact(P2_NODES, eps)
    tikhonov, lam = tikhonov_derivative(x, u)
    methods = {}
    for name, slope in (("finite_differences", finite_difference_derivative(x, u)), ("tikhonov_gcv", tikhonov)):
        try:
            res = solve_conductivity(p2_source, P2_C0, slope[at_nodes], P2_NODES)
        except UserError as err:
            raise UserError(f"noise={delta:g}: with this much noise, {name.replace('_', ' ')} give {err}") from None
        methods[name] = {
            "alpha": res.alpha.tolist(),
            "max_error": float(np.max(np.abs(res.alpha - exact))),
            "u_prime": slope.tolist(),  # on the samples
        }
    methods["tikhonov_gcv"]["lambda"] = lam
    return {
        "delta": float(delta),
        "eps": eps,
        "samples": samples,
        "seed": seed,
        "x": x.tolist(),
        "nodes": P2_NODES.tolist(),
        "exact": exact.tolist(),
        **methods,
    }
