"""results.md and results.json of bench/gpu.sh: a PASS/FAIL line per check, then every figure."""

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from labtools.fileio import atomic_write_text


@dataclass
class Check:
    name: str
    passed: bool
    figures: dict = field(default_factory=dict)
    detail: str = ""


def _format(value) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(map(_format, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_format(item)}" for key, item in value.items()) + "}"
    return str(value)


def _device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)"


def render(checks: list[Check], device: torch.device, peak: float, seconds: float) -> str:
    failed = sum(not check.passed for check in checks)
    lines = [
        "# bench/gpu.sh results",
        "",
        f"Device: {_device_name(device)}; torch {torch.__version__}; {seconds:.0f} s in all.",
        f"Matmul peak measured here: {peak / 1e12:.4g} TFLOP/s "
        f"({'bfloat16' if device.type == 'cuda' else 'float32'}, 2048 x 2048).",
        "",
        *(f"{'PASS' if check.passed else 'FAIL'} {check.name}" for check in checks),
        "",
        f"{len(checks) - failed} of {len(checks)} checks passed.",
        "",
        "## Figures",
    ]
    for check in checks:
        lines += ["", f"### {check.name}: {'PASS' if check.passed else 'FAIL'}"]
        lines += [f"- {key}: {_format(value)}" for key, value in check.figures.items()]
        if check.detail:
            lines.append(f"- detail: {check.detail}")
    return "\n".join(lines) + "\n"


def write_results(out: Path, checks: list[Check], device: torch.device, peak: float, seconds: float) -> str:
    """Write results.md and results.json into `out`; return the markdown."""
    text = render(checks, device, peak, seconds)
    summary = {
        "device": _device_name(device),
        "torch": torch.__version__,
        "seconds": seconds,
        "matmul_peak_flop_per_s": peak,
        "passed": all(check.passed for check in checks),
        "checks": [asdict(check) for check in checks],
    }
    atomic_write_text(out / "results.md", text)
    atomic_write_text(out / "results.json", json.dumps(summary, indent=2) + "\n")
    return text
