"""Nested arrays in a folder: how processes of different backends hand data to each other.

A model's inputs, labels and outputs may be one array, a list of arrays or a dict of
named arrays (a multi-input model). `save_arrays` writes each array as a ``.npy``
file and returns a small JSON-able description of the nesting; `load_arrays` reads
them back. NumPy only: no Keras, no pickles.

Example:
>>> import tempfile
>>> import numpy as np
>>> folder = tempfile.mkdtemp()
>>> layout = save_arrays({"ids": np.arange(3), "mask": [np.ones(2)]}, folder, "x")
>>> loaded = load_arrays(layout, folder)
>>> loaded["ids"].tolist(), loaded["mask"][0].tolist()
([0, 1, 2], [1.0, 1.0])
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["flatten", "largest_diff", "load_arrays", "max_abs_diff", "save_arrays"]


def save_arrays(tree: Any, folder: str | Path, name: str) -> Any:
    """Write every array of ``tree`` to ``folder``; return the layout `load_arrays` reads.

    Args:
        tree: An array (anything `numpy.asarray` takes), or a list, tuple or dict
            (string keys) of them, nested.
        folder: An existing folder.
        name: A prefix for the file names.

    Returns:
        The layout: a file name, a list of layouts, or a dict of layouts.
    """
    folder = Path(folder)
    if isinstance(tree, dict):
        return {"dict": {key: save_arrays(v, folder, f"{name}.{key}") for key, v in tree.items()}}
    if isinstance(tree, list | tuple):
        return {"list": [save_arrays(v, folder, f"{name}.{i}") for i, v in enumerate(tree)]}
    file = f"{name}.npy"
    np.save(folder / file, np.asarray(tree), allow_pickle=False)
    return file


def load_arrays(layout: Any, folder: str | Path) -> Any:
    """The arrays `save_arrays` wrote, nested as they were (tuples come back as lists)."""
    folder = Path(folder)
    if isinstance(layout, dict) and "dict" in layout:
        return {key: load_arrays(v, folder) for key, v in layout["dict"].items()}
    if isinstance(layout, dict):
        return [load_arrays(v, folder) for v in layout["list"]]
    return np.load(folder / layout, allow_pickle=False)


def flatten(tree: Any) -> Iterator[Any]:
    """The leaves of a nested list/tuple/dict, in order (dicts by sorted key)."""
    if isinstance(tree, dict):
        for key in sorted(tree):
            yield from flatten(tree[key])
    elif isinstance(tree, list | tuple):
        for value in tree:
            yield from flatten(value)
    else:
        yield tree


def max_abs_diff(got: Any, want: Any) -> float:
    """The largest absolute difference between two arrays; ``inf`` if shapes differ.

    A NaN on either side counts as ``inf``: a NaN is never a match.

    Example:
    >>> max_abs_diff([1.0, 2.0], [1.0, 2.5])
    0.5
    >>> max_abs_diff([1.0], [1.0, 2.0]), max_abs_diff([float("nan")], [0.0])
    (inf, inf)
    """
    got, want = np.asarray(got, dtype="float64"), np.asarray(want, dtype="float64")
    if got.shape != want.shape:
        return float("inf")
    if got.size == 0:
        return 0.0
    return float(np.nan_to_num(np.max(np.abs(got - want)), nan=np.inf))


def largest_diff(got: list[Any], want: list[Any]) -> float:
    """The largest `max_abs_diff` between two lists of arrays; ``inf`` if lengths differ.

    Example:
    >>> largest_diff([[1.0], [2.0]], [[1.0], [2.25]])
    0.25
    """
    if len(got) != len(want):
        return float("inf")
    return max((max_abs_diff(a, b) for a, b in zip(got, want, strict=True)), default=0.0)
