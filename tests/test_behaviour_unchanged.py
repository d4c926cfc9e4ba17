"""Behaviour unchanged, proven: the committed checkpoints of tests/golden/ (a pitch-token run, a timed-token run with
its calibrated sampler, the lab's .pt), composed with the same seed, give byte-identical MIDI files and the same
music_report.json figures as the code that wrote tests/golden/expected.json, for every case of
tests/golden/cases.py: every sampler and mode, composer=network, ngram and mozart, a primer, the rhythm options.

A failure names the case and the field. If the change was MEANT to change the music, rerun
tests/golden/make_golden.py (read its docstring first) and say why in the commit."""

import json
import math

import pytest

from tests.golden.cases import CASES, CHECKPOINTS, EXPECTED, relocated_checkpoint, run_case, stored_overrides

pytestmark = pytest.mark.usefixtures("single_torch_thread")
GOLDEN = json.loads(EXPECTED.read_text())["cases"]
# BLAS kernels differ across CPUs (and ATEN_CPU_CAPABILITY levels): report figures may move in the last bits
REL, ABS = 1e-9, 1e-12
SHOWN = 10  # mismatches listed per case


def differences(expected, found, where: str) -> list[str]:
    """Every place where `found` differs from `expected`: numbers within REL/ABS, everything else exactly."""
    if isinstance(expected, dict) and isinstance(found, dict):
        out = [f"{where}.{key}: missing" for key in expected.keys() - found.keys()]
        out += [f"{where}.{key}: not in the golden report ({found[key]!r})" for key in found.keys() - expected.keys()]
        for key in expected.keys() & found.keys():
            out += differences(expected[key], found[key], f"{where}.{key}")
        return sorted(out)
    if isinstance(expected, list) and isinstance(found, list):
        if len(expected) != len(found):
            return [f"{where}: {len(found)} items, expected {len(expected)}"]
        pairs = enumerate(zip(expected, found, strict=True))
        return [line for k, (e, f) in pairs for line in differences(e, f, f"{where}[{k}]")]
    if type(expected) is float and type(found) is float:  # ints, strings, booleans and None exactly, type too
        same = math.isclose(expected, found, rel_tol=REL, abs_tol=ABS) or (math.isnan(expected) and math.isnan(found))
        return [] if same else [f"{where}: {found!r}, expected {expected!r}"]
    if type(expected) is not type(found) or expected != found:
        return [f"{where}: {found!r}, expected {expected!r}"]
    return []


def test_differences_name_the_field_and_allow_only_last_bit_noise():
    golden = {"a": [1, 0.5, "x", None, True], "b": {"c": 2.0}}
    assert differences(golden, {"a": [1, 0.5 * (1 + 1e-12), "x", None, True], "b": {"c": 2.0}}, "r") == []
    changed = {"a": [1.0, 0.5 + 1e-6, "y", 0, 1], "b": {"d": 2.0}}
    assert differences(golden, changed, "r") == [
        "r.a[0]: 1.0, expected 1",  # an int that became a float is a change of format
        "r.a[1]: 0.500001, expected 0.5",
        "r.a[2]: 'y', expected 'x'",
        "r.a[3]: 0, expected None",
        "r.a[4]: 1, expected True",
        "r.b.c: missing",
        "r.b.d: not in the golden report (2.0)",
    ]


def test_every_case_has_its_golden_files_written_with_todays_overrides():
    assert sorted(GOLDEN) == sorted(CASES), "rerun tests/golden/make_golden.py after adding or removing a case"
    for case_id, (checkpoint, _) in CASES.items():
        assert GOLDEN[case_id]["checkpoint"] == checkpoint, case_id
        assert GOLDEN[case_id]["overrides"] == stored_overrides(case_id), f"{case_id}: the case changed since"
        assert GOLDEN[case_id]["midi"], f"{case_id}: no MIDI file in expected.json"
    assert all(path.is_file() for path in CHECKPOINTS.values())


@pytest.fixture(scope="module")
def golden_checkpoints(tmp_path_factory) -> dict:
    """The committed checkpoints reading the committed corpus, with one token cache for the module: the corpus is
    tokenized once."""
    work = tmp_path_factory.mktemp("golden")
    return {name: relocated_checkpoint(path, work / "ckpt" / path.name, work) for name, path in CHECKPOINTS.items()}


@pytest.mark.parametrize("case_id", list(CASES))
def test_same_checkpoint_and_seed_give_the_same_music(case_id, golden_checkpoints, compose_cfg, tmp_path):
    golden = GOLDEN[case_id]
    found = run_case(case_id, golden_checkpoints[golden["checkpoint"]], tmp_path / "run", compose_cfg)
    wrong = differences(golden["midi"], found["midi"], "sha256")  # a MIDI file that is not byte-identical
    wrong += differences(golden["report"], found["report"], "music_report")
    more = f"\n... and {len(wrong) - SHOWN} more" if len(wrong) > SHOWN else ""
    assert not wrong, f"{case_id}: {len(wrong)} differences:\n" + "\n".join(wrong[:SHOWN]) + more
