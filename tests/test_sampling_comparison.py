"""The multirun's closing table, from the music_report.json files its jobs wrote (no subprocess here; the
slow test in test_generate_cli runs a real `generate.py -m`)."""

from omegaconf import OmegaConf

from mozart_lstm.composing.sampling import Sampler
from mozart_lstm.generate import option_settings
from mozart_lstm.judging.features import piece_features
from mozart_lstm.judging.report import music_report, write_report
from mozart_lstm.judging.sweep import TABLE_NAME, SamplingComparison, comparison_table
from mozart_lstm.tokenizers import Rhythm, build_tokenizer
from mozart_lstm.tokenizers.rhythm import make_timing

TIMED = build_tokenizer("timed")  # it reads pitch tokens too: their pitches, nothing after them

SCALE = ["C4", "D4", "E4", "F4", "G4", "A4", "B4", "C5"]


def features(tokens):
    return piece_features(TIMED.events(tokens, make_timing(len(tokens))), set())


REFERENCE = [features(SCALE), features(SCALE[::-1]), features(SCALE[1:] + ["D5"]), features(SCALE[:-1] + ["B3"])]


def report(top_p, samples, reference=REFERENCE):
    """A job's report with the settings generate.py records for `sampler=temperature sampler.top_p=<top_p>`."""
    settings = {"n_notes": 8} | option_settings(Sampler("temperature", 0.9, top_p=top_p), Rhythm())
    return music_report(samples, reference, settings)


def test_rows_are_sorted_by_overlap_and_labelled_by_what_the_sweep_changed(tmp_path):
    close = report(0.9, [features(SCALE[2:] + ["D5", "E5"]), features(SCALE[::2] * 2)])
    far = report(None, [features(["C#4"] * 8), features(["F#4", "C#4"] * 4)])
    for job, made in enumerate([far, close]):
        write_report(tmp_path / str(job), made)
    SamplingComparison().on_multirun_end(OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}}}))
    lines = (tmp_path / TABLE_NAME).read_text().splitlines()
    assert lines[0].split()[:3] == ["setting", "OA", "KL"]
    assert [line.split()[0] for line in lines[1:3]] == ["sampler.top_p=0.9", "sampler.top_p=null"]  # only it differs
    assert float(lines[1].split()[1]) > float(lines[2].split()[1])
    assert lines[3].startswith("Mozart (reference)")


def test_a_job_without_a_comparison_goes_last():
    lonely = report(0.5, [features(SCALE)], REFERENCE[:1])  # 1 reference piece: no OA
    table = comparison_table([lonely, report(0.9, [features(SCALE)])]).splitlines()
    assert table[1].startswith("sampler.top_p=0.9") and table[2].split()[:3] == ["sampler.top_p=0.5", "-", "-"]
