"""One exception type for everything the user can fix, and the entry-point wrapper that prints it as one line."""

import functools
import sys


class UserError(Exception):
    """Bad input or configuration. The message names the file or key and says what to do next."""


class SettingError(ValueError):
    """One bad field of a settings object. The message starts with the field as it is set, `temperature=0: ...`,
    so that whoever built the object from a config can put the config's path in front (`sampler.temperature=0`)."""


def check_fields(problems: list[tuple[bool, str]]) -> None:
    """Raise a SettingError with the message of the first (bad, message) pair that is bad."""
    for bad, message in problems:
        if bad:
            raise SettingError(message)


def report_user_errors(task):
    """Wrap a Hydra task so that a UserError ends the run with one line and exit code 2, not a traceback, and
    Ctrl-C with one line and the shell's code for it, 130. Every write is atomic, so nothing is left half-written."""

    @functools.wraps(task)
    def wrapper(cfg):
        try:
            return task(cfg)
        except UserError as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(2)
        except KeyboardInterrupt:
            print(
                "interrupted (Ctrl-C): stopped; files already written are complete, none is half-written",
                file=sys.stderr,
            )
            sys.exit(130)

    return wrapper


def run_task(task, cfg):
    """What every entry script's Hydra main does: call `task(cfg)`, reporting user errors and Ctrl-C in one line.

    Entry scripts pass a function that imports the real task inside it (`from mozart_lstm.train import run`), so
    that an editor follows the call, `--help` and a bad override answer without loading torch or music21, and a
    Ctrl-C during that slow import is reported like any other."""
    return report_user_errors(task)(cfg)
