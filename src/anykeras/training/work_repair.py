"""A damaged work folder, of any shape, costs one warning line and the phase it held.

What a killed run leaves in ``.OUT.anykeras/`` (`anykeras.training.run_folder`) may
be damaged after the kill: a file cut short, random bytes, a folder where a file
belongs or a file where a folder belongs. Every reader of that folder goes through
this module, which checks each entry's shape and content before it is used; a
damaged entry is logged in one line to the ``anykeras`` logger at WARNING (the
``anykeras`` command prints it), removed, and its phase starts over, so a rerun
always gets past it, to the result of a run never interrupted.

The work folder's entries, and what each must be:

    lock             a file (held while a run writes here)
    settings.json    a JSON object: the settings of the run that left the folder
    stage/           a folder (remade by every run)
    backup/          a folder of ``<phase>.npz`` files (`anykeras.training.resume`)
    validation.json  a JSON object of per-epoch lists of numbers, ``val_loss`` among them
    replaced/        a folder (a finished run moved aside while publishing)

Example:
>>> import tempfile
>>> work = Path(tempfile.mkdtemp())
>>> _ = (work / "validation.json").write_text('{"loss": [0.5], "val_')
>>> read_history(work / "validation.json") is None  # logged, removed
True
>>> (work / "validation.json").exists()
False
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from anykeras.saving import json_type, read_json
from anykeras.training.progress import LOG


def damaged(path: Path, problem: str, redo: str = "starting this phase over") -> None:
    """Log that ``path`` is damaged (``problem``) in one line, and remove it."""
    LOG.warning("damaged work folder: %s %s; removed it, %s", path, problem, redo)
    remove(path)


def remove(path: Path) -> None:
    """Remove ``path``, a file, a link or a folder; nothing if it is not there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _shape_problem(path: Path, folder: bool) -> str | None:
    """Why ``path`` is not the folder (or the file) it must be; None when it is, or is absent."""
    if not path.exists() and not path.is_symlink():
        return None
    if folder and not path.is_dir():
        return "is a file where a folder belongs"
    if not folder and not path.is_file():
        return "is a folder where a file belongs" if path.is_dir() else "is not a file"
    return None


def check_shape(path: Path, folder: bool, redo: str = "starting this phase over") -> bool:
    """Whether ``path`` is absent or the folder (or file) it must be; else report, remove it.

    Example:
    >>> import tempfile
    >>> backup = Path(tempfile.mkdtemp()) / "backup"
    >>> _ = backup.write_text("a file")
    >>> check_shape(backup, folder=True), backup.exists()  # logged, removed
    (False, False)
    """
    problem = _shape_problem(path, folder)
    if problem is not None:
        damaged(path, problem, redo)
    return problem is None


def repair_before_lock(work: Path) -> None:
    """Make the work folder and its ``lock`` the shapes a run can lock (before locking)."""
    check_shape(work, folder=True, redo="starting the run over")
    check_shape(work / "lock", folder=False, redo="making a new one")


def repair(work: Path) -> None:
    """Check the shape of each entry a resumed run reads; remove each damaged one.

    Example:
    >>> import tempfile
    >>> work = Path(tempfile.mkdtemp())
    >>> (work / "backup").mkdir()
    >>> (work / "backup" / "validation.npz").mkdir()  # a folder where a backup belongs
    >>> repair(work)
    >>> list((work / "backup").iterdir())
    []

    The content of each file is checked where it is read: `read_settings`,
    `read_history` and `anykeras.training.resume.PhaseBackup.restore`.
    """
    check_shape(work / "stage", folder=True, redo="making it again")
    check_shape(work / "backup", folder=True)
    backup = work / "backup"
    if backup.is_dir():
        for entry in sorted(backup.iterdir()):
            check_shape(entry, folder=False)


def read_settings(path: Path) -> dict[str, Any] | None:
    """The settings ``path`` holds; None without the file, or (reported) when damaged.

    Example:
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "settings.json"
    >>> _ = path.write_text('{"seed": 3}')
    >>> read_settings(path)
    {'seed': 3}
    """
    value: dict[str, Any] | None = _read_checked(path, _object_problem, "starting the run over")
    return value


def read_history(path: Path) -> dict[str, list[float]] | None:
    """The finished validation run's curves ``path`` holds; None when absent or damaged.

    A damaged file is reported, removed, and the validation run is made again.
    """
    value = _read_checked(path, _history_problem, "starting the validation run over")
    if value is None:
        return None
    return {key: [float(v) for v in values] for key, values in value.items()}


def _read_checked(path: Path, problem_of: Callable[[Any], str | None], redo: str) -> Any:
    """The JSON in ``path`` if ``problem_of`` finds none; else report, remove: None."""
    if not check_shape(path, folder=False, redo=redo) or not path.exists():
        return None
    problem: str | None
    try:
        value = read_json(path)
    except ValueError as error:
        value, problem = None, str(error)
    else:
        problem = problem_of(value)
    if problem is not None:
        damaged(path, problem, redo)
        return None
    return value


def _history_problem(value: Any) -> str | None:
    """Why ``value`` is not a validation history (None when it is one)."""
    if not isinstance(value, dict):
        return _object_problem(value)
    if "val_loss" not in value:
        return f"has no 'val_loss' key (keys: {sorted(value)[:5]})"
    lengths = set()
    for key, values in value.items():
        if not isinstance(values, list) or not values or not all(map(_is_number, values)):
            return f"key {key!r} is not a list of numbers"
        lengths.add(len(values))
    if len(lengths) > 1:
        return f"its keys hold lists of different lengths ({sorted(lengths)})"
    return None


def _object_problem(value: Any) -> str | None:
    if isinstance(value, dict):
        return None
    return f"holds a JSON {json_type(value)} where an object belongs"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
