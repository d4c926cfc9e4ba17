"""The generate task end to end: `run(cfg)` on a composed config, and once as `python generate.py`."""

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from music21 import converter

from mozart_lstm.baselines.ngram import NGramModel
from mozart_lstm.composing.sampling import Sampler
from mozart_lstm.generate import run
from mozart_lstm.judging.report import REPORT_NAME
from mozart_lstm.tokenizers import Rhythm, build_tokenizer

TIMED = build_tokenizer("timed")  # it reads pitch tokens too: their pitches, nothing after them

pytestmark = pytest.mark.usefixtures("single_torch_thread")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def generate_cfg(compose_cfg, tiny_ckpt, tmp_path):
    def make(*overrides, out_dir=tmp_path):
        return compose_cfg("generate", [f"ckpt={tiny_ckpt}", f"paths.output_dir={out_dir}", *overrides])

    return make


def test_generate_writes_midi_wav_and_piano_roll(generate_cfg, tmp_path, capsys):
    [result] = run(generate_cfg("n_notes=40"))
    assert len(result["tokens"]) == 8 + 40  # the tiny model's 8-token window + 40 new tokens
    paths = result["paths"]
    assert paths == {
        "midi": tmp_path / "mozart.mid",
        "wav": tmp_path / "mozart.wav",
        "piano_roll": tmp_path / "mozart_piano_roll.png",
    }
    assert all(path.stat().st_size > 200 for path in paths.values())
    elements = list(converter.parse(paths["midi"]).flatten().notes)
    assert [sorted(p.midi for p in e.pitches) for e in elements] == [
        sorted(TIMED.pitches(token)) for token in result["tokens"]
    ]
    printed = capsys.readouterr().out.split()
    assert printed[-3:] == [str(paths["midi"]), str(paths["wav"]), str(paths["piano_roll"])]
    assert set(result["summary"]) >= {"repeated", "distinct_onsets", "longest_run", "structure", "copied_8grams"}


def test_samples_are_printed_and_saved_beside_mozarts_reference(generate_cfg, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="mozart_lstm.generate"):
        results = run(generate_cfg("n_notes=12", "num_samples=8", "wav=false", "piano_roll=false"))
    report = json.loads((tmp_path / REPORT_NAME).read_text())
    assert len(report["samples"]) == 16  # judge_pieces: 8 written, 8 more composed for the judge only
    assert report["samples"][:8] == [result["summary"] for result in results]
    assert report["settings"]["n_notes"] == 12 and report["settings"]["sampler"] == "argmax"
    assert report["two_sample"]["accuracy"] is None  # 12 tokens hold no stretch of 16 quarters: it says why
    assert report["two_sample"]["why"].startswith("no classifier test")
    assert report["reference"]["pieces"] >= 2  # test-split stretches of 12 tokens of the tiny corpus
    assert 0.0 <= report["comparison"]["overlap"] <= 1.0 and report["comparison"]["kl"] >= 0.0
    [table] = [r.getMessage() for r in caplog.records if "beside Mozart" in r.getMessage()]
    header = table.splitlines()[1]
    assert header.split()[-4:] == ["7", "Mozart", "OA", "KL"]  # "sample 7": eight sample columns
    assert any(line.startswith("overlap with Mozart") for line in table.splitlines())
    assert table.splitlines()[-1] == report["two_sample"]["why"]


def test_reference_size_zero_turns_the_comparison_off(generate_cfg, tmp_path):
    run(generate_cfg("n_notes=12", "num_samples=2", "wav=false", "piano_roll=false", "reference_size=0"))
    report = json.loads((tmp_path / REPORT_NAME).read_text())
    assert report["reference"] is None and report["comparison"] is None


def test_same_seed_same_files_other_seed_other_piece(generate_cfg, tmp_path):
    options = [
        "n_notes=30",
        "sampler=temperature",
        "sampler.temperature=1.5",
        "rhythm.offset=empirical",
        "piano_roll=false",
    ]
    first = run(generate_cfg(*options, "seed=4", out_dir=tmp_path / "a"))[0]
    again = run(generate_cfg(*options, "seed=4", out_dir=tmp_path / "b"))[0]
    other = run(generate_cfg(*options, "seed=5", out_dir=tmp_path / "c"))[0]
    for kind in ("midi", "wav"):
        assert first["paths"][kind].read_bytes() == again["paths"][kind].read_bytes()
    assert first["tokens"] != other["tokens"]


def test_several_samples_come_from_one_batch_with_their_own_files(generate_cfg, tmp_path, monkeypatch):
    from mozart_lstm.models.network import MozartLSTM

    batches, forward = [], MozartLSTM.forward

    def counted(self, x, *args, **kwargs):
        batches.append(len(x))
        return forward(self, x, *args, **kwargs)

    monkeypatch.setattr(MozartLSTM, "forward", counted)
    results = run(generate_cfg("n_notes=20", "num_samples=3", "judge_pieces=0", "wav=false", "mode=stateful"))
    # every call of the network holds the three samples, one call per new token (not one per sample and token)
    assert set(batches) == {3} and len(batches) <= 20 + 1
    assert [r["paths"]["midi"].name for r in results] == ["mozart_0.mid", "mozart_1.mid", "mozart_2.mid"]
    assert [r["paths"]["piano_roll"].name for r in results] == [f"mozart_{i}_piano_roll.png" for i in range(3)]
    assert all("wav" not in r["paths"] for r in results)
    assert len({tuple(r["tokens"]) for r in results}) > 1  # three seed windows, drawn from the test split
    for result in results:  # each file holds its own sample
        played = [sorted(p.midi for p in e.pitches) for e in converter.parse(result["paths"]["midi"]).flatten().notes]
        assert played == [sorted(TIMED.pitches(token)) for token in result["tokens"]]


def test_lab_format_checkpoint_composes_the_same_piece(generate_cfg, tiny_ckpt):
    lab_file = tiny_ckpt.parent / "lab_epoch_002.pt"  # written with last.ckpt at the end of the 3rd epoch
    from_lightning = run(generate_cfg("n_notes=20", "wav=false", "piano_roll=false"))[0]
    from_lab = run(generate_cfg("n_notes=20", "wav=false", "piano_roll=false", f"ckpt={lab_file}"))[0]
    assert from_lab["tokens"] == from_lightning["tokens"]


def test_without_ckpt_the_newest_run_is_taken_and_named(compose_cfg, tiny_ckpt, tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    for name, age_s in [("a_newer", 100), ("b_older", 200)]:  # the name's order is the opposite of the age's
        ckpt = tmp_path / "outputs" / "train" / name / "checkpoints" / "last.ckpt"
        ckpt.parent.mkdir(parents=True)
        shutil.copy(tiny_ckpt, ckpt)
        os.utime(ckpt, (time.time() - age_s,) * 2)
    (tmp_path / "outputs" / "train" / "c_unfinished" / "checkpoints").mkdir(parents=True)
    with caplog.at_level(logging.INFO, logger="mozart_lstm.generate"):
        run(compose_cfg("generate", [f"paths.output_dir={tmp_path}", "n_notes=5", "wav=false", "piano_roll=false"]))
    newest = "outputs/train/a_newer/checkpoints/last.ckpt"
    assert json.loads((tmp_path / REPORT_NAME).read_text())["settings"]["ckpt"] == newest
    assert f"ckpt= not given: composing with the newest run's {newest}" in caplog.text


@pytest.mark.slow
def test_command_line_run(tiny_ckpt, tmp_path):
    cmd = [sys.executable, "generate.py", f"ckpt={tiny_ckpt}", "n_notes=20", f"hydra.run.dir={tmp_path}"]
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=240, env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "mozart.mid").is_file()
    assert str(tmp_path / "mozart.mid") in done.stdout.splitlines()
    assert "copied 8-grams" in done.stdout  # the summary table


@pytest.mark.slow
def test_multirun_ends_with_one_table_sorted_by_closeness(tiny_ckpt, tmp_path):
    cmd = [sys.executable, "generate.py", "-m", f"ckpt={tiny_ckpt}", "n_notes=12", "num_samples=4", "wav=false"]
    cmd += ["piano_roll=false", "sampler=temperature", "sampler.temperature=0.5,3.0", f"hydra.sweep.dir={tmp_path}"]
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=240, env=env)
    assert done.returncode == 0, done.stderr
    table = (tmp_path / "sampling_comparison.txt").read_text().splitlines()
    assert table[0].split()[:3] == ["setting", "OA", "KL"]
    jobs = [line for line in table if line.startswith("sampler.temperature=")]  # a row is the job's overrides
    assert sorted(line.split()[0] for line in jobs) == ["sampler.temperature=0.5", "sampler.temperature=3.0"]
    overlaps = [float(line.split()[1]) for line in jobs]
    assert overlaps == sorted(overlaps, reverse=True)
    assert table[-1].startswith("Mozart (reference)")
    assert "\n".join(table) in done.stdout


def test_the_sampler_and_rhythm_are_built_and_checked_once_per_run(generate_cfg, monkeypatch):
    checks = []

    def counted(check):
        def post_init(self):
            checks.append(type(self))
            check(self)

        return post_init

    for settings in (Sampler, Rhythm):
        monkeypatch.setattr(settings, "__post_init__", counted(settings.__post_init__))
    run(generate_cfg("n_notes=12", "num_samples=3", "wav=false", "piano_roll=false", "sampler=temperature"))
    assert sorted(kind.__name__ for kind in checks) == ["Rhythm", "Sampler"]  # not per sample, not per step


def continued_by(ngram: NGramModel, ids: list[int], n_notes: int) -> list[int]:
    """`ids` continued by the n-gram's most likely next token, `n_notes` times."""
    ids = list(ids)
    for _ in range(n_notes):
        ids.append(int(ngram.log_probs(torch.tensor([ids[len(ids) - ngram.order + 1 :]])).argmax()))
    return ids


def test_the_ngram_composes_from_the_checkpoints_training_split(generate_cfg, tmp_path, tiny_ckpt):
    options = ["n_notes=30", "num_samples=2", "wav=false", "piano_roll=false", "reference_size=4", "sampler=argmax"]
    results = run(generate_cfg(*options, "composer=ngram", "ngram_order=3"))
    report = json.loads((tmp_path / REPORT_NAME).read_text())
    assert report["settings"]["composer"] == "ngram" and report["comparison"] is not None
    network = run(generate_cfg(*options, out_dir=tmp_path / "network"))
    assert [r["tokens"][:8] for r in results] == [r["tokens"][:8] for r in network]  # the same seed windows
    assert [r["tokens"] for r in results] != [r["tokens"] for r in network]
    stateful = run(generate_cfg(*options, "composer=ngram", "ngram_order=3", "mode=stateful", out_dir=tmp_path / "s"))
    assert [r["tokens"] for r in stateful] == [r["tokens"] for r in results]  # its state is the last 2 tokens
    # what a 3-gram counted on the training side of the checkpoint's data composes, and the training side only:
    # one counted on the whole token stream (held-out labels too) composes something else
    from mozart_lstm.data import MidiDataModule
    from mozart_lstm.models import read_checkpoint

    ckpt = read_checkpoint(tiny_ckpt)
    data = MidiDataModule(**ckpt.data_settings)
    data.setup()
    assert data.vocab.tokens == ckpt.vocab
    training = NGramModel(len(ckpt.vocab), 3).fit(data.ngram_sequences())
    whole = NGramModel(len(ckpt.vocab), 3).fit([data.train_set.ids])
    composed = [[data.vocab.index[token] for token in r["tokens"]] for r in results]
    assert composed == [continued_by(training, ids[:8], 30) for ids in composed]
    assert composed != [continued_by(whole, ids[:8], 30) for ids in composed]


@pytest.mark.parametrize(
    ("override", "fragment"),
    [("composer=markov", "composer='markov': must be one of network, ngram"), ("ngram_order=0", "ngram_order=0:")],
)
def test_bad_composer_settings_are_one_line(generate_cfg, override, fragment):
    from labtools.errors import UserError

    with pytest.raises(UserError, match=fragment):
        run(generate_cfg(override))
