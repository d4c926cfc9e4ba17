"""`python -m bench.gpu_report RUN_DIR`: the results.md of a bench/gpu.sh run, from the
throughput.json its Throughput callback wrote."""

import json
import sys
from pathlib import Path

import torch

from labtools.errors import UserError
from labtools.fileio import atomic_write_text


def gpu_report(run_dir) -> str:
    run_dir = Path(run_dir)
    path = run_dir / "throughput.json"
    if not path.is_file():
        raise UserError(f"{path}: not found. Did the training run finish an epoch with callbacks=[default,throughput]?")
    epochs = json.loads(path.read_text())["epochs"]
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device visible now"
    columns = ("epoch_s", "train_s", "validation_s")
    rows = [
        f"| {e['epoch']} | " + " | ".join(f"{e[key]:.1f}" for key in columns) + f" | {e['windows_per_s']:.0f} |"
        for e in epochs
    ]
    text = "\n".join(
        [
            "# bench/gpu.sh: the lab's full model, bf16-mixed",
            "",
            f"Device: {device}; torch {torch.__version__}. Windows/s leaves out each epoch's first batches (warm-up).",
            "",
            "| epoch | epoch s | training s | test s | training windows/s |",
            "| --- | --- | --- | --- | --- |",
            *rows,
            "",
        ]
    )
    atomic_write_text(run_dir / "results.md", text)
    return text


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m bench.gpu_report RUN_DIR")
    try:
        print(gpu_report(sys.argv[1]))
    except UserError as err:
        sys.exit(f"error: {err}")
