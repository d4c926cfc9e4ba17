"""`python -m bench.gpu_check ARCHIVE --out DIR [--device cuda] [-- OVERRIDE ...]`: what bench/gpu.sh runs.

Every check runs what a user runs: train.py and generate.py as commands (each in its own process, so that one
CUDA failure cannot spoil the next check), and the project's own functions for the two probes. Each ends in a
PASS or FAIL line; the figures land in results.md and results.json (bench/gpu_check_report.py).
"""

import argparse
import csv
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import torch

from bench.gpu_check_report import Check, write_results
from bench.gpu_probes import argmax_agreement, precision_probe
from bench.physics import lstm_flops_per_window, matmul_peak
from mozart_lstm.models.precision import recommended_precision

REPO = Path(__file__).resolve().parents[1]
PRECISIONS = {"cuda": ["32", "16-mixed", "bf16-mixed"], "cpu": ["32", "bf16-mixed"]}
TRAINER = {"cuda": "gpu", "cpu": "cpu"}
COMMAND_TIMEOUT_S = 300  # one hung command must not eat the whole check's time
LOSS_AGREEMENT = 0.1  # the mixed precisions' last test loss within 10% of float32's


class Runner:
    def __init__(self, args):
        self.args = args
        self.device = args.device
        self.out = Path(args.out)

    def command(self, name: str, script: str, *overrides: str, env: dict | None = None) -> tuple[int, Path, str]:
        """Run `script` with Hydra overrides in run dir OUT/name; (exit code, run dir, its output)."""
        run_dir = self.out / name
        argv = [sys.executable, str(REPO / script), *overrides, f"hydra.run.dir={run_dir}"]
        started = time.perf_counter()
        try:
            done = subprocess.run(
                argv, cwd=REPO, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, env=os.environ | (env or {})
            )
            code, text = done.returncode, done.stdout + done.stderr
        except subprocess.TimeoutExpired as err:  # its captured output comes as bytes, text=True or not
            output = b"".join(part or b"" for part in (err.stdout, err.stderr)).decode(errors="replace")
            code, text = 124, f"timed out after {COMMAND_TIMEOUT_S} s\n{output}"
        run_dir.mkdir(parents=True, exist_ok=True)
        (self.out / f"{name}.log").write_text(f"$ {' '.join(argv)}\n({time.perf_counter() - started:.1f} s)\n{text}")
        return code, run_dir, text

    def train(self, name: str, precision: str, *extra: str, trainer: str | None = None):
        a = self.args
        overrides = [
            "experiment=lab",
            f"data.archive={a.archive}",
            f"trainer={trainer or TRAINER[self.device]}",
            f"trainer.precision={precision}",
            f"trainer.max_epochs={a.epochs}",
            f"trainer.limit_train_batches={a.batches}",
            f"trainer.limit_val_batches={a.val_batches}",
            "callbacks=[default,audio_samples,throughput]",
            f"callbacks.throughput.skip_batches={a.skip_batches}",
            "callbacks.audio_samples.every_n_epochs=1",
            *a.overrides,
            *extra,
        ]
        return self.command(name, "train.py", *overrides)


def read_curves(run_dir: Path) -> list[dict]:
    """The epochs' train/loss and evaluation loss from the curves callback's metrics.csv."""
    path = run_dir / "metrics.csv"
    if not path.is_file():
        return []
    with path.open() as file:
        return [
            {key: float(value) for key, value in row.items() if value not in ("", None)} for row in csv.DictReader(file)
        ]


def read_rates(run_dir: Path) -> list[float]:
    path = run_dir / "throughput.json"
    return [e["windows_per_s"] for e in json.loads(path.read_text())["epochs"]] if path.is_file() else []


def audio_epochs(text: str) -> int:
    return len(re.findall(r"Logged a \d+-token sample", text))


def train_check(runner: Runner, precision: str) -> Check:
    """A bounded experiment=lab run; with its checkpoint, the analytic training FLOP/s of its windows/s."""
    code, run_dir, text = runner.train(f"train_{precision}", precision)
    curves, rates = read_curves(run_dir), read_rates(run_dir)
    losses = [row.get("test/loss", math.nan) for row in curves]
    figures = {
        "train_loss": [row.get("train/loss", math.nan) for row in curves],
        "test_loss": losses,
        "windows_per_s": rates,
        "audio_sample_epochs": audio_epochs(text),
    }
    last = run_dir / "checkpoints" / "last.ckpt"
    if last.is_file():
        from mozart_lstm.models import read_checkpoint  # Lightning is slow to import: only when needed

        saved = read_checkpoint(last)
        flops = lstm_flops_per_window(saved.network, saved.data_settings["seq_len"])["training"]
        figures["training_flops_per_window"] = flops
        figures["training_tflop_per_s"] = [rate * flops / 1e12 for rate in rates]
    epochs = runner.args.epochs
    passed = code == 0 and len(losses) == epochs and all(map(math.isfinite, losses))
    passed = passed and figures["audio_sample_epochs"] == epochs
    return Check(f"train_{precision}", passed, figures, f"exit {code}; {run_dir.name}.log")


def agreement_check(trains: dict[str, Check]) -> Check:
    """The mixed precisions' last test loss against float32's, on the same data in the same order."""
    reference = trains["32"].figures["test_loss"]
    gaps = {}
    for precision, check in trains.items():
        if precision != "32" and reference and check.figures["test_loss"]:
            gaps[precision] = abs(check.figures["test_loss"][-1] / reference[-1] - 1)
    passed = len(gaps) == len(trains) - 1 and all(gap <= LOSS_AGREEMENT for gap in gaps.values())
    return Check("precisions_agree", passed, {"relative_gap_to_32": gaps}, f"each within {LOSS_AGREEMENT:.0%}")


def resume_check(runner: Runner, precision: str) -> Check:
    last = runner.out / f"train_{precision}" / "checkpoints" / "last.ckpt"
    more = runner.args.epochs + 1
    code, run_dir, _ = runner.train("resume", precision, f"ckpt_path={last}", f"trainer.max_epochs={more}")
    written = (run_dir / "checkpoints" / f"epoch_{more - 1:03d}.ckpt").is_file()
    curves = read_curves(run_dir)
    figures = {"test_loss_after_resume": curves[-1].get("test/loss") if curves else None}
    return Check("resume", code == 0 and written, figures, f"exit {code}; epoch {more - 1} written: {written}")


def deterministic_check(runner: Runner, precision: str, reference: Check) -> Check:
    """trainer.deterministic=true with a top-p audio sampler; its windows/s against the same run without."""
    sampler = ["sampler@callbacks.audio_samples.sampler=temperature", "callbacks.audio_samples.sampler.top_p=0.9"]
    code, run_dir, text = runner.train("deterministic", precision, "trainer.deterministic=true", *sampler)
    rates, before = read_rates(run_dir), reference.figures["windows_per_s"]
    figures = {"windows_per_s": rates, "audio_sample_epochs": audio_epochs(text)}
    if rates and before:
        figures["rate_against_nondeterministic"] = rates[-1] / before[-1]
    passed = code == 0 and figures["audio_sample_epochs"] == runner.args.epochs
    return Check("deterministic_top_p", passed, figures, f"exit {code}")


def lab_file_check(runner: Runner, precision: str) -> Check:
    """The lab's own `torch.load(path)`, no map_location, in a process that sees no GPU."""
    files = sorted((runner.out / f"train_{precision}" / "checkpoints").glob("lab_epoch_*.pt"))
    if not files:
        return Check("lab_pt_loads_without_gpu", False, {}, "no lab_epoch_*.pt written")
    code = f"import torch; torch.load({str(files[-1])!r}, weights_only=True); print('loaded')"
    env = os.environ | {"CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    return Check("lab_pt_loads_without_gpu", done.returncode == 0, {}, (done.stdout + done.stderr).strip()[-300:])


def generate_check(runner: Runner, ckpt: Path, mode: str) -> Check:
    a = runner.args
    settings = [f"ckpt={ckpt}", f"device={a.device}", f"mode={mode}", f"n_notes={a.notes}", "num_samples=4"]
    code, _, text = runner.command(f"generate_{mode}", "generate.py", *settings, "reference_size=0", "wav=false")
    found = re.search(r"\(([\d.]+) tokens/s, mode=", text)
    figures = {"tokens_per_s": float(found.group(1)) if found else None}
    return Check(f"generate_{mode}", code == 0 and found is not None, figures, f"exit {code}")


def ddp_check(runner: Runner, precision: str) -> Check:
    settings = ["trainer.devices=1", f"trainer.accelerator={TRAINER[runner.device]}", "trainer.max_epochs=1"]
    if runner.device == "cpu":
        settings.append("trainer.sync_batchnorm=false")  # SyncBatchNorm works with GPU modules only
    code, _, _ = runner.train("ddp", precision, *settings, trainer="ddp")
    return Check("ddp_one_device", code == 0, {}, f"exit {code}")


def probe_check(name: str, probe, *args) -> Check:
    try:
        passed, figures = probe(*args)
        return Check(name, passed, figures, "")
    except Exception as err:  # a probe's failure is a FAIL line, and the other checks still run
        return Check(name, False, {}, f"{type(err).__name__}: {err}")


def run_checks(args) -> list[Check]:
    runner = Runner(args)
    device = torch.device(args.device)
    recommended = recommended_precision(device.type)
    checks = [probe_check("precision_probe", precision_probe, device, PRECISIONS[device.type])]
    trains = {precision: train_check(runner, precision) for precision in PRECISIONS[device.type]}
    checks += [*trains.values(), agreement_check(trains)]
    ckpt = runner.out / f"train_{recommended}" / "checkpoints" / "last.ckpt"
    checks += [resume_check(runner, recommended), deterministic_check(runner, recommended, trains[recommended])]
    checks.append(lab_file_check(runner, recommended))
    checks += [generate_check(runner, ckpt, mode) for mode in ("window", "stateful")]
    checks.append(probe_check("argmax_cpu_against_device", argmax_agreement, ckpt, device, args.notes))
    checks.append(ddp_check(runner, recommended))
    return checks


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", help="the corpus: the lab's .tar.gz or a folder of .mid files")
    parser.add_argument("--out", required=True)
    parser.add_argument("--device", default="cuda", choices=sorted(TRAINER))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batches", type=int, default=100, help="training batches per epoch")
    parser.add_argument("--val-batches", type=int, default=20)
    parser.add_argument("--skip-batches", type=int, default=5, help="warm-up batches left out of windows/s")
    parser.add_argument("--notes", type=int, default=200, help="tokens generated per sample")
    parser.add_argument("overrides", nargs="*", help="train.py overrides for every training run")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not Path(args.archive).exists():
        print(f"error: {args.archive}: no such archive or folder", file=sys.stderr)
        return 2
    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: torch sees no CUDA GPU; GPU_CHECK_DEVICE=cpu runs the same checks on the CPU", file=sys.stderr)
        return 2
    Path(args.out).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    checks = run_checks(args)
    device = torch.device(args.device)
    peak = matmul_peak(torch.bfloat16 if device.type == "cuda" else torch.float32, 2048, 5, device)
    text = write_results(Path(args.out), checks, device, peak, time.perf_counter() - started)
    print(text)
    return 0 if all(check.passed for check in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
