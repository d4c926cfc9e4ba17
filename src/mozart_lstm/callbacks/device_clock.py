"""Wall-clock time as a GPU sees it: a GPU runs queued work asynchronously, so a timer reads the clock after the
device has caught up. Each read is a stall, so the timing callbacks read it at their interval ends only."""

import time

import torch


def device_time(device: torch.device) -> float:
    """time.perf_counter() once `device` has finished the work queued so far."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
    return time.perf_counter()
