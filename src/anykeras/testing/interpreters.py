"""Find a Python for each Keras backend: where each backend is installed on this machine.

Each backend may live in its own virtual environment (anykeras's own nox sessions
install one backend each), or all of them in one. For each backend, in order:

1. the interpreter the caller names (``pythons={"torch": "/path/to/python"}``);
2. this interpreter, if the backend is installed here;
3. a nox session's, ``.nox/test-<backend>/bin/python`` in the working directory.

A backend found nowhere is *skipped*, with the reason; a skip is never a pass.

Example:
>>> found, skipped = find_pythons(["jax", "torch", "tensorflow"], search=())
>>> sorted([*found, *skipped])
['jax', 'tensorflow', 'torch']
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["find_pythons", "missing_modules", "nox_python"]

_PROBE = (
    "import importlib.util, sys\n"
    "print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))"
)


def nox_python(folder: str | Path, backend: str) -> Path:
    """Where nox puts session ``test-<backend>``'s Python under ``folder``."""
    bin_dir, exe = ("Scripts", "python.exe") if os.name == "nt" else ("bin", "python")
    return Path(folder) / ".nox" / f"test-{backend}" / bin_dir / exe


def missing_modules(python: str | Path, modules: Iterable[str], timeout: float = 120) -> list[str]:
    """The ``modules`` that ``python`` cannot import (it is asked, nothing is imported).

    Raises:
        OSError: ``python`` does not run.
    """
    modules = list(modules)
    if Path(python) == Path(sys.executable):
        return [m for m in modules if importlib.util.find_spec(m) is None]
    try:
        done = subprocess.run(
            [str(python), "-c", _PROBE, *modules],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        raise OSError(f"{python} does not run: {error}") from error
    return done.stdout.split()


def _candidates(backend: str, pythons: Mapping[str, str | Path], search: Iterable[Path]) -> tuple:
    """The interpreters to try for ``backend``, and what is already known not to work."""
    if backend in pythons:
        return [Path(pythons[backend])], []  # the caller's choice, and only that
    if importlib.util.find_spec(backend) is not None:
        return [Path(sys.executable)], []
    nox = [nox_python(folder, backend) for folder in search]
    return nox, [f"{backend} is not installed in {sys.executable}"]


def find_pythons(
    backends: Iterable[str],
    pythons: Mapping[str, str | Path] | None = None,
    search: Iterable[str | Path] | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """For each backend, a Python that has it (with Keras and anykeras), or why not.

    Args:
        backends: Backend names.
        pythons: Interpreters to use, by backend (these are not second-guessed).
        search: Folders whose ``.nox/test-<backend>`` sessions to look in; the working
            directory by default.

    Returns:
        ``(found, skipped)``: backend -> interpreter path, and backend -> reason.
    """
    pythons = dict(pythons or {})
    folders = [Path.cwd()] if search is None else [Path(f) for f in search]
    found, skipped = {}, {}
    for backend in backends:
        candidates, tried = _candidates(backend, pythons, folders)
        for python in candidates:
            if not python.is_file():
                tried.append(f"{python} does not exist")
                continue
            try:
                missing = missing_modules(python, (backend, "keras", "anykeras"))
            except OSError as error:
                tried.append(str(error))
                continue
            if not missing:
                found[backend] = str(python)
                break
            tried.append(f"{python} has no {' or '.join(missing)}")
        else:
            hint = f"pass pythons={{'{backend}': '/path/to/python'}} to use another environment"
            skipped[backend] = f"{'; '.join(tried)} ({hint})"
    return found, skipped
