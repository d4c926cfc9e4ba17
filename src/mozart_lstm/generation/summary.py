"""What the user reads: the generated pieces' features beside Mozart's, and how close the two sets are.

`music_report` gathers per-sample features, the reference's spread and the set comparison into one
JSON-ready dict; `format_report` prints it as one table, a row per feature.
"""

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from music21 import pitch

from labtools.fileio import atomic_write_text
from mozart_lstm.generation.compare import compare_sets, spread
from mozart_lstm.generation.features import COMPARED, FEATURES, MIN_COMPARED_TOKENS, PITCH_CLASS_NAMES

REPORT_NAME = "music_report.json"


def too_short(settings: dict) -> bool:
    return settings.get("n_notes", MIN_COMPARED_TOKENS) < MIN_COMPARED_TOKENS


def music_report(samples: Sequence[dict], reference: Sequence[dict], settings: dict) -> dict:
    """`samples` and `reference` are `piece_features` dicts; `settings` says how the samples were made (their
    n_notes, when known, decides whether they are long enough to compare)."""
    comparable = len(reference) >= 2 and not too_short(settings)
    return {
        "settings": settings,
        "samples": list(samples),
        "reference": {"pieces": len(reference), "spread": spread(reference)} if reference else None,
        "comparison": compare_sets(samples, reference) if comparable else None,
    }


def write_report(folder, report: dict) -> Path:
    return atomic_write_text(Path(folder) / REPORT_NAME, json.dumps(report, indent=1))


def format_value(kind: str, value) -> str:
    """One feature value as the tables print it; `value` may be a set's mean."""
    if value is None:
        return "-"
    if kind == "histogram":
        return PITCH_CLASS_NAMES[int(np.argmax(value))]
    if kind == "pitch":
        return pitch.Pitch(midi=int(round(value))).nameWithOctave
    if kind == "share":
        return f"{value:.1%}"
    if kind == "count" and float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}"


def format_spread(kind: str, stats: dict | None) -> str:
    if stats is None:
        return "-"
    if kind == "histogram":
        return format_value(kind, stats["mean"])
    std = f"{stats['std']:.1%}" if kind == "share" else f"{stats['std']:.2f}"
    return f"{format_value(kind, stats['mean'])} ± {std}"


def format_report(report: dict) -> str:
    """Features as rows; a column per sample, then Mozart's mean ± sd, then OA and KL against Mozart."""
    samples = report["samples"]
    reference = report["reference"]["spread"] if report["reference"] else {}
    compared = report["comparison"]["features"] if report["comparison"] else {}
    rows = [["feature", *(f"sample {i}" for i in range(len(samples))), "Mozart", "OA", "KL"]]
    for feature in FEATURES:
        figures = compared.get(feature.name, {})
        rows.append(
            [
                feature.label,
                *(format_value(feature.kind, sample[feature.name]) for sample in samples),
                format_spread(feature.kind, reference.get(feature.name)),
                *(format_value("number", figures.get(key)) for key in ("overlap", "kl")),
            ]
        )
    return render(rows) + "\n" + closeness_line(report)


def closeness_line(report: dict) -> str:
    comparison, reference = report["comparison"], report["reference"]
    if too_short(report["settings"]):
        return (
            f"no set comparison: pieces of n_notes={report['settings']['n_notes']} token(s) are too short; "
            f"mean interval and repeated are steps between neighbouring tokens: n_notes >= {MIN_COMPARED_TOKENS}"
        )
    if comparison is None:
        found = reference["pieces"] if reference else 0
        return (
            f"no set comparison: Mozart's reference has {found} stretch(es), it needs 2 "
            "(reference_size >= 2, and test pieces longer than n_notes)"
        )
    return (
        f"overlap with Mozart: {format_value('number', comparison['overlap'])} (mean OA over {len(COMPARED)} "
        f"features; 1 = indistinguishable), mean KL {format_value('number', comparison['kl'])}; "
        f"reference: {reference['pieces']} test-split stretches of {report['settings'].get('n_notes')} tokens"
    )


def render(rows: Sequence[Sequence[str]]) -> str:
    """A fixed-width table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
