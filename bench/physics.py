"""The physical side: FLOPs of one training window of the lab's model, and the machine's matmul peak."""

import time

import torch

from mozart_lstm.callbacks.device_clock import device_time
from mozart_lstm.models.network import NetworkConfig


def lstm_flops_per_window(network: NetworkConfig, seq_len: int) -> dict[str, int]:
    """Matmul FLOPs (2 per multiply-add) of one window; elementwise work (gates, BatchNorm) is left out.

    forward  = seq_len * sum_l 2 * 4h * (in_l + h)       with in_0 = embedding_dim, in_l = h after
             + sum_k 2 * a_k * b_k                        over the head's Linear layers h -> ... -> vocab
    training = 3 * forward                                (the backward pass costs two forward passes)
    The embedding is a lookup: 0 FLOPs.
    """
    h, first = network.hidden_size, network.embedding_dim
    lstm = seq_len * sum(2 * 4 * h * ((first if layer == 0 else h) + h) for layer in range(network.num_layers))
    widths = [h, *network.linear_sizes, network.vocab_size]
    head = sum(2 * a * b for a, b in zip(widths, widths[1:], strict=False))
    forward = lstm + head
    return {"lstm": lstm, "head": head, "forward": forward, "training": 3 * forward}


def matmul_peak(dtype: torch.dtype, size: int, repeats: int, device: torch.device | str = "cpu") -> float:
    """Best FLOP/s of `repeats` (size x size) @ (size x size) products on `device`, after one warm-up product."""
    device = torch.device(device)
    a = torch.randn(size, size).to(device, dtype)
    b = torch.randn(size, size).to(device, dtype)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        start = device_time(device)
        torch.mm(a, b)
        best = min(best, device_time(device) - start)
    return 2 * size**3 / best


def memory_bandwidth(megabytes: int, repeats: int) -> float:
    """Best bytes/s (read + write) of `repeats` copies of a float32 buffer far larger than any cache."""
    source = torch.ones(megabytes * 2**20 // 4)
    target = torch.empty_like(source)
    target.copy_(source)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        target.copy_(source)
        best = min(best, time.perf_counter() - start)
    return 2 * source.numel() * 4 / best
