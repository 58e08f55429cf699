"""A run folder that is all-or-nothing, one run at a time, and resumable.

A run writes into ``OUT`` only once it has finished: everything is made in a work
folder beside it, ``.OUT.anykeras/`` (its ``stage/`` holds the results, ``backup/``
the per-phase backups), and published with one ``rename``. So ``OUT`` holds either
nothing, or a finished run (``metrics.json`` is always there), never a mix. A folder
that holds a finished run is replaced only when asked (``overwrite=True``), and a
second run into the same folder is refused while the first is alive, naming it.

Example:
>>> import tempfile
>>> out = Path(tempfile.mkdtemp()) / "run"
>>> with RunFolder(out) as run:
...     _ = (run.stage / "metrics.json").write_text("{}")
...     run.publish()
>>> sorted(p.name for p in out.iterdir()), run.work.exists()
(['metrics.json'], False)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import IO, Any

from anykeras.training.work_repair import (
    check_shape,
    read_settings,
    remove,
    repair,
    repair_before_lock,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks; one run at a time is on you
    fcntl = None  # type: ignore[assignment]

MANIFEST = "metrics.json"  # written last into the stage: a folder that has it is finished


class RunFolderError(Exception):
    """The output folder cannot take this run (in use, holds other files, not writable)."""


class RunFolder:
    """The output folder of one run, as a context manager (see the module).

    Args:
        out: The folder the results go to.
        overwrite: Replace a finished run already in ``out``.
        resume: Keep the backups of an earlier run of the same settings that was
            interrupted (otherwise its leftovers are cleared and the run starts over).
        settings: What defines the run (its command line, say); an interrupted run
            is resumed only if its settings were the same.

    Attributes:
        stage: Where the results are written before `publish`.
        backup: Where the phases keep their backups.
    """

    def __init__(
        self,
        out: str | Path,
        overwrite: bool = False,
        resume: bool = False,
        settings: dict[str, Any] | None = None,
    ) -> None:
        self.out = follow_link(Path(out))  # a link's target gets the run, as with cp
        self.work = self.out.parent / f".{self.out.name}.anykeras"
        self.stage = self.work / "stage"
        self.backup = self.work / "backup"
        self.overwrite = overwrite
        self.resume = resume
        self.settings = settings or {}
        self._lock: IO[str] | None = None

    def __enter__(self) -> RunFolder:
        check_writable_folder(self.out, self.overwrite)
        created = not self.work.exists()
        try:
            self._take_lock()
            self._finish_interrupted_publish()
            check_writable_folder(self.out, self.overwrite)  # again, now that we hold the lock
            self._prepare()
        except BaseException as error:
            if created and self.work.is_dir():
                self._clear()  # a refusal (or a full disk) leaves no lock behind
            self.__exit__(None)  # let go of the lock: ``with`` calls no __exit__ here
            if isinstance(error, OSError) and error.filename is None and error.errno:
                # A write that failed midway (a full disk) names no file: name the folder.
                raise OSError(error.errno, error.strerror, str(self.work)) from error
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        if self._lock is None:
            return
        if exc_type is not None and not self.resume:
            # A failed run without backups leaves nothing to resume: leave nothing behind.
            self._finish_interrupted_publish()
            self._clear()
        self._lock.close()  # releases the lock
        self._lock = None

    def _take_lock(self) -> None:
        try:
            repair_before_lock(self.work)  # a lock needs a folder and a file
            self.work.mkdir(parents=True, exist_ok=True)
            handle = (self.work / "lock").open("a+", encoding="utf-8")
        except OSError as error:
            raise RunFolderError(f"cannot write beside {self.out}: {_reason(error)}") from None
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                handle.close()
                raise RunFolderError(
                    f"another anykeras run is writing to {self.out} ({holder}); wait for it "
                    "or choose another --out"
                ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        handle.flush()
        self._lock = handle

    def _finish_interrupted_publish(self) -> None:
        """A run killed between publish's two renames left ``OUT`` missing: finish it."""
        replaced = self.work / "replaced"
        check_shape(replaced, folder=True, redo="carrying on")
        if replaced.exists() and not self.out.exists():
            if (self.stage / MANIFEST).is_file():
                self.stage.rename(self.out)
            else:
                replaced.rename(self.out)
        shutil.rmtree(replaced, ignore_errors=True)

    def _prepare(self) -> None:
        settings_file = self.work / "settings.json"
        if self.resume and read_settings(settings_file) == self.settings:
            repair(self.work)  # each damaged entry: one line, its phase over
        else:
            # Leftovers of an interrupted run with other settings (or no resume): start over.
            for leftover in self.work.iterdir():
                if leftover.name != "lock":
                    remove(leftover)
        remove(self.stage)  # results are remade from the backups
        self.stage.mkdir(parents=True)
        settings_file.write_text(json.dumps(self.settings, sort_keys=True), encoding="utf-8")

    def publish(self) -> None:
        """Move the staged results into ``OUT`` at once, replacing a finished run there."""
        if not (self.stage / MANIFEST).is_file():
            raise RunFolderError(f"the run has no {MANIFEST} to publish; nothing was written")
        if self.out.exists():
            replaced = self.work / "replaced"
            self.out.rename(replaced)  # OUT is an empty folder, or a run asked to be replaced
            self.stage.rename(self.out)
            shutil.rmtree(replaced)
        else:
            self.stage.rename(self.out)
        self._clear()

    def _clear(self) -> None:
        """Remove the work folder; the lock goes last (this run holds it until then)."""
        for leftover in self.work.iterdir():
            if leftover.name != "lock":
                remove(leftover)
        (self.work / "lock").unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.work.rmdir()


def check_writable_folder(out: Path, overwrite: bool = False) -> None:
    """Raise `RunFolderError` unless a run can publish into ``out``.

    ``out`` may be missing (its parent is made), an empty folder, or, with
    ``overwrite``, a finished run's folder; a symbolic link is followed to its folder.
    Anything else is refused before any work, and the refusal writes nothing.
    """
    if out.name in ("", ".", "..") or Path.cwd().resolve().is_relative_to(out.resolve()):
        raise RunFolderError(
            f"--out {out} is the current folder or holds it; name a folder of its own, such "
            "as --out runs/x (its work folder is made beside it)"
        )
    out = follow_link(out)
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"--out {out} is a file; give a folder")
    if out.is_dir():
        entries = [p.name for p in out.iterdir()]
        if entries and MANIFEST not in entries:
            raise RunFolderError(
                f"--out {out} holds other files ({', '.join(sorted(entries)[:3])}...); "
                "give a new or empty folder"
            )
        if entries and not overwrite:
            raise RunFolderError(
                f"--out {out} holds a finished run; pass --overwrite to replace it"
            )
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise RunFolderError(f"--out {out} lies below {parent}, which is a file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise RunFolderError(f"cannot write to {parent}: permission denied")


def follow_link(out: Path) -> Path:
    """``out``, or the path its symbolic link leads to; a dangling link is refused.

    The run goes into the link's target, as ``cp`` and ``rsync`` write into it; the
    link itself is never replaced.

    Example:
    >>> follow_link(Path("runs/x"))
    PosixPath('runs/x')
    """
    if not out.is_symlink():
        return out
    target = out.resolve()
    if not target.exists():
        raise RunFolderError(
            f"--out {out} is a symbolic link to {target}, which does not exist; create "
            f"{target} or give another --out"
        )
    return target


def _reason(error: OSError) -> str:
    return error.strerror.lower() if error.strerror else str(error)
