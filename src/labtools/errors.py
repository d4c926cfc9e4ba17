"""One exception type for everything the user can fix, and the entry-point wrapper that prints it as one line."""

import functools
import importlib
import sys


class UserError(Exception):
    """Bad input or configuration. The message names the file or key and says what to do next."""


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


def run_task(module: str, cfg):
    """What every entry script's Hydra main does: import `module` and call its `run(cfg)`, reporting user errors.

    The import happens only now, so that `--help` and a bad override answer without loading torch or music21."""
    return report_user_errors(lambda config: importlib.import_module(module).run(config))(cfg)
