"""The whole judge in one call, for generate.py and the audio_samples callback: the features of the generated
pieces and of Mozart's reference stretches, both from decoded notes; their set comparison with its spread;
and the classifier two-sample test. One `MusicReport` (report.py), printed by summary.py."""

from collections.abc import Sequence
from dataclasses import replace

from mozart_lstm.judging.features import piece_features
from mozart_lstm.judging.overlap_spread import overlap_spread
from mozart_lstm.judging.reference import Stretch
from mozart_lstm.judging.report import MusicReport, music_report
from mozart_lstm.judging.two_sample import two_sample_test
from mozart_lstm.notes import NoteEvent


def generated_stretches(pieces: Sequence[Sequence[NoteEvent]]) -> list[Stretch]:
    return [Stretch(f"generated {k}", list(events)) for k, events in enumerate(pieces)]


def judge(
    pieces: Sequence[Sequence[NoteEvent]], mozart: Sequence[Stretch], train_grams: set, settings: dict
) -> MusicReport:
    """The music report of `pieces` (each the generated part's notes) against `mozart`, the reference stretches."""
    return judge_stretches(generated_stretches(pieces), mozart, train_grams, settings)


def judge_stretches(
    judged: Sequence[Stretch], mozart: Sequence[Stretch], train_grams: set, settings: dict
) -> MusicReport:
    """`judge` of pieces that say which piece they come from: the controls judge Mozart against Mozart, and the
    classifier must not train and test on one sonata."""
    samples = [piece_features(stretch.events, train_grams) for stretch in judged]
    reference = [piece_features(stretch.events, train_grams) for stretch in mozart]
    report = music_report(samples, reference, settings)
    bootstrap = overlap_spread(samples, reference) if report.comparison else None
    return replace(report, overlap_bootstrap=bootstrap, two_sample=two_sample_test(judged, mozart))
