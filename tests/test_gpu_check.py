"""bench/gpu.sh, the one prepared GPU check, end to end on the CPU at tiny sizes (GPU_CHECK_DEVICE=cpu)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import gpu_check
from bench.gpu_check_report import Check
from mozart_lstm.models.cpu_bf16 import native_bf16_lstm

REPO = Path(__file__).resolve().parents[1]
CHECKS = [
    "precision_probe",
    "train_32",
    "train_bf16-mixed",
    "precisions_agree",
    "resume",
    "deterministic_top_p",
    "lab_pt_loads_without_gpu",
    "generate_window",
    "generate_stateful",
    "argmax_cpu_against_device",
    "ddp_one_device",
]


def gpu_sh(*args, **env) -> subprocess.CompletedProcess:
    env = os.environ | {"PY": sys.executable, "PYTHONPATH": str(REPO / "src")} | env
    return subprocess.run(
        [str(REPO / "bench" / "gpu.sh"), *args], env=env, capture_output=True, text=True, timeout=1150
    )


@pytest.mark.slow
@pytest.mark.timeout(1200)  # nine commands, each paying its imports: 2-10 min at loads of 6-8
def test_every_check_passes_on_the_cpu_at_tiny_sizes(midi_dir, token_cache_dir, tmp_path, tiny_sizes):
    out = tmp_path / "check"
    tiny = {"GPU_CHECK_EPOCHS": "2", "GPU_CHECK_BATCHES": "3", "GPU_CHECK_VAL_BATCHES": "2"}
    tiny |= {"GPU_CHECK_SKIP_BATCHES": "1", "GPU_CHECK_NOTES": "8"}
    overrides = [
        f"data.cache_dir={token_cache_dir}",
        f"data.data_dir={tmp_path}/data",
        *tiny_sizes,
        "callbacks.audio_samples.n_notes=8",
        "callbacks.audio_samples.num_samples=1",
        "callbacks.audio_samples.reference_size=2",
        "torch_threads=1",
    ]
    done = gpu_sh(str(midi_dir), *overrides, GPU_CHECK_DEVICE="cpu", GPU_CHECK_OUT=str(out), **tiny)
    results = json.loads((out / "results.json").read_text())
    failed = {c["name"]: c["detail"] for c in results["checks"] if not c["passed"]}
    assert not failed, done.stdout[-2000:] + done.stderr[-2000:]
    assert [check["name"] for check in results["checks"]] == CHECKS
    assert done.returncode == 0
    text = (out / "results.md").read_text()
    assert all(f"\nPASS {name}\n" in text for name in CHECKS)
    figures = {check["name"]: check["figures"] for check in results["checks"]}
    native = native_bf16_lstm().native  # bfloat16 only where oneDNN runs it natively (docs/cpu_bf16.md)
    assert figures["precision_probe"]["bf16-mixed"]["network"] == ("bfloat16" if native else "float32")
    assert all(rate > 0 for rate in figures["train_32"]["windows_per_s"])
    assert figures["deterministic_top_p"]["audio_sample_epochs"] == 2


def test_the_archive_is_required():
    done = gpu_sh()
    assert done.returncode == 2 and "usage: bench/gpu.sh ARCHIVE" in done.stderr


def test_one_failed_check_makes_the_exit_code_one(monkeypatch, tmp_path, midi_dir):
    checks = [Check("fine", True, {"x": 1.0}), Check("broken", False, {}, "exit 1")]
    monkeypatch.setattr(gpu_check, "run_checks", lambda args: checks)
    monkeypatch.setattr(gpu_check, "matmul_peak", lambda *args: 1e9)
    assert gpu_check.main([str(midi_dir), "--out", str(tmp_path), "--device", "cpu"]) == 1
    text = (tmp_path / "results.md").read_text()
    assert "PASS fine\nFAIL broken\n" in text and "1 of 2 checks passed" in text
    assert json.loads((tmp_path / "results.json").read_text())["passed"] is False


def test_a_missing_archive_is_one_line(tmp_path, capsys):
    assert gpu_check.main([str(tmp_path / "nowhere.tar.gz"), "--out", str(tmp_path), "--device", "cpu"]) == 2
    assert "nowhere.tar.gz: no such archive or folder" in capsys.readouterr().err
