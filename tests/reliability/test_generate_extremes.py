"""generate.py at the extremes: every numeric option (override -> exit code, message fragment), pieces too short
to compare, runs that share an output folder, memory that cannot fit, the progress bar, and Ctrl-C.

Exit code 2 is a UserError, printed by generate.py as one `error:` line; 0 is a finished run. Integer options
refuse floats such as 5.0 (a one-line message); real ones take integers.
"""

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labtools.errors import UserError, report_user_errors
from mozart_lstm.composing import budget, sampling
from mozart_lstm.generate import run
from mozart_lstm.judging.report import REPORT_NAME
from mozart_lstm.tokenizers import Rhythm, build_tokenizer

REPO = Path(__file__).resolve().parents[2]
HUGE_INT = 10**12
CORPUS = {"offset_gaps": {"values": [0.0, 2.0], "probs": [0.5, 0.5]}}  # a mean gap of 1.0

REFUSED = [
    ("n_notes=0", "n_notes must be an integer >= 1, got 0"),
    ("n_notes=-1", "n_notes must be an integer >= 1, got -1"),
    ("n_notes=5.0", "n_notes must be an integer >= 1, got 5.0"),
    ("n_notes=1e300", "n_notes must be an integer >= 1, got 1e+300"),
    ("n_notes=nan", "n_notes must be an integer >= 1, got nan"),
    ("n_notes=inf", "n_notes must be an integer >= 1, got inf"),
    (f"n_notes={HUGE_INT}", f"n_notes={HUGE_INT} with num_samples=1: generating and writing them needs about"),
    ("num_samples=0", "num_samples=0: must be a whole number >= 1"),
    ("num_samples=2.0", "num_samples=2.0: must be a whole number >= 1"),
    (f"num_samples={HUGE_INT}", f"n_notes=5 with num_samples={HUGE_INT}: generating and writing them needs"),
    ("seed=-1", "seed=-1: must be a whole number in [0, 4294967295]"),
    ("seed=1.0", "seed=1.0: must be a whole number"),
    ("seed=4294967296", "seed=4294967296: must be a whole number"),
    ("sampler.temperature=0", "sampler.temperature=0: must be a finite number > 0"),
    ("sampler.temperature=-1", "sampler.temperature=-1: must be a finite number > 0"),
    ("sampler.temperature=nan", "sampler.temperature=nan: must be a finite number > 0"),
    ("sampler.temperature=inf", "sampler.temperature=inf: must be a finite number > 0"),
    ("sampler.top_k=0", "sampler.top_k=0: must be an integer >= 1 or null"),
    ("sampler.top_k=5.0", "sampler.top_k=5.0: must be an integer >= 1 or null"),
    ("sampler.top_p=0", "sampler.top_p=0: must be in (0, 1] or null"),
    ("sampler.top_p=nan", "sampler.top_p=nan: must be in (0, 1] or null"),
    ("sampler.top_p=1e300", "sampler.top_p=1e+300: must be in (0, 1] or null"),
    ("sampler.repetition_penalty=0.5", "sampler.repetition_penalty=0.5: must be a finite number >= 1"),
    ("sampler.repetition_penalty=nan", "sampler.repetition_penalty=nan: must be a finite number >= 1 (1 turns it off)"),
    ("sampler.repetition_penalty=inf", "sampler.repetition_penalty=inf: must be a finite number >= 1 (1 turns it off)"),
    ("rhythm.offset_step=0", "rhythm.offset_step=0: must be in (0, 1000] (quarter lengths)"),
    ("rhythm.offset_step=nan", "rhythm.offset_step=nan: must be in (0, 1000] (quarter lengths)"),
    ("rhythm.offset_step=1e300", "rhythm.offset_step=1e+300: must be in (0, 1000] (quarter lengths)"),
    ("rhythm.duration_value=-1", "rhythm.duration_value=-1: must be in (0, 1000] (quarter lengths) or null"),
    ("rhythm.duration_value=inf", "rhythm.duration_value=inf: must be in (0, 1000] (quarter lengths) or null"),
    ("bpm=0", "bpm=0: must be a finite number > 0"),
    ("bpm=nan", "bpm=nan: must be a finite number > 0"),
    ("bpm=inf", "bpm=inf: must be a finite number > 0"),
    ("bpm=1e-300", "n_notes=5 with num_samples=1: generating and writing them needs about"),  # a WAV of ages
    ("reference_size=-1", "reference_size=-1: must be a whole number >= 0 (0: no reference)"),
    ("reference_size=2.0", "reference_size=2.0: must be a whole number >= 0 (0: no reference)"),
    ("reference_size=nan", "reference_size=nan: must be a whole number >= 0 (0: no reference)"),
    ("sample_rate=0", "sample_rate=0: must be a whole number >= 1"),
    ("sample_rate=22050.0", "sample_rate=22050.0: must be a whole number >= 1"),
    (f"sample_rate={HUGE_INT * 10**6}", "(or set wav=false)"),
]


@pytest.fixture
def lab_file(tiny_ckpt):
    return tiny_ckpt.parent / "lab_epoch_002.pt"


@pytest.fixture
def generate_cfg(compose_cfg, tmp_path, lab_file):
    return lambda *overrides: compose_cfg(
        "generate", [f"paths.output_dir={tmp_path}", f"ckpt={lab_file}", "n_notes=5", "judge_pieces=0", *overrides]
    )


@pytest.mark.parametrize(("override", "fragment"), REFUSED, ids=[row[0] for row in REFUSED])
def test_refused_in_one_line(generate_cfg, tmp_path, override, fragment):
    with pytest.raises(UserError) as caught:
        run(generate_cfg(override))
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not list(tmp_path.glob("*.mid"))


QUIET = ["wav=false", "piano_roll=false"]
ANSWERED = [
    ["sampler=temperature", "sampler.temperature=1e-300", "sampler.top_k=1000000000000", "seed=4294967295"],
    ["sampler=temperature", "sampler.temperature=1e300", "sampler.top_p=1e-300", "sampler.repetition_penalty=1e300"],
    ["rhythm.offset_step=1e-300", "rhythm.duration_value=1000", "bpm=1e300"],
    [f"reference_size={HUGE_INT}"],  # as many test-split stretches as there are
]


@pytest.mark.usefixtures("single_torch_thread")
@pytest.mark.parametrize("overrides", ANSWERED, ids=[" ".join(row) for row in ANSWERED])
def test_legal_extremes_compose(generate_cfg, overrides):
    (result,) = run(generate_cfg(*QUIET, *overrides))
    assert len(result["tokens"]) == 8 + 5  # the tiny model's 8-token seed window and 5 generated
    assert result["paths"]["midi"].stat().st_size > 0


@pytest.mark.usefixtures("single_torch_thread")
@pytest.mark.parametrize(("n_notes", "compared"), [(1, False), (2, True)])
def test_pieces_too_short_to_compare_get_a_note_not_an_overlap(generate_cfg, tmp_path, caplog, n_notes, compared):
    with caplog.at_level(logging.INFO, logger="mozart_lstm.generate"):
        run(generate_cfg(*QUIET, f"n_notes={n_notes}", "num_samples=3"))
    report = json.loads((tmp_path / REPORT_NAME).read_text())
    [table] = [record.getMessage() for record in caplog.records if "beside Mozart" in record.getMessage()]
    assert report["reference"]["pieces"] >= 2  # Mozart's side is there either way
    assert (report["comparison"] is not None) == compared
    assert ("overlap with Mozart: " in table) == compared
    assert ("no set comparison: pieces of n_notes=1 token(s) are too short" in table) != compared


@pytest.mark.usefixtures("single_torch_thread")
def test_two_runs_writing_into_one_folder_keep_their_own_files(compose_cfg, lab_file, tmp_path):
    shared = tmp_path / "pieces"
    written = {}
    for name in ("first", "second"):
        overrides = [f"ckpt={lab_file}", "n_notes=5", f"out={shared / name}.mid", f"paths.output_dir={tmp_path / name}"]
        (result,) = run(compose_cfg("generate", overrides))
        written[name] = {path.name for path in result["paths"].values()}
    assert written == {name: {f"{name}.mid", f"{name}.wav", f"{name}_piano_roll.png"} for name in written}
    assert {path.name for path in shared.iterdir()} == written["first"] | written["second"]
    assert all((tmp_path / name / REPORT_NAME).is_file() for name in written)  # each run's report in its run dir


@pytest.mark.usefixtures("single_torch_thread")
def test_a_long_generation_shows_tokens_rate_and_time_left(generate_cfg, monkeypatch, capsys):
    monkeypatch.setattr(budget, "SHOW_AFTER_S", 0)
    run(generate_cfg(*QUIET, "n_notes=40", "num_samples=2", "judge_pieces=0"))
    bar = capsys.readouterr().err
    assert "generating" in bar and "80/80 [" in bar  # 40 steps of 2 samples: tokens over both
    assert "tokens/s]" in bar and "<00:00" in bar  # the rate and the time left


@pytest.mark.usefixtures("single_torch_thread")
@pytest.mark.parametrize("where", ["while generating", "while writing the wav"])
def test_ctrl_c_stops_with_one_line_and_no_half_written_file(generate_cfg, tmp_path, monkeypatch, capsys, where):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    if where == "while generating":
        monkeypatch.setattr(sampling.Sampler, "choose", interrupt)
    else:
        from labtools.fileio import atomic_path
        from mozart_lstm.composing import piano_sound

        def half_a_wav(path, *args):
            with atomic_path(path) as tmp:
                tmp.write_bytes(b"RIFF....")
                interrupt()

        monkeypatch.setattr(piano_sound, "write_wav", half_a_wav)  # whichever renderer plays, it writes through it
    with pytest.raises(SystemExit) as stopped:
        report_user_errors(run)(generate_cfg("piano_roll=false"))
    assert stopped.value.code == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("interrupted (Ctrl-C)") and "Traceback" not in "".join(err)
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == ([] if where == "while generating" else ["mozart.mid"])


@pytest.mark.slow
def test_sigint_to_generate_py_exits_130(lab_file, tmp_path):
    """A real Ctrl-C: SIGINT once the progress bar shows."""
    command = [sys.executable, "generate.py", f"ckpt={lab_file}", "n_notes=200000", f"hydra.run.dir={tmp_path}"]
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    # Ctrl-C as from a terminal: a shell that starts pytest in the background (`make test &`) hands its
    # children SIGINT ignored, and Python then installs no KeyboardInterrupt handler
    restore_ctrl_c = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731
    proc = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True, preexec_fn=restore_ctrl_c)
    seen = ""
    deadline = time.monotonic() + 240
    while "generating:" not in seen and time.monotonic() < deadline:
        seen += proc.stderr.read(1)
    proc.send_signal(signal.SIGINT)
    rest = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, seen + rest
    assert "Traceback" not in rest and rest.strip().splitlines()[-1].startswith("interrupted (Ctrl-C)")
    assert not list(tmp_path.glob("mozart*")) and not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize(
    ("offset", "corpus", "timed", "gap"),
    [
        ("fixed", CORPUS, True, 0.5),
        ("empirical", CORPUS, False, 1.0),
        ("learned", CORPUS, True, 1.0),  # learned gaps imitate the corpus's, not the fixed grid
        ("auto", CORPUS, True, 1.0),  # a timed-token model: auto is learned
        ("auto", CORPUS, False, 0.5),  # a pitch-only model: auto is the fixed grid
        ("auto", None, True, 0.5),  # a checkpoint without its corpus rhythm: only the grid is known
    ],
)
def test_the_memory_estimate_spaces_notes_by_the_gap_they_will_have(offset, corpus, timed, gap):
    tokenizer = build_tokenizer("timed" if timed else "pitch")
    assert tokenizer.mean_gap(Rhythm(offset, offset_step=0.5), corpus) == gap
