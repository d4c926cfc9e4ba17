"""The short text summary of a run, built from results.json's numbers."""


def _problem1(r):
    return [
        "Problem 1: -(a u')' = f, a(x) = x^2 - x + 3/4 (x <= 1/2), 1/2 above",
        f"  alpha = {', '.join(f'{a:.6g}' for a in r['alpha'])}",
        f"  max |optimiser - closed form| = {r['max_diff']:.3g}, max |alpha - exact| = {r['max_error_vs_exact']:.3g}",
        f"  a(0)u'(0) = {r['flux_left']:.12g} (c0 = {r['c0']:g}), a(1)u'(1) = {r['flux_right']:.12g} "
        f"(c1 = {r['c1']:g})",
    ]


def _problem2(r):
    lines = [
        f"Problem 2: u = x + 1 + eps sin(x/eps^2), eps* = {r['critical_eps']:.12f}",
        f"  {'eps':>8} {'max|a-(1+x)|':>13} {'max a':>10} {'max|u-(x+1)|':>13} {'max|opt-closed|':>16}",
    ]
    for run in r["runs"]:
        lines.append(
            f"  {run['eps']:>8.4g} {run['max_dev_from_limit']:>13.4g} {run['max_a']:>10.4g} "
            f"{run['u_dev_sup']:>13.4g} {run['max_diff']:>16.3g}"
        )
    return lines


def _fit_line(name, fit):
    return (
        f"  {name}: misfit {fit['misfit']:.4g}, max error {fit['max_error']:.3g} at x={fit['max_error_at']:g}, "
        f"on |x|<=4 {fit['max_error_well_identified']:.3g}"
    )


def _problem3(r):
    lines = [
        f"Problem 3: nu from {r['data_shape'][0]}x{r['data_shape'][1]} measurements, h={r['h']:g}, k={r['k']:g}, "
        f"stable while nu <= {r['stability']['nu_max']:g} (k/h^2 max nu <= 1/2)",
        f"  true nu: misfit {r['true_misfit']:.4g}, residual RMS {r['true_rms']:.3g}",
        _fit_line("least squares", r["fit"]),
    ]
    if "smoothed" in r:
        lines.append(_fit_line(f"penalised (lambda={r['smoothed']['lambda']:.3g})", r["smoothed"]))
    if "timing" in r:
        speedup = r["timing"]["speedup"]
        lines.append(
            f"  speed-up over the lab's loop: forward x{speedup['forward']:.1f}, "
            f"gradient (adjoint vs finite differences) x{speedup['gradient']:.1f}"
        )
    return lines


def _noisy(r):
    fd, tk = r["finite_differences"], r["tikhonov_gcv"]
    return [
        f"Noisy u: delta={r['delta']:g}, eps={r['eps']:g}, {r['samples']} samples, seed {r['seed']}",
        f"  max |a error|: finite differences {fd['max_error']:.3g}, Tikhonov + GCV {tk['max_error']:.3g} "
        f"(lambda={tk['lambda']:.3g})",
    ]


SECTIONS = {"problem1": _problem1, "problem2": _problem2, "problem3": _problem3, "noisy": _noisy}


def summary_text(results) -> str:
    lines = []
    for key, section in SECTIONS.items():
        if key in results:
            lines += section(results[key])
    lines += [f"warning: {w}" for w in results["warnings"]]
    lines += [f"note: {n}" for n in results["notes"]]
    return "\n".join(lines) + "\n"
