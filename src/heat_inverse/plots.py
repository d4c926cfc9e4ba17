"""The task's figures, drawn from the drivers' result dicts."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

from heat_inverse.fileio import save_figure  # noqa: E402
from heat_inverse.problem3 import WELL_IDENTIFIED, true_diffusivity  # noqa: E402
from heat_inverse.problems import p1_exact, p2_exact, p2_u, p2_u_prime  # noqa: E402

FINE = np.linspace(0.0, 1.0, 2001)
LOG_SCALE_ABOVE = 40.0  # beyond this a linear axis flattens every other curve


def _save(fig, path):
    save_figure(fig, path)
    plt.close(fig)
    return path


def plot_problem1(result, path):
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(FINE, p1_exact(FINE), color="C0", label="closed form $(c_0 - F)/u'$")
    ax.plot(result["nodes"], result["alpha"], "o", color="C3", label="optimiser, nodes $x_j = j/10$")
    ax.set(xlabel="$x$", ylabel="$a(x)$", title="Problem 1: recovered conductivity")
    ax.legend()
    return _save(fig, path)


def plot_problem2(result, path):
    fig, (ax_u, ax_a) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax_u.plot(FINE, FINE + 1, "k--", label=r"$\varepsilon\to\infty$: $x + 1$")
    ax_a.plot(FINE, 1 + FINE, "k--", label=r"$\varepsilon\to\infty$: $1 + x$")
    for i, run in enumerate(result["runs"]):
        eps, color = run["eps"], f"C{i}"
        ax_u.plot(FINE, p2_u(FINE, eps), color=color, label=rf"$\varepsilon={eps:g}$")
        ax_a.plot(FINE, p2_exact(FINE, eps), color=color, lw=0.8, alpha=0.6)
        ax_a.plot(run["nodes"], run["alpha"], "o-", color=color, label=rf"$\varepsilon={eps:g}$ (nodes)")
    if max(run["max_a"] for run in result["runs"]) > LOG_SCALE_ABOVE:
        ax_a.set_yscale("log")
    ax_u.set(xlabel="$x$", ylabel="$u(x)$", title=r"data: $u$ moves by at most $\varepsilon$")
    ax_a.set(
        xlabel="$x$",
        ylabel="$a(x)$",
        title=rf"solution: $a$ swings far from $1+x$ ($\varepsilon^* = {result['critical_eps']:.6f}$)",
    )
    ax_u.legend(fontsize=8)
    ax_a.legend(fontsize=8)
    return _save(fig, path)


def plot_problem3(result, path):
    x = np.asarray(result["x"])
    fine = np.linspace(x[0], x[-1], 400)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.axvspan(-WELL_IDENTIFIED, WELL_IDENTIFIED, color="0.92", label=f"$|x| \\leq {WELL_IDENTIFIED:g}$")
    ax.plot(fine, true_diffusivity(fine), "k-", label=r"true $\nu = 5/(1+e^{-x}) + 1/2$")
    ax.plot(x, result["fit"]["nu"], "o--", color="C3", label="least squares")
    if "smoothed" in result:
        lam = result["smoothed"]["lambda"]
        ax.plot(x, result["smoothed"]["nu"], "s-", color="C0", label=rf"penalised, $\lambda = {lam:.3g}$")
    ax.set(xlabel="$x$", ylabel=r"$\nu(x)$", title="Problem 3: diffusivity from noisy measurements")
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_noisy(result, path):
    x, nodes, eps = np.asarray(result["x"]), result["nodes"], result["eps"]
    fd, tk = result["finite_differences"], result["tikhonov_gcv"]
    fig, (ax_d, ax_a) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax_d.plot(x, fd["u_prime"], color="C3", lw=0.7, label="finite differences")
    ax_d.plot(x, tk["u_prime"], color="C0", label=rf"Tikhonov, GCV $\lambda = {tk['lambda']:.3g}$")
    ax_d.plot(FINE, p2_u_prime(FINE, eps), "k--", label="exact")
    ax_d.set(xlabel="$x$", ylabel="$u'(x)$", title=rf"$u'$ from $u$ + noise $\delta = {result['delta']:g}$")
    ax_a.plot(FINE, p2_exact(FINE, eps), "k--", label="exact")
    ax_a.plot(nodes, fd["alpha"], "o", color="C3", label=f"finite differences (max err {fd['max_error']:.3g})")
    ax_a.plot(nodes, tk["alpha"], "s", color="C0", label=f"Tikhonov + GCV (max err {tk['max_error']:.3g})")
    ax_a.set(xlabel="$x$", ylabel="$a(x)$", title=rf"recovered $a$, $\varepsilon = {eps:g}$")
    ax_d.legend(fontsize=8)
    ax_a.legend(fontsize=8)
    return _save(fig, path)
