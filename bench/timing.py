"""Interleaved timing: every variant once per round (A B A B ...), so slow drifts of a shared machine hit all
variants alike; the median of the rounds is reported."""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Runs:
    seconds: list[float] = field(default_factory=list)
    info: Any = None  # what the last run returned besides its time

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def timed(fn: Callable, *args, **kwargs) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def interleave(repeats: int, variants: dict[str, Callable[[], tuple[float, Any]]]) -> dict[str, Runs]:
    """Run each variant `repeats` times, round-robin. A variant returns (seconds, info): it times itself,
    so that it can leave out its own set-up."""
    runs = {name: Runs() for name in variants}
    for _ in range(repeats):
        for name, variant in variants.items():
            seconds, runs[name].info = variant()
            runs[name].seconds.append(seconds)
    return runs


def speedup(reference: Runs, candidate: Runs) -> float:
    """How many times faster the candidate is: reference time over candidate time (medians)."""
    return reference.median / candidate.median
