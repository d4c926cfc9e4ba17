"""`python generate.py -m ... sampler=temperature sampler.temperature=0.7,0.9 sampler.top_p=0.9,1.0` ends with
one table: every job's samples against Mozart's reference, the closest (highest mean overlapped area) first, with
the overlap's spread, the classifier two-sample test's accuracy and spread (0.5 = indistinguishable; `-` where
it could not be computed, the job's report says why), the structure feature and the long range.

A Hydra callback (conf/generate.yaml, `hydra.callbacks`) reads the `music_report.json` of every job under
the sweep folder and writes the table there as `sampling_comparison.txt`. A row is labelled by the settings that
differ between jobs, as generate.py records them: the overrides that set them (`sampler.top_p=0.9`).
"""

import logging
from pathlib import Path

from hydra.experimental.callback import Callback

from labtools.fileio import atomic_write_text

log = logging.getLogger(__name__)

TABLE_NAME = "sampling_comparison.txt"
# The few features a sweep over sampling settings moves most, and the long range, which a lower temperature trades
# (a steadier key for a looping bass); the report of each job has them all.
COLUMNS = (
    "structure",
    "key_changes",
    "longest_bass_loop",
    "both_hands",
    "pitch_class_entropy",
    "scale_consistency",
    "mean_interval",
    "repeated",
    "longest_run",
    "copied_8grams",
)


def varying_settings(reports: list) -> list[str]:
    """The settings that differ between jobs (`MusicReport`s): what the sweep changed."""
    keys = sorted({key for report in reports for key in report.settings})
    return [key for key in keys if len({repr(r.settings.get(key)) for r in reports}) > 1]


def as_override(value) -> str:
    """A setting as it is written on the command line, so a row can be copied: null, not None."""
    return "null" if value is None else str(value)


def closeness(report) -> tuple:
    """Sort key: the highest mean OA first; jobs without a comparison last."""
    return (report.overlap is None, -(report.overlap or 0.0))


def with_spread(figure: float | None, spread: float | None) -> str:
    if figure is None:
        return "-"
    return f"{figure:.3f}" + (f" ± {spread:.3f}" if spread is not None else "")


def overall_cells(report) -> list[str]:
    """OA ± spread, KL, two-sample accuracy ± spread (reports written before these figures have none)."""
    kl = "-" if report.kl is None else f"{report.kl:.2f}"
    told_apart_spread = report.told_apart_spread if report.told_apart is not None else None
    return [with_spread(report.overlap, report.overlap_spread), kl, with_spread(report.told_apart, told_apart_spread)]


def comparison_table(reports: list) -> str:
    """One row per job (a `MusicReport`), closest to the reference first, and Mozart's own values in the last row."""
    # scipy loads here, not when Hydra builds the callback at the start of every run
    from mozart_lstm.judging.features import FEATURES
    from mozart_lstm.judging.summary import format_spread, format_value, render

    kinds = {f.name: f for f in FEATURES}
    varying = varying_settings(reports)
    rows = [["setting", "OA", "KL", "told apart", *(kinds[name].label for name in COLUMNS)]]
    for report in sorted(reports, key=closeness):
        means = report.sample_stats()
        rows.append(
            [
                " ".join(f"{key}={as_override(report.settings.get(key))}" for key in varying) or "as configured",
                *overall_cells(report),
                *(format_value(kinds[name].kind, (means.get(name) or {}).get("mean")) for name in COLUMNS),
            ]
        )
    reference = next((r.reference_stats for r in reports if r.reference_stats), None)
    if reference:
        mozart = [format_spread(kinds[name].kind, reference.get(name)) for name in COLUMNS]
        rows.append(["Mozart (reference)", "", "", "", *mozart])
    return render(rows)


class SamplingComparison(Callback):
    """At the end of a multirun, print and save the table of `comparison_table`."""

    def on_multirun_end(self, config, **kwargs) -> None:
        from mozart_lstm.judging.report import REPORT_NAME, read_report

        folder = Path(config.hydra.sweep.dir)
        reports = [read_report(path) for path in sorted(folder.rglob(REPORT_NAME))]
        if not reports:
            log.warning("%s: no job wrote a music_report.json, so there is nothing to compare", folder)
            return
        table = comparison_table(reports)
        atomic_write_text(folder / TABLE_NAME, table + "\n")
        print(f"{len(reports)} sampling settings against Mozart, closest first (OA: 1 = indistinguishable):")
        print(table)
        print(folder / TABLE_NAME)
