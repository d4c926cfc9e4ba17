"""`python generate.py -m ... sampler=temperature sampler.temperature=0.7,0.9 sampler.top_p=0.9,1.0` ends with
one table: every job's samples against Mozart's reference, the closest (highest mean overlapped area) first, with
the overlap's spread, the classifier two-sample test's accuracy and spread (0.5 = indistinguishable; `-` where
it could not be computed, the job's report says why) and the structure feature.

A Hydra callback (conf/generate.yaml, `hydra.callbacks`) reads the `music_report.json` of every job under
the sweep folder and writes the table there as `sampling_comparison.txt`. A row is labelled by the settings that
differ between jobs, as generate.py records them: the overrides that set them (`sampler.top_p=0.9`).
"""

import json
import logging
from pathlib import Path

from hydra.experimental.callback import Callback

from labtools.fileio import atomic_write_text

log = logging.getLogger(__name__)

TABLE_NAME = "sampling_comparison.txt"
# The few features a sweep over sampling settings moves most; the report of each job has them all.
COLUMNS = (
    "structure",
    "pitch_class_entropy",
    "scale_consistency",
    "mean_interval",
    "repeated",
    "longest_run",
    "copied_8grams",
)


def varying_settings(reports: list[dict]) -> list[str]:
    """The settings that differ between jobs: what the sweep changed."""
    keys = sorted({key for report in reports for key in report["settings"]})
    return [key for key in keys if len({repr(r["settings"].get(key)) for r in reports}) > 1]


def as_override(value) -> str:
    """A setting as it is written on the command line, so a row can be copied: null, not None."""
    return "null" if value is None else str(value)


def closeness(report: dict) -> tuple:
    """Sort key: the highest mean OA first; jobs without a comparison last."""
    overlap = (report["comparison"] or {}).get("overlap")
    return (overlap is None, -(overlap or 0.0))


def with_spread(figure: float | None, spread: dict | None) -> str:
    if figure is None:
        return "-"
    return f"{figure:.3f}" + (f" ± {spread['spread']:.3f}" if spread else "")


def overall_cells(report: dict) -> list[str]:
    """OA ± spread, KL, two-sample accuracy ± spread (reports written before these figures have none)."""
    comparison, test = report["comparison"] or {}, report.get("two_sample") or {}
    overlap = with_spread(comparison.get("overlap"), (report.get("spread") or {}).get("overlap"))
    kl = "-" if comparison.get("kl") is None else f"{comparison['kl']:.2f}"
    return [overlap, kl, with_spread(test.get("accuracy"), test if test.get("accuracy") is not None else None)]


def comparison_table(reports: list[dict]) -> str:
    """One row per job, closest to the reference first, and Mozart's own values in the last row."""
    # music21 and scipy load here, not when Hydra builds the callback at the start of every run
    from mozart_lstm.judging.compare import spread
    from mozart_lstm.judging.features import FEATURES
    from mozart_lstm.judging.summary import format_spread, format_value, render

    kinds = {f.name: f for f in FEATURES}
    varying = varying_settings(reports)
    rows = [["setting", "OA", "KL", "told apart", *(kinds[name].label for name in COLUMNS)]]
    for report in sorted(reports, key=closeness):
        means = spread(report["samples"])
        rows.append(
            [
                " ".join(f"{key}={as_override(report['settings'].get(key))}" for key in varying) or "as configured",
                *overall_cells(report),
                *(format_value(kinds[name].kind, (means.get(name) or {}).get("mean")) for name in COLUMNS),
            ]
        )
    reference = next((r["reference"] for r in reports if r["reference"]), None)
    if reference:
        mozart = [format_spread(kinds[name].kind, reference["spread"].get(name)) for name in COLUMNS]
        rows.append(["Mozart (reference)", "", "", "", *mozart])
    return render(rows)


class SamplingComparison(Callback):
    """At the end of a multirun, print and save the table of `comparison_table`."""

    def on_multirun_end(self, config, **kwargs) -> None:
        from mozart_lstm.judging.summary import REPORT_NAME

        folder = Path(config.hydra.sweep.dir)
        reports = [json.loads(path.read_text()) for path in sorted(folder.rglob(REPORT_NAME))]
        if not reports:
            log.warning("%s: no job wrote a music_report.json, so there is nothing to compare", folder)
            return
        table = comparison_table(reports)
        atomic_write_text(folder / TABLE_NAME, table + "\n")
        print(f"{len(reports)} sampling settings against Mozart, closest first (OA: 1 = indistinguishable):")
        print(table)
        print(folder / TABLE_NAME)
