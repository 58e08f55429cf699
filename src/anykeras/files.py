"""Writing result files so that a crash never leaves half a file in place of a good one."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only on success.

    Example:
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        # mkstemp makes the file private (0600); give it the mode any new file gets.
        tmp.chmod(0o666 & ~_umask())
        tmp.replace(path)  # atomic on POSIX: readers see the old file or the new one
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it: put it straight back
    os.umask(mask)
    return mask


def write_json_atomically(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented, strict JSON to ``path`` atomically; return the path.

    Strict: a NaN or infinity is an error (`ValueError`), never a ``NaN`` that JSON
    readers reject.
    """
    text = json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def save_atomically(path: str | Path, save: Callable[[Path], Any]) -> Path:
    """Call ``save(tmp_path)`` and move the result to ``path`` only if it succeeded.

    Example: ``save_atomically("model.keras", model.save)``.
    """
    with atomic_path(path) as tmp:
        save(tmp)
    return Path(path)
