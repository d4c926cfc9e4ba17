"""Type tests for values read from configs: bool is an int subclass, and `True` must not pass as a number."""

import math
import numbers

MAX_SEED = 2**32 - 1  # numpy's seeds are unsigned 32-bit, and seed_everything seeds numpy too
FLOAT32_MAX = float.fromhex("0x1.fffffep+127")  # float32's largest finite value, about 3.4e38 (numpy's finfo)


def is_number(value) -> bool:
    """A real number, numpy's included; NaN and inf are numbers here."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_positive(value) -> bool:
    """A finite number above 0 (NaN and inf are not)."""
    return is_number(value) and 0 < value < math.inf


def is_whole(value, minimum: int = 1) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def is_seed(value) -> bool:
    return is_whole(value, minimum=0) and value <= MAX_SEED


def fits_float32(value) -> bool:
    """A number float32 holds without overflow: finite, and no larger in size than float32's largest. Torch
    refuses to turn a larger Python float into a float32 tensor ("cannot be converted ... without overflow")."""
    return is_number(value) and abs(value) <= FLOAT32_MAX
