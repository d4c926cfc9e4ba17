"""What the user reads of a `MusicReport` (report.py): one table, a row per feature with the generated pieces
beside Mozart's mean ± sd, then a line per overall figure."""

from collections.abc import Sequence

import numpy as np

from mozart_lstm.judging.features import FEATURES, MIN_COMPARED_TOKENS, OVERALL
from mozart_lstm.judging.report import MusicReport
from mozart_lstm.notes import PITCH_CLASS_NAMES, pitch_name


def format_value(kind: str, value) -> str:
    """One feature value as the tables print it; `value` may be a set's mean."""
    if value is None:
        return "-"
    if kind == "histogram":
        return PITCH_CLASS_NAMES[int(np.argmax(value))]
    if kind == "pitch":
        return pitch_name(int(round(value)))
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


def format_report(report: MusicReport) -> str:
    """Features as rows; a column per written sample (`num_samples` of the settings; the judge may have composed
    more), then Mozart's mean ± sd, then OA and KL against Mozart; then the overall lines."""
    samples = report.samples[: report.settings.get("num_samples")]
    reference = report.reference_stats or {}
    compared = report.comparison["features"] if report.comparison else {}
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
    lines = [closeness_line(report), spread_line(report), structure_line(report), classifier_line(report)]
    return "\n".join([render(rows), *(line for line in lines if line)])


def closeness_line(report: MusicReport) -> str:
    if report.too_short:
        return (
            f"no set comparison: pieces of n_notes={report.settings['n_notes']} token(s) are too short; "
            f"mean interval and repeated are steps between neighbouring tokens: n_notes >= {MIN_COMPARED_TOKENS}"
        )
    if report.comparison is None:
        return (
            f"no set comparison: Mozart's reference has {report.reference_pieces} stretch(es), it needs 2 "
            "(reference_size >= 2, and test pieces longer than n_notes)"
        )
    return (
        f"overlap with Mozart: {format_value('number', report.overlap)} (mean OA over {len(OVERALL)} "
        f"features; 1 = indistinguishable), mean KL {format_value('number', report.kl)}; "
        f"reference: {report.reference_pieces} test-split stretches of {report.settings.get('n_notes')} tokens, "
        f"against {len(report.samples)} generated pieces"
    )


def interval(figures: dict) -> str:
    low, high = figures["ci95"]
    return f"± {figures['spread']:.3f}, 95% {low:.3f}-{high:.3f}"


def spread_line(report: MusicReport) -> str | None:
    """The overall overlap's spread (judge.judge's reports only; the closeness line says why there is none)."""
    if not report.comparison or report.overlap_bootstrap is None:
        return None
    figures = report.overlap_bootstrap["overlap"]
    if figures is None:
        return f"no spread of the overlap: it needs 2 generated pieces, got {len(report.samples)} (judge_pieces)"
    return (
        f"overlap spread {interval(figures)} (bootstrap over the {len(report.samples)} generated pieces); "
        f"a spread below 0.02 needs {figures['pieces_needed']} pieces"
    )


def structure_line(report: MusicReport) -> str | None:
    """The structure feature, reported apart from the overall mean."""
    if not report.comparison:
        return None
    overlap = report.comparison["features"]["structure"]["overlap"]
    mine, mozart = report.sample_stats()["structure"], (report.reference_stats or {}).get("structure")
    if overlap is None or mine is None or mozart is None:
        return "no structure figure: it needs pieces of at least 2 bars (8 quarters) on both sides: a longer n_notes"
    figures = (report.overlap_bootstrap or {}).get("structure")
    return (
        f"structure (self-similarity, not in the overall mean): {mine['mean']:.3f} against Mozart's "
        f"{mozart['mean']:.3f} ± {mozart['std']:.3f}; OA {overlap:.3f}" + (f" {interval(figures)}" if figures else "")
    )


def classifier_line(report: MusicReport) -> str | None:
    test = report.two_sample
    if test is None:
        return None
    if test["why"]:
        return test["why"]
    needed = test["pieces_needed"]
    enough = (
        f"a spread below 0.02 needs {needed} generated pieces"
        if needed is not None
        else f"Mozart's {test['pieces']['mozart']} pieces alone spread ± {test['mozart_side_spread']:.3f}: no number "
        "of generated pieces brings it below 0.02"
    )
    return (
        f"classifier two-sample test: told apart from Mozart {test['accuracy']:.3f} of the time ({interval(test)}; "
        f"0.5 = indistinguishable), on {test['stretches']['generated']} + {test['stretches']['mozart']} stretches of "
        f"{test['quarters']:g} quarters from {test['pieces']['generated']} + {test['pieces']['mozart']} pieces, "
        f"{test['folds']} folds by piece; it leans on {', '.join(test['telling'])}; {enough}"
    )


def render(rows: Sequence[Sequence[str]]) -> str:
    """A fixed-width table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
