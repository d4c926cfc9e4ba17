"""What bfloat16 does to a plain nn.LSTM on this CPU (docs/cpu_bf16.md): one torch thread, batch 128 x 100,
forward + backward, CPU seconds per step after one untimed step. CPU time, not wall time: on a shared machine a
niced process waits for the core, and CPU time leaves the wait out.

    python -m bench.cpu_bf16_lstm [HIDDEN LAYERS STEPS]      default: the recipe's LSTM, 256 x 2, 3 steps

Three ways, each reported as s/step or as the error it raises:
- fp32: the float32 LSTM, no autocast (what the policy runs where bfloat16 is not native);
- autocast bf16: under CPU autocast, as bf16-mixed would run it if the policy let it (oneDNN in bfloat16);
- bf16 weights: the module cast to bfloat16 outside autocast. Where oneDNN has no bfloat16 LSTM, PyTorch's own
  kernels run it, converting in software: the emulated case.
"""

import json
import sys
import time

import torch

from mozart_lstm.models.cpu_bf16 import native_bf16_lstm

BATCH, SEQ_LEN, INPUT = 128, 100, 32


def seconds_per_step(hidden: int, layers: int, steps: int, way: str) -> float:
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(INPUT, hidden, layers, batch_first=True)
    x = torch.randn(BATCH, SEQ_LEN, INPUT)
    if way == "bf16 weights":
        lstm, x = lstm.bfloat16(), x.bfloat16()
    elapsed = 0.0
    for step in range(steps + 1):
        start = time.process_time()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=way == "autocast bf16"):
            out, _ = lstm(x)
        out.float().square().mean().backward()
        if step:  # the first step builds oneDNN's primitives: untimed
            elapsed += time.process_time() - start
    return elapsed / steps


def measure(hidden: int, layers: int, steps: int) -> dict:
    torch.set_num_threads(1)
    results = {"lstm": f"{hidden} x {layers}", "steps": steps, "cpu_bf16": native_bf16_lstm().reason}
    for way in ("fp32", "autocast bf16", "bf16 weights"):
        try:
            results[way] = round(seconds_per_step(hidden, layers, steps, way), 3)
        except RuntimeError as err:
            results[way] = f"raises: {str(err).splitlines()[0][:100]}"
        print(json.dumps({way: results[way]}), flush=True)
    return results


if __name__ == "__main__":
    sizes = [int(value) for value in sys.argv[1:]] or [256, 2, 3]
    if len(sizes) != 3:
        sys.exit("usage: python -m bench.cpu_bf16_lstm [HIDDEN LAYERS STEPS]")
    print(json.dumps(measure(*sizes), indent=2))
