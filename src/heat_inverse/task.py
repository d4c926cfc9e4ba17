"""The inverse task: run the selected problems, draw their figures, write results.json and a summary."""

import logging
import warnings

from heat_inverse.fileio import write_json
from heat_inverse.noisy import noisy_problem2
from heat_inverse.plots import plot_noisy, plot_problem1, plot_problem2, plot_problem3
from heat_inverse.problem3 import load_heat_data, problem3
from heat_inverse.problems import problem1, problem2
from heat_inverse.settings import read_settings
from heat_inverse.summary import summary_text
from labtools.fileio import atomic_write_text

log = logging.getLogger(__name__)

FIGURES = {
    "problem1": (plot_problem1, "a_problem1.png"),
    "problem2": (plot_problem2, "a_problem2.png"),
    "problem3": (plot_problem3, "nu_problem3.png"),
    "noisy": (plot_noisy, "a_noisy.png"),
}


def _solve(s):
    heat_data = load_heat_data(s.heat_data) if 3 in s.problems else None  # a bad file fails before any work
    results = {"problem1": problem1(s.start)}
    if 2 in s.problems:
        results["problem2"] = problem2(s.eps, s.start, warn_above=s.a_warn)
    if heat_data is not None:
        heat = s.heat
        results["problem3"] = problem3(
            heat_data,
            heat["x_range"],
            heat["dt"],
            heat["start"],
            heat["smoothing"],
            heat["sigma"],
            heat["timing"],
            source=s.heat_data,
        )
    if s.noise is not None:
        results["noisy"] = noisy_problem2(s.noise, **s.noisy)
    return results


def run(cfg) -> dict:
    settings = read_settings(cfg)
    out = settings.output_dir
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = _solve(settings)
    results["warnings"] = [str(w.message) for w in caught]
    results["notes"] = settings.notes
    for message in results["warnings"]:
        log.warning("%s", message)
    results["figures"] = [
        str(plot(results[key], out / name)) for key, (plot, name) in FIGURES.items() if key in results
    ]
    write_json(out / "results.json", results)
    text = summary_text(results)
    atomic_write_text(out / "summary.txt", text)
    print(text + f"outputs: {out}")
    return results
