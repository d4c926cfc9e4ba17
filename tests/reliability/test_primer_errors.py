"""primer= that cannot be continued: a missing or unreadable file, no notes, no note the checkpoint can take. Each is
one line naming the file and what to do, exit code 2, no traceback."""

import pytest
from music21 import note, stream

from labtools.errors import UserError
from mozart_lstm.generate import run

MESSAGES = {
    "missing": "does not exist; pass a MIDI file (.mid) to continue",
    "folder": "is a folder; pass a MIDI file (.mid) to continue",
    "text": "music21 cannot read it as MIDI",
    "silent": "holds no pitched notes or chords to continue; pass a MIDI file with notes",
    "too_low": "none of its 2 notes and chords is within an octave of a pitch the checkpoint knows",
}


def write_notes(path, names) -> None:
    part = stream.Part()
    for i, name in enumerate(names):
        part.insert(float(i), note.Note(name) if name else note.Rest())
    part.write("midi", fp=str(path))


@pytest.fixture
def primers(tmp_path) -> dict:
    """A primer= path per case of MESSAGES, written here."""
    paths = {name: tmp_path / f"{name}.mid" for name in MESSAGES}
    paths["folder"].mkdir()
    paths["text"].write_text("not a MIDI file\n")
    write_notes(paths["silent"], [None])  # a rest only
    write_notes(paths["too_low"], ["C1", "D1"])  # far below the tests' corpus (C3 to A5)
    return paths


@pytest.mark.parametrize("case", sorted(MESSAGES))
def test_a_primer_that_cannot_be_continued_is_one_line(compose_cfg, tiny_ckpt, tmp_path, primers, case):
    overrides = [f"ckpt={tiny_ckpt}", f"paths.output_dir={tmp_path}", f"primer={primers[case]}", "n_notes=5"]
    with pytest.raises(UserError) as caught:
        run(compose_cfg("generate", overrides))
    message = str(caught.value)
    assert message.startswith(f"primer={primers[case]}: ") and MESSAGES[case] in message and "\n" not in message
    assert not (tmp_path / "mozart.mid").exists()


def test_a_primer_for_mozart_himself_is_one_line(compose_cfg, tiny_ckpt, tmp_path, primers):
    overrides = [f"ckpt={tiny_ckpt}", f"primer={primers['too_low']}", "composer=mozart"]
    with pytest.raises(UserError, match="primer= is continued by a model, and composer=mozart plays Mozart's own"):
        run(compose_cfg("generate", overrides))


@pytest.mark.slow
@pytest.mark.timeout(120 * 3 + 120)  # the cases share one interpreter; the tiny model is trained first
def test_command_line_primer_errors_exit_2(command_line_cases, tiny_ckpt, tmp_path, primers):
    cases = ["missing", "text", "silent"]
    runs = [[f"ckpt={tiny_ckpt}", f"primer={primers[case]}", f"hydra.run.dir={tmp_path / case}"] for case in cases]
    for case, (code, stderr) in zip(cases, command_line_cases("generate.py", runs, cwd=tmp_path), strict=True):
        errors = [line for line in stderr.splitlines() if line.startswith("error:")]
        assert code == 2 and len(errors) == 1 and MESSAGES[case] in errors[0], (case, stderr)
        assert "Traceback" not in stderr
