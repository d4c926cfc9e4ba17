"""The one exception type for input the user can fix; inverse.py prints it as one line and exits with code 2."""


class InputError(ValueError):
    """Bad input or configuration. The message names the key and value and says what to do instead."""
