"""Exact resume: one backup file per training phase, written atomically after each epoch.

Keras's `BackupAndRestore` writes its files in place (a kill while writing leaves a
file that fails every later run) and keeps neither the history nor the shuffling, so a
resumed run trains on other batches and reports only the epochs after the restart.
`PhaseBackup` keeps, in ONE ``.npz`` file (no pickles) replaced atomically after every
epoch: every model variable, every optimizer variable (its step count and slots), the
epoch count and the history so far. With anykeras's seeded epoch order
(`anykeras.training.batches`), a run resumed from it trains exactly as one never
stopped. A backup that cannot be used (cut short, random bytes, a folder) is reported in one
line (`anykeras.training.work_repair`) and the phase starts over.

Example:
>>> import tempfile
>>> from pathlib import Path
>>> backup = PhaseBackup(Path(tempfile.mkdtemp()) / "validation.npz")
>>> backup.epochs_done, backup.history
(0, {})
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import keras
import numpy as np

from anykeras.saving import save_atomically
from anykeras.training.work_repair import check_shape, damaged

_META = "__meta__"


class PhaseBackup(keras.callbacks.Callback):
    """Back up one phase (a validation run, a retrain) after every epoch; resume it.

    Call `restore` on the compiled model before ``fit`` and start ``fit`` at
    ``initial_epoch=backup.epochs_done``; `history` then holds every epoch, those
    before the restart included.

    Args:
        path: The backup file (``.npz``).
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.epochs_done = 0
        self.history: dict[str, list[float]] = {}

    @classmethod
    def of(cls, folder: str | Path | None, phase: str) -> PhaseBackup | None:
        """The backup of ``phase`` in ``folder`` (``<folder>/<phase>.npz``); none without one."""
        return None if folder is None else cls(Path(folder) / f"{phase}.npz")

    def restore(self, model: keras.Model) -> int:
        """Load the backup into ``model`` (weights and optimizer) if there is one.

        Returns:
            The number of epochs already done (0 without a usable backup).
        """
        # A folder of backups that is a file, a backup that is a folder: one line, start over.
        check_shape(self.path.parent, folder=True)
        if not check_shape(self.path, folder=False) or not self.path.exists():
            return 0
        try:
            state = _read(self.path)
            optimizer = model.optimizer
            if not optimizer.built:
                optimizer.build(model.trainable_variables)
            pairs = [(model.variables, state["model"], "model"),
                     (optimizer.variables, state["optimizer"], "optimizer")]  # fmt: skip
            for variables, values, what in pairs:  # all checked before any is changed
                _check(variables, values, what)
        except (OSError, ValueError, LookupError, TypeError, AttributeError, zipfile.BadZipFile,
                EOFError) as error:  # fmt: skip
            damaged(self.path, f"cannot be used as a backup ({error})")
            return 0
        for variables, values, _ in pairs:
            for variable, value in zip(variables, values, strict=True):
                variable.assign(value)
        self.epochs_done, self.history = state["epochs"], state["history"]
        return self.epochs_done

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Add the epoch to the history and replace the backup file."""
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.epochs_done = epoch + 1
        meta = json.dumps({"epochs": self.epochs_done, "history": self.history})
        arrays = {f"model_{i}": np.asarray(v) for i, v in enumerate(self.model.variables)}
        optimizer = self.model.optimizer.variables
        arrays.update({f"optimizer_{i}": np.asarray(v) for i, v in enumerate(optimizer)})
        save_atomically(self.path, lambda tmp: _write(tmp, meta, arrays))


def _write(path: Path, meta: str, arrays: dict[str, np.ndarray]) -> None:
    with path.open("wb") as handle:  # a handle: np.savez would add ".npz" to the name
        content: dict[str, Any] = {_META: np.array(meta), **arrays}
        np.savez(handle, **content)


def _read(path: Path) -> dict[str, Any]:
    if not zipfile.is_zipfile(path):  # np.load would take other bytes for a pickle
        raise ValueError("not an .npz archive")
    with np.load(path, allow_pickle=False) as stored:
        meta = json.loads(str(stored[_META]))
        return {
            "epochs": int(meta["epochs"]),
            "history": {k: [float(v) for v in vs] for k, vs in meta["history"].items()},
            "model": _numbered(stored, "model"),
            "optimizer": _numbered(stored, "optimizer"),
        }


def _numbered(stored: Any, prefix: str) -> list[np.ndarray]:
    count = sum(name.startswith(f"{prefix}_") for name in stored.files)
    return [stored[f"{prefix}_{i}"] for i in range(count)]


def _check(variables: list[Any], values: list[np.ndarray], what: str) -> None:
    if len(variables) != len(values):
        raise ValueError(
            f"it holds {len(values)} {what} variables where this run has {len(variables)}"
        )
    for variable, value in zip(variables, values, strict=True):
        if tuple(variable.shape) != value.shape:
            raise ValueError(
                f"a {what} variable of shape {value.shape} where this run has "
                f"{tuple(variable.shape)}"
            )
