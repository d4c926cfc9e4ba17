"""generate.py's bad inputs: each ends with one line naming the path or key, exit code 2, no traceback."""

from pathlib import Path

import pytest
import torch
from hydra.errors import ConfigCompositionException

from labtools.errors import UserError
from mozart_lstm.generate import run


@pytest.fixture
def lab_file(tiny_ckpt):
    """The tiny model's lab-format checkpoint (a plain dict, easy to break on purpose)."""
    return tiny_ckpt.parent / "lab_epoch_002.pt"


@pytest.fixture
def generate_error(compose_cfg, tmp_path):
    """The one-line UserError that run() raises for these overrides."""

    def error(*overrides) -> str:
        with pytest.raises(UserError) as caught:
            run(compose_cfg("generate", [f"paths.output_dir={tmp_path}", "n_notes=5", *overrides]))
        message = str(caught.value)
        assert "\n" not in message
        return message

    return error


def edited_copy(lab_file, tmp_path, **changes) -> Path:
    contents = torch.load(lab_file, weights_only=True) | changes
    path = tmp_path / "edited.pt"
    torch.save(contents, path)
    return path


def test_without_ckpt_or_a_trained_run_one_line_says_how_to_train_one(generate_error, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "outputs" / "train" / "unfinished" / "checkpoints").mkdir(parents=True)
    message = generate_error()
    assert message.startswith("no ckpt= given and no trained run in outputs/train/*/checkpoints/last.ckpt")
    assert "`make train`" in message and "python train.py experiment=smoke" in message


def test_a_path_that_does_not_exist_is_named(generate_error, tmp_path):
    missing = tmp_path / "nope" / "last.ckpt"
    assert str(missing) in generate_error(f"ckpt={missing}")


def test_a_text_file_is_not_a_checkpoint(generate_error, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a checkpoint\n")
    message = generate_error(f"ckpt={text}")
    assert str(text) in message
    assert "not a readable checkpoint" in message


def test_vocabulary_size_that_does_not_match_the_weights(generate_error, lab_file, tmp_path):
    vocab = torch.load(lab_file, weights_only=True)["vocab"]
    broken = edited_copy(lab_file, tmp_path, vocab=vocab[:-2])
    message = generate_error(f"ckpt={broken}")
    assert str(broken) in message
    assert "incompatible" in message


def test_data_that_changed_since_training(generate_error, lab_file, tmp_path):
    vocab = torch.load(lab_file, weights_only=True)["vocab"]
    swapped = edited_copy(lab_file, tmp_path, vocab=[vocab[1], vocab[0], *vocab[2:]])
    assert "changed since training" in generate_error(f"ckpt={swapped}")


def test_empirical_rhythm_without_a_saved_distribution(generate_error, lab_file, tmp_path):
    bare = edited_copy(lab_file, tmp_path, rhythm=None)
    assert "rhythm.offset/duration=empirical" in generate_error(f"ckpt={bare}", "rhythm.offset=empirical")


@pytest.mark.parametrize(
    "override, key",
    [
        ("n_notes=0", "n_notes"),
        ("n_notes=ten", "n_notes"),
        ("num_samples=0", "num_samples"),
        ("reference_size=-1", "reference_size"),
        ("mode=fast", "mode"),
        ("sampler.sampling=beam", "sampler.sampling='beam': must be one of"),
        ("sampler.top_p=1.5", "sampler.top_p=1.5: "),
        ("sampler.top_k=0", "sampler.top_k=0: "),
        ("sampler.repetition_penalty=0.5", "sampler.repetition_penalty=0.5: "),
        ("rhythm.offset=swing", "rhythm.offset='swing': must be one of"),
        ("rhythm.duration=legato", "rhythm.duration='legato': must be one of"),
        ("rhythm.offset_step=0", "rhythm.offset_step=0: "),
        ("rhythm.duration_value=-1", "rhythm.duration_value=-1: "),
    ],
)
def test_bad_values_name_their_key(generate_error, lab_file, override, key):
    assert generate_error(f"ckpt={lab_file}", override).startswith(key)


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (["sampling=temperature", "temperature=0.8"], "sampling= has moved: use sampler=temperature"),
        (["temperature=0.8", "top_p=0.9"], "temperature= has moved: use sampler.temperature=0.8"),
        (["top_k=5"], "top_k= has moved: use sampler.top_k=5"),
        (["repetition_penalty=1.2"], "repetition_penalty= has moved: use sampler.repetition_penalty=1.2"),
        (["offset=empirical", "duration=empirical"], "offset= has moved: use rhythm.offset=empirical"),
        (["duration=empirical"], "duration= has moved: use rhythm.duration=empirical"),
        (["offset_step=0.25"], "offset_step= has moved: use rhythm.offset_step=0.25"),
        (["duration_value=1.0"], "duration_value= has moved: use rhythm.duration_value=1.0"),
    ],
)
def test_an_old_flat_spelling_gives_its_new_one(generate_error, lab_file, overrides, expected):
    assert generate_error(f"ckpt={lab_file}", *overrides) == expected


def test_an_unknown_sampler_is_a_hydra_error_naming_the_choices(compose_cfg, lab_file):
    with pytest.raises(ConfigCompositionException, match="argmax"):
        compose_cfg("generate", [f"ckpt={lab_file}", "sampler=beam"])


def test_unknown_option_is_a_hydra_error_naming_it(compose_cfg, lab_file):
    with pytest.raises(ConfigCompositionException, match="temprature"):
        compose_cfg("generate", [f"ckpt={lab_file}", "temprature=0.8"])


CLI_CASES = [
    ([], "no ckpt= given and no trained run in outputs/train/"),
    (["ckpt={text}"], "not a readable checkpoint"),
    (["ckpt={lab}", "n_notes=0"], "n_notes must be"),
    (["ckpt={lab}", "sampler.temperature=0"], "error: sampler.temperature=0: must be a finite number > 0"),
    (["ckpt={lab}", "sampling=temperature", "top_p=0.9"], "error: sampling= has moved: use sampler=temperature"),
]


@pytest.mark.slow
@pytest.mark.timeout(120 * len(CLI_CASES) + 120)  # the cases share one interpreter; the tiny model is trained first
def test_command_line_errors_are_one_line_and_exit_2(command_line_cases, lab_file, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a checkpoint\n")
    cases = [
        [arg.format(text=text, lab=lab_file) for arg in args] + [f"hydra.run.dir={tmp_path / f'run{number}'}"]
        for number, (args, _) in enumerate(CLI_CASES)
    ]
    # from an empty folder: without ckpt= the newest run below the working folder would be taken
    results = command_line_cases("generate.py", cases, cwd=tmp_path)
    for (args, expected), (code, stderr) in zip(CLI_CASES, results, strict=True):
        errors = [line for line in stderr.splitlines() if line.startswith("error:")]
        assert code == 2 and len(errors) == 1 and expected in errors[0], (args, stderr)
        assert "Traceback" not in stderr
