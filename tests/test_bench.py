"""The benchmark itself, on a tiny config: it runs every case, writes both files, and checks the metrics."""

import json
import math
from pathlib import Path

import pytest
import torch

from bench.cases import MetricsDisagree, check_same_metrics
from bench.physics import lstm_flops_per_window
from bench.timing import Runs, interleave
from mozart_lstm.models.network import NetworkConfig
from tests.defaults import network_settings


def tiny_bench_overrides(midi_dir, tmp_path) -> list[str]:
    return [
        f"data.archive={midi_dir}",
        f"data.cache_dir={tmp_path}/cache",
        f"data.data_dir={tmp_path}/data",
        "data.num_parse_workers=1",
        "data.seq_len=8",
        "data.batch_size=4",
        "data.eval_batch_size=16",
        "model.embedding_dim=8",
        "model.hidden_size=16",
        "model.linear_sizes=[16]",
        "repeats=1",
        "threads=1",
        "parse.max_files=2",
        "train.steps=2",
        "eval.windows=24",
        "generate.tokens=5",
        "peak.size=64",
        "peak.repeats=1",
        "peak.copy_megabytes=8",
        "time_to_accuracy.budget_s=0.3",
        "time_to_accuracy.eval_windows=16",
        f"paths.output_dir={tmp_path}/out",
    ]


@pytest.fixture(scope="module")
def skewed_midi_dir(tmp_path_factory, midi_writer) -> Path:
    """Three pieces like the shared ones, but with C5 as 4 of every 7 melody notes: the unigram prior then predicts
    it, and the eval case's accuracy (10 of 24 windows here, at the native level and at ONEDNN_MAX_CPU_ISA=SSE41)
    does not hang on one window, whatever weights two training steps on a machine's kernels leave. With the
    shared pieces' even melody the model got 1 window of 24 right: one flipped window and the check failed."""
    folder = tmp_path_factory.mktemp("skewed_midi")
    for seed in range(3):
        midi_writer(folder / f"piece_{seed}.mid", seed, melody_pitches=("C5",) * 4 + ("D5", "E5", "G5"))
    return folder


@pytest.mark.slow  # the whole benchmark, every case
def test_bench_on_a_tiny_config(compose_cfg, skewed_midi_dir, tmp_path):
    """Every case runs, both files are written, token counts and the equal-metrics check are reported."""
    from bench.run import run

    report = run(compose_cfg("bench", tiny_bench_overrides(skewed_midi_dir, tmp_path)))
    out = tmp_path / "out"
    ids = [case["id"] for case in report["cases"]]
    lab_way = ["parse_cold", "parse_warm", "data_build", "data_iterate", "train", "eval", "generate"]
    assert ids == [*lab_way, "time_to_accuracy"]
    for case in report["cases"][: len(lab_way)]:
        assert case["ratio"] > 0 and math.isfinite(case["ratio"])
        assert len(case["a"]["runs_s"]) == len(case["b"]["runs_s"]) == 1
    saved = json.loads((out / "results.json").read_text())
    assert [case["id"] for case in saved["cases"]] == ids
    text = (out / "results.md").read_text()
    assert "| case: A vs B |" in text and "FLOPs per training window" in text and "Time to accuracy" in text
    assert text.count("\n| ") == len(ids) + 2  # header, separator, one row per case

    parse = report["cases"][0]
    assert parse["files"] == ["piece_0.mid", "piece_1.mid"]
    # each test file holds 40 notes and 20 chords; both ways see them all (no empty first part here)
    assert parse["project_tokens"] == parse["lab_tokens"] == 120
    assert parse["lost_by_lab"] == []

    ev = report["cases"][5]
    assert ev["metrics_equal"] is True and ev["windows"] == 24
    lab, project = ev["metrics"]["lab"], ev["metrics"]["project"]
    assert lab["loss"] > 0 and 0 < lab["acc"] <= 1  # the unigram prior makes the accuracy check non-trivial
    for key in ("loss", "acc"):
        assert math.isclose(lab[key], project[key], rel_tol=1e-6, abs_tol=1e-6)

    train = report["cases"][4]
    assert set(train["windows_per_s"]) == {"lab 32", "project 32", "lab bf16-mixed", "project bf16-mixed"}
    bf16_lstm = "bfloat16" if report["machine"]["cpu_bf16"]["native"] else "float32"  # the policy's, on this CPU
    assert train["lstm_dtype"] == {"32": "float32", "bf16-mixed": bf16_lstm}
    assert f"windows/s (LSTM {bf16_lstm}) |" in text
    assert 0 < report["physics"]["train_share_of_peak"]["project 32"]


@pytest.mark.slow  # the benchmark's time-to-accuracy case: trainings against a clock
def test_time_to_accuracy_alone(compose_cfg, midi_dir, tmp_path):
    """A trains for the budget, B beside it step for step, then on until it passes A's final accuracy."""
    from bench.run import run

    overrides = [*tiny_bench_overrides(midi_dir, tmp_path), "suite=[time_to_accuracy]", "time_to_accuracy.budget_s=1"]
    report = run(compose_cfg("bench", overrides))
    (case,) = report["cases"]
    a, b, history = case["a"], case["b"], case["history"]
    assert a["seconds"] >= 1 and a["steps"] == history["lab"][-1][1] and a["accuracy"] == history["lab"][-1][2]
    evaluated = list(range(2, a["steps"] + 1, 2)) + ([a["steps"]] if a["steps"] % 2 else [])
    assert [steps for _, steps, _ in history["lab"]] == evaluated  # every 2 steps, and once at the end
    assert history["fast"][0][1] == 2 and len(history["fast"]) >= a["steps"] // 2
    before = [acc for seconds, _, acc in history["fast"] if b["seconds"] is None or seconds < b["seconds"]]
    assert all(acc < a["accuracy"] for acc in before), "B stops at the first evaluation that reaches A"
    if b["seconds"] is not None:
        assert b["accuracy"] >= a["accuracy"] and case["ratio"] == pytest.approx(a["seconds"] / b["seconds"])
    assert case["met"] == (case["ratio"] is not None and case["ratio"] >= 10)
    assert "physics" not in report and "Time to accuracy" in (tmp_path / "out" / "results.md").read_text()


@pytest.mark.parametrize(("override", "message"), [("suite=[fastest]", "suite"), ("data.split=[0.5,0.6]", "split")])
def test_a_bad_setting_is_one_line(compose_cfg, midi_dir, tmp_path, override, message):
    from bench.run import run
    from labtools.errors import UserError

    with pytest.raises(UserError, match=message):
        run(compose_cfg("bench", [*tiny_bench_overrides(midi_dir, tmp_path), override]))


def test_same_metrics_check_raises_on_disagreement():
    check_same_metrics({"loss": 7.0, "acc": 0.25}, {"loss": 7.0 + 5e-6, "acc": 0.25}, 1e-6)  # relative 7e-7
    with pytest.raises(MetricsDisagree, match="loss"):
        check_same_metrics({"loss": 7.0, "acc": 0.25}, {"loss": 7.001, "acc": 0.25}, 1e-6)
    with pytest.raises(MetricsDisagree, match="acc"):
        check_same_metrics({"loss": 7.0, "acc": 0.25}, {"loss": 7.0, "acc": 0.2578125}, 1e-6)


def test_flops_per_window_of_the_lab_model():
    flops = lstm_flops_per_window(NetworkConfig(1147, **network_settings()), 100)  # the lab's network
    per_step = 2 * 4 * 512 * (32 + 512) + 2 * (2 * 4 * 512 * (512 + 512))
    assert flops["lstm"] == 100 * per_step == 1_061_683_200
    assert flops["head"] == 2 * (512 * 256 + 256 * 1147)
    assert flops["training"] == 3 * (flops["lstm"] + flops["head"])


def test_interleave_alternates_the_variants():
    order = []
    runs = interleave(3, {"a": lambda: (order.append("a") or 1.0, "x"), "b": lambda: (order.append("b") or 2.0, "y")})
    assert order == ["a", "b"] * 3
    assert runs["b"].median == 2.0 and runs["a"].info == "x"
    assert Runs([3.0, 1.0, 2.0]).median == 2.0


def test_throughput_callback_writes_its_epochs(make_train_cfg, single_torch_thread):
    """What bench/gpu.sh's training runs add, on a CPU: callbacks=[default,throughput]."""
    from mozart_lstm.train import run

    cfg = make_train_cfg(
        "callbacks=[default,throughput]", "callbacks.throughput.skip_batches=2", "trainer.max_epochs=2"
    )
    run(cfg)
    out = Path(cfg.paths.output_dir)
    epochs = json.loads((out / "throughput.json").read_text())["epochs"]
    assert [e["epoch"] for e in epochs] == [0, 1]
    for e in epochs:
        assert e["timed_windows"] == (e["batches"] - 2) * cfg.data.batch_size
        assert e["windows_per_s"] == pytest.approx(e["timed_windows"] / e["train_s"])
        assert 0 < e["train_s"] < e["epoch_s"] and e["validation_s"] > 0


def test_unigram_prior_sets_the_output_distribution():
    from bench.cases import set_unigram_prior
    from mozart_lstm.models.network import MozartLSTM

    net = MozartLSTM(
        NetworkConfig(
            5, **network_settings(embedding_dim=4, hidden_size=8, num_layers=1, dropout=0.0, linear_sizes=(8,))
        )
    ).eval()
    net.head[-2].weight.data.zero_()  # the features off: the prior alone decides
    set_unigram_prior(net, torch.tensor([3, 3, 3, 1, 0]), 5)
    log_probs, _ = net(torch.randint(0, 5, (6, 4)))
    expected = torch.tensor([2.0, 2.0, 1.0, 4.0, 1.0]) / 10  # counts + 1, normalised
    torch.testing.assert_close(log_probs.exp(), expected.expand(6, 5))


def test_the_bench_trainer_is_the_training_runs_made_quiet(compose_cfg, midi_dir, tmp_path):
    from bench.cases import _trainer

    cfg = compose_cfg("bench", [*tiny_bench_overrides(midi_dir, tmp_path), "trainer.gradient_clip_val=2"])
    trainer = _trainer(cfg, "bf16-mixed", max_steps=3)
    assert trainer.gradient_clip_val == 2 and trainer.gradient_clip_algorithm == "norm"
    assert trainer.max_steps == 3 and trainer.max_epochs is None and trainer.precision == "bf16-mixed"
    assert trainer.logger is None and trainer.checkpoint_callback is None and trainer.progress_bar_callback is None


CLIPPED = [(5, "norm", [3.0, 4.0]), (5, "value", [5.0, 5.0]), (None, "norm", [6.0, 8.0]), (0, "norm", [6.0, 8.0])]


@pytest.mark.parametrize(("val", "algorithm", "clipped"), CLIPPED)
def test_time_to_accuracy_clips_as_the_trainer_does(val, algorithm, clipped):
    from omegaconf import OmegaConf

    from bench.time_to_accuracy import clipping

    weights = torch.nn.Parameter(torch.zeros(2))
    weights.grad = torch.tensor([6.0, 8.0])  # norm 10
    clipping(OmegaConf.create({"gradient_clip_val": val, "gradient_clip_algorithm": algorithm}))([weights])
    torch.testing.assert_close(weights.grad, torch.tensor(clipped))
