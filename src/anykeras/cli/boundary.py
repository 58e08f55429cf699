"""The one error boundary of every `anykeras` command: each failure is one line on stderr.

A bad command line or setting (`UsageError`) exits with status 2; bad data, a file
that cannot be read or written (any `OSError`: no space left, permission denied, a
folder where a file should be) and a run that fails exit with status 1; Ctrl-C
exits with 130. An error nobody foresaw is one line too, and its traceback goes to a
file whose path the line gives. ``anykeras --debug ...`` or ``ANYKERAS_DEBUG=1``
prints the traceback on stderr as well.

Example:
>>> def work():
...     raise UsageError("--epochs must be 1 or more")
>>> guarded("train", work)  # doctest: +SKIP
anykeras train: error: --epochs must be 1 or more
2
"""

from __future__ import annotations

import errno
import os
import sys
import tempfile
import traceback
from collections.abc import Callable

from anykeras.cli.checks import UsageError

__all__ = ["DEBUG_VARIABLE", "debug_asked", "guarded", "os_error_line"]

DEBUG_VARIABLE = "ANYKERAS_DEBUG"

# What to do about each kind of file system error; the line names the path too.
_ADVICE = {
    errno.ENOSPC: "no space left on the device; free some space or choose another place",
    errno.EDQUOT: "the disk quota is used up; free some space or choose another place",
    errno.EACCES: "permission denied; choose a place you can write to, or change its permissions",
    errno.EPERM: "operation not permitted; choose a place you can write to",
    errno.EROFS: "the file system is read-only; choose another place",
    errno.EISDIR: "it is a folder where a file was expected; give a file",
    errno.ENOTDIR: "a part of the path is a file where a folder was expected",
    errno.ENOENT: "it does not exist",
    errno.ENAMETOOLONG: "the name is too long; choose a shorter path",
}

# The library's exceptions, by module: matched only once their module is loaded (before,
# none can be raised, and importing it could import Keras on a backend not yet chosen).
# Settings and folders that cannot take the run: exit status 2.
_USAGE_ERRORS: dict[str, tuple[str, ...]] = {"anykeras.training.run_folder": ("RunFolderError",)}
# Bad data or a failed run: exit status 1.
_DATA_ERRORS: dict[str, tuple[str, ...]] = {
    "anykeras.data": ("DataNotFoundError", "UntrustedFileError", "DataFileError"),
    "anykeras.training": ("DivergedError",),
}


def debug_asked(argv: list[str]) -> tuple[bool, list[str]]:
    """Whether ``--debug`` (before the command) or ``ANYKERAS_DEBUG=1`` asks for tracebacks.

    Returns the answer and the arguments without the leading ``--debug``.

    Example:
    >>> debug_asked(["--debug", "train", "--out", "x"])[1]
    ['train', '--out', 'x']
    """
    asked = os.environ.get(DEBUG_VARIABLE, "").strip() not in ("", "0")
    while argv[:1] == ["--debug"]:
        asked, argv = True, argv[1:]
    return asked, argv


def os_error_line(error: OSError) -> str:
    """One line for a file system error: the path, what went wrong, what to do.

    Example:
    >>> os_error_line(OSError(errno.ENOSPC, "No space left on device", "/runs/x"))
    '/runs/x: no space left on the device; free some space or choose another place'
    """
    where = " -> ".join(str(p) for p in (error.filename, error.filename2) if p is not None)
    advice = _ADVICE.get(error.errno or 0)
    if advice is None:
        advice = (error.strerror or str(error) or type(error).__name__).strip().lower()
    return f"{where}: {advice}" if where else advice


def _loaded(errors: dict[str, tuple[str, ...]]) -> tuple[type[BaseException], ...]:
    found = []
    for module, names in errors.items():
        if module in sys.modules:
            found += [getattr(sys.modules[module], name) for name in names]
    return tuple(found)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else "(no message)"


def _write_traceback(command: str) -> str:
    """The current exception's traceback, in a new file of the temporary folder; its path."""
    try:
        descriptor, path = tempfile.mkstemp(prefix=f"anykeras-{command}-", suffix=".txt")
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(traceback.format_exc())
    except OSError as error:  # a full temporary folder must not hide the first error
        return f"nowhere ({os_error_line(error)}); rerun with --debug to see it"
    return path


def guarded(command: str, work: Callable[[], int], debug: bool = False) -> int:
    """Run ``work`` (it returns the exit status); every failure becomes one line.

    Args:
        command: The command's name, as the line starts: ``anykeras train: ...``.
        work: The command itself.
        debug: Print the traceback too, before the line.

    Returns:
        ``work``'s exit status, else 2 for usage, 1 for data, files and runs, 130 for
        Ctrl-C.
    """
    prefix = f"anykeras {command}"
    caught: BaseException
    try:
        return work()
    except KeyboardInterrupt:
        print(f"{prefix}: interrupted", file=sys.stderr)
        return 130
    except (UsageError, *_loaded(_USAGE_ERRORS)) as error:  # type: ignore[misc]
        caught = error
        line, code = f"{prefix}: error: {error}", 2
    except _loaded(_DATA_ERRORS) as error:
        caught = error
        line, code = f"{prefix}: error: {error}", 1
    except OSError as error:
        caught = error
        line, code = f"{prefix}: error: {os_error_line(error)}", 1
    except Exception as error:  # unforeseen: one line, the whole story in a file
        caught = error
        where = _write_traceback(command)
        line = (
            f"{prefix}: unexpected error: {type(error).__name__}: {_first_line(error)}; "
            f"the full traceback is in {where}"
        )
        code = 1
    if debug:
        traceback.print_exception(type(caught), caught, caught.__traceback__, file=sys.stderr)
    print(line, file=sys.stderr)
    return code
