"""Checks a loader runs before it works: its arguments, then what its file holds.

:class:`NpzArrays` holds the arrays of one found ``.npz`` and checks them (dtype and
shape of samples, labels that are integer class ids in range, one label per sample),
so a file with the right names but the wrong contents gives one
:class:`~anykeras.data.DataFileError` naming the file, never a NumPy traceback later on.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

from anykeras.data._files import DataFile, locate
from anykeras.data._reading import load_npz
from anykeras.data.encoding import check_labels
from anykeras.data.sequences import flatten
from anykeras.spec import check_int, check_number

Kind = Literal["integer", "number", "sequences"]
_KINDS: dict[str, tuple[Any, str]] = {
    "integer": (np.integer, "an integer array"),
    "number": (np.number, "a numeric array"),
    "sequences": (np.object_, "a 1-D object array of word-id lists"),
}


def check_seed(seed: Any) -> int:
    """``seed`` if NumPy's ``RandomState`` takes it: an integer in ``[0, 2**32)``.

    Example:
        >>> check_seed(-1)
        Traceback (most recent call last):
        ...
        ValueError: seed must be an integer >= 0. Received: seed=-1
    """
    seed = check_int("seed", seed, minimum=0)
    if seed >= 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32). Received: seed={seed}")
    return seed


def check_test_split(test_split: Any) -> float:
    """``test_split`` as a float if it is a fraction in ``[0, 1)``.

    Example:
        >>> check_test_split(1.0)
        Traceback (most recent call last):
        ...
        ValueError: test_split must be a finite number >= 0 and < 1. Received: test_split=1.0
    """
    return check_number("test_split", test_split, 0.0, 1.0, open_low=False)


@dataclasses.dataclass(frozen=True)
class NpzArrays:
    """The arrays of one data file, with checks whose errors name that file.

    Attributes:
        file: What the file should be.
        path: Where it was found.
        arrays: Its arrays, by name.
    """

    file: DataFile
    path: Path
    arrays: Mapping[str, np.ndarray]

    @classmethod
    def read(
        cls, file: DataFile, keys: tuple[str, ...], path: str | os.PathLike[str] | None = None
    ) -> NpzArrays:
        """Find ``file`` (see ``locate``) and read its arrays ``keys`` safely."""
        found = locate(file, path)
        return cls(file, found, load_npz(found, file, keys))

    def pair(
        self,
        x_key: str,
        y_key: str,
        *,
        kind: Kind,
        shape: tuple[int, ...] = (),
        num_classes: int | None = None,
        targets: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Samples ``x_key`` and labels (or numeric ``targets``) ``y_key``, checked.

        Args:
            x_key: The samples: ``kind`` values of shape ``(n, *shape)``.
            y_key: Integer class ids in ``[0, num_classes)``, or numbers if ``targets``.
            kind: ``"integer"``, ``"number"`` or ``"sequences"`` (object array of lists).
            shape: The shape of one sample.
            num_classes: The number of classes, when the data set fixes it.
            targets: ``y_key`` holds regression targets, not class ids.

        Returns:
            ``(x, y)``, as stored.

        Raises:
            DataFileError: A wrong dtype or shape, a label out of range, or lengths that
                differ.
        """
        x = self._samples(x_key, kind, shape)
        if targets:
            y = self._samples(y_key, "number", ())
        else:
            try:
                y = check_labels(y_key, self.arrays[y_key], num_classes)
            except ValueError as exc:
                raise self.file.error(self.path, str(exc)) from None
        if len(x) != len(y):
            raise self.file.error(
                self.path,
                f"{x_key} and {y_key} must have the same length (one label per sample). "
                f"Received: len({x_key})={len(x)}, len({y_key})={len(y)}",
            )
        return x, y

    def sequences(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """``flatten`` of the word-id lists ``key``, or a DataFileError naming the file."""
        try:
            return flatten(self.arrays[key], name=key)
        except ValueError as exc:
            raise self.file.error(self.path, str(exc)) from None

    def _samples(self, key: str, kind: Kind, shape: tuple[int, ...]) -> np.ndarray:
        array = self.arrays[key]
        dtype, described = _KINDS[kind]
        if not np.issubdtype(array.dtype, dtype) or array.shape[1:] != shape or not array.ndim:
            expected = f"(n, {', '.join(map(str, shape))})" if shape else "(n,)"
            raise self.file.error(
                self.path,
                f"{key} must be {described} of shape {expected}. "
                f"Received: {key}.dtype={array.dtype}, {key}.shape={array.shape}",
            )
        return array
