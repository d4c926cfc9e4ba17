"""Type tests for values read from configs: bool is an int subclass, and `True` must not pass as a number."""


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_whole(value, minimum: int = 1) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum
