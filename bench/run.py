"""`run(cfg)`: every case in order, the physical figures, then results.json and results.md."""

import logging
import os
import platform
from dataclasses import asdict
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from bench import cases
from bench.physics import lstm_flops_per_window, matmul_peak, memory_bandwidth
from bench.report import write_reports
from bench.time_to_accuracy import time_to_accuracy
from labtools.errors import UserError
from mozart_lstm.models.cpu_bf16 import native_bf16_lstm
from mozart_lstm.models.network import MozartLSTM, NetworkConfig

log = logging.getLogger(__name__)

SUITES = ("lab_way", "time_to_accuracy")


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    if Path("/proc/cpuinfo").is_file():
        names = [
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu_bf16": asdict(native_bf16_lstm()),
        "load_average_start": os.getloadavg(),
    }


def physics(cfg, vocab_size: int, train_case: dict, eval_case: dict) -> dict:
    """FLOPs per window, the matmul peaks measured now, and how close training and evaluation come to them."""
    network = NetworkConfig.from_settings(vocab_size, OmegaConf.to_container(cfg.model))
    flops = lstm_flops_per_window(network, cfg.data.seq_len)
    peaks = {
        "float32": matmul_peak(torch.float32, cfg.peak.size, cfg.peak.repeats),
        "bfloat16": matmul_peak(torch.bfloat16, cfg.peak.size, cfg.peak.repeats),
    }
    peak = max(peaks.values())
    train_flops = {name: rate * flops["training"] for name, rate in train_case["windows_per_s"].items()}
    eval_flops = {side: eval_case["windows"] * flops["forward"] / eval_case[side]["median_s"] for side in ("a", "b")}
    return {
        "flops_per_window": flops,
        "matmul_peak_flops": peaks,
        "train_flops": train_flops,
        "train_share_of_peak": {name: value / peak for name, value in train_flops.items()},
        "eval_flops": eval_flops,
        # no batch size can make evaluation faster than running at the peak
        "eval_ratio_bound": peak / eval_flops["a"],
        "parameter_bytes": 4 * sum(p.numel() for p in MozartLSTM(network).parameters()),
        "memory_bandwidth": memory_bandwidth(cfg.peak.copy_megabytes, cfg.peak.repeats),
    }


def run(cfg: DictConfig) -> dict:
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    logging.getLogger("pytorch_lightning").setLevel(logging.WARNING)  # a Trainer per round: its banners are noise
    unknown = set(cfg.suite) - set(SUITES)
    if unknown or not cfg.suite:
        raise UserError(f"suite={list(cfg.suite)}: choose from {list(SUITES)}")
    info = machine()
    tokens = cases.corpus_tokens(cfg)
    log.info("Data: %d tokens", len(tokens))
    report = {"machine": info, "settings": _settings(cfg, len(tokens)), "cases": []}
    if "lab_way" in cfg.suite:
        report["cases"], report["physics"] = lab_way_cases(cfg, tokens)
    if "time_to_accuracy" in cfg.suite:
        log.info("Time to accuracy: the lab's objective for %s s of training, then experiment=fast to match it",
                 cfg.time_to_accuracy.budget_s)  # fmt: skip
        report["cases"].append(time_to_accuracy(cfg, tokens))
    info["load_average_end"] = os.getloadavg()
    write_reports(Path(cfg.paths.output_dir), report)
    return report


def lab_way_cases(cfg, tokens) -> tuple[list[dict], dict]:
    """Cases 1-6, each step of the lab notebook against the project's, and the machine's physical limits."""
    log.info("Parse: the lab's way against the project's parser")
    results = cases.parse(cfg)
    data_cases, built = cases.data(cfg, tokens)
    results += data_cases
    log.info("Train: %d steps per variant", cfg.train.steps)
    train_case, module = cases.train(cfg, built)
    log.info("Evaluate: %d windows", cfg.eval.windows)
    eval_case = cases.evaluate(cfg, built, module)
    log.info("Generate: %d tokens", cfg.generate.tokens)
    results += [train_case, eval_case, cases.generate(cfg, built, module)]
    log.info("Matmul peak")
    return results, physics(cfg, len(built["vocab"]), train_case, eval_case)


def _settings(cfg, n_tokens: int) -> dict:
    return {
        "repeats": cfg.repeats,
        "parse_files": cfg.parse.max_files,
        "corpus_files": cfg.data.max_files,
        "corpus_tokens": n_tokens,
        "seq_len": cfg.data.seq_len,
        "batch_size": cfg.data.batch_size,
        "eval_batch_size": cfg.data.eval_batch_size,
        "model": {key: value for key, value in OmegaConf.to_container(cfg.model).items() if key != "_target_"},
        "train_steps": cfg.train.steps,
        "eval_windows": cfg.eval.windows,
        "generate_tokens": cfg.generate.tokens,
        "suite": list(cfg.suite),
        "time_to_accuracy": OmegaConf.to_container(cfg.time_to_accuracy),
        "gradient_clip": {"val": cfg.trainer.gradient_clip_val, "algorithm": cfg.trainer.gradient_clip_algorithm},
    }
