"""The task's configuration, checked in full before any work starts; every bad value is one UserError."""

import math
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import OmegaConf

from heat_inverse.problem3 import MAX_LAMBDA
from heat_inverse.problems import check_eps
from labtools.checks import is_number, is_whole
from labtools.errors import UserError

PROBLEMS = {1, 2, 3}
HEAT_DATA_HINT = "pass heat_data=PATH to the lab's measured_heat.npy"


@dataclass(frozen=True)
class Settings:
    output_dir: Path
    problems: frozenset
    eps: list
    start: float
    a_warn: float
    heat_data: Path | None
    heat: dict
    noise: float | None
    noisy: dict
    notes: list = field(default_factory=list)


def _number(key, value, positive=False):
    if not is_number(value) or math.isnan(value):
        raise UserError(f"{key}={value!r} is not a number")
    if math.isinf(value):
        raise UserError(f"{key}={value}: give a finite number")
    if positive and value <= 0:
        raise UserError(f"{key}={value} must be positive")
    return float(value)


def _problems(value):
    explicit = value != "all"
    values = value if isinstance(value, list) else [value] if explicit else sorted(PROBLEMS)
    if not values or any(not isinstance(v, int) or isinstance(v, bool) or v not in PROBLEMS for v in values):
        raise UserError(f"problem={value!r}: use all, 1, 2, 3 or a list such as [2,3] (Problem 1 always runs)")
    return frozenset({1, *values}), explicit


def _heat(heat):
    x_range = heat["x_range"]
    if not isinstance(x_range, list) or len(x_range) != 2:
        raise UserError(f"heat.x_range={x_range!r}: give the two end points, e.g. [-10,10]")
    low, high = (_number("heat.x_range", v) for v in x_range)
    if low >= high:
        raise UserError(f"heat.x_range={x_range}: the left end must be below the right end")
    smoothing = heat["smoothing"]
    if smoothing not in ("discrepancy", "none", None):
        smoothing = _number("heat.smoothing (discrepancy, none or a lambda >= 0)", smoothing)
        if not 0 <= smoothing <= MAX_LAMBDA:
            raise UserError(
                f"heat.smoothing={smoothing:g}: a fixed lambda must lie in [0, {MAX_LAMBDA:g}] "
                "(beyond that nu is a straight line already, and the penalty overflows)"
            )
    return {
        "x_range": (low, high),
        "dt": _number("heat.dt", heat["dt"], positive=True),
        "start": _number("heat.start", heat["start"], positive=True),
        "smoothing": None if smoothing == "none" else smoothing,
        "sigma": None if heat["sigma"] is None else _number("heat.sigma", heat["sigma"], positive=True),
        "timing": bool(heat["timing"]),
    }


def read_settings(cfg) -> Settings:
    raw = OmegaConf.to_container(cfg, resolve=True)
    problems, explicit = _problems(raw["problem"])
    notes = []
    heat_data = raw["heat_data"]
    if 3 in problems and heat_data is None:
        if explicit:
            raise UserError(f"problem 3 needs the measurements: {HEAT_DATA_HINT}")
        problems = problems - {3}
        notes.append(f"Problem 3 skipped: {HEAT_DATA_HINT}")
    noise = raw["noise"]
    samples, seed = raw["noisy"]["samples"], raw["noisy"]["seed"]
    for key, value in (("noisy.samples", samples), ("noisy.seed", seed)):
        if not is_whole(value, minimum=0):
            raise UserError(f"{key}={value!r} must be a whole number >= 0 (integers are written without a point)")
    return Settings(
        output_dir=Path(raw["output_dir"]),
        problems=problems,
        eps=check_eps(raw["eps"]) if 2 in problems else [],
        start=_number("start", raw["start"]),
        a_warn=_number("a_warn", raw["a_warn"], positive=True),
        heat_data=None if heat_data is None or 3 not in problems else Path(heat_data),
        heat=_heat(raw["heat"]),
        noise=None if noise is None else _number("noise", noise, positive=True),
        noisy={"eps": check_eps([raw["noisy"]["eps"]])[0], "samples": samples, "seed": seed},
        notes=notes,
    )
