"""The music report: what the judge found, as one typed object, and `music_report.json`, its file.

Three figures of the report are spreads of different things, and the JSON keeps their historical names:
- `reference_stats` (JSON `reference.spread`): Mozart's mean and standard deviation of each feature over the
  reference stretches, a description of the reference;
- `overlap_bootstrap` (JSON `spread`): how much the overall overlap (and the structure feature's) would move with
  other generated pieces, a smoothed bootstrap over the pieces (overlap_spread.py);
- `two_sample["spread"]`: the same kind of bootstrap for the classifier's accuracy (two_sample.py).
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from labtools.fileio import atomic_write_text
from mozart_lstm.judging.compare import compare_sets, spread
from mozart_lstm.judging.features import MIN_COMPARED_TOKENS

REPORT_NAME = "music_report.json"


@dataclass(frozen=True)
class MusicReport:
    """The generated pieces' features beside Mozart's reference, and how close the two sets are."""

    settings: dict  # how the pieces were made (n_notes decides whether they are long enough to compare)
    samples: list[dict]  # each generated piece's `piece_features`
    reference_pieces: int  # Mozart's reference stretches (0: none)
    reference_stats: dict | None  # per feature, Mozart's mean and sd over them
    comparison: dict | None  # the set comparison: overall overlap and kl, and per feature
    overlap_bootstrap: dict | None = None  # the overall overlap's (and structure's) bootstrap spread
    two_sample: dict | None = None  # the classifier two-sample test, or why there is none

    @property
    def too_short(self) -> bool:
        return self.settings.get("n_notes", MIN_COMPARED_TOKENS) < MIN_COMPARED_TOKENS

    @property
    def overlap(self) -> float | None:
        return (self.comparison or {}).get("overlap")

    @property
    def kl(self) -> float | None:
        return (self.comparison or {}).get("kl")

    @property
    def overlap_spread(self) -> float | None:
        """The overall overlap's bootstrap standard deviation, when there is one."""
        return ((self.overlap_bootstrap or {}).get("overlap") or {}).get("spread")

    @property
    def told_apart(self) -> float | None:
        """How often the classifier tells the pieces from Mozart's (0.5: not at all), when it ran."""
        return (self.two_sample or {}).get("accuracy")

    @property
    def told_apart_spread(self) -> float | None:
        return (self.two_sample or {}).get("spread")

    def sample_stats(self) -> dict:
        """Per feature, the generated pieces' mean and sd (what `reference_stats` is for Mozart's)."""
        return spread(self.samples)

    def as_json(self) -> dict:
        reference = {"pieces": self.reference_pieces, "spread": self.reference_stats} if self.reference_pieces else None
        return {
            "settings": self.settings,
            "samples": self.samples,
            "reference": reference,
            "comparison": self.comparison,
            "spread": self.overlap_bootstrap,
            "two_sample": self.two_sample,
        }

    @classmethod
    def from_json(cls, found: dict) -> "MusicReport":
        reference = found.get("reference") or {}
        return cls(
            settings=found["settings"],
            samples=found["samples"],
            reference_pieces=reference.get("pieces", 0),
            reference_stats=reference.get("spread"),
            comparison=found.get("comparison"),
            overlap_bootstrap=found.get("spread"),
            two_sample=found.get("two_sample"),
        )


def music_report(samples: Sequence[dict], reference: Sequence[dict], settings: dict) -> MusicReport:
    """`samples` and `reference` are `piece_features` dicts; the sets are compared when both can be."""
    report = MusicReport(settings, list(samples), len(reference), spread(reference) if reference else None, None)
    if len(reference) >= 2 and not report.too_short:
        report = replace(report, comparison=compare_sets(samples, reference))
    return report


def write_report(folder, report: MusicReport) -> Path:
    return atomic_write_text(Path(folder) / REPORT_NAME, json.dumps(report.as_json(), indent=1))


def read_report(path) -> MusicReport:
    return MusicReport.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
