"""Turn word-id sequences and labels into arrays a model takes, with vectorised NumPy.

The book's Listing 4.3 fills a multi-hot matrix with a Python double loop;
:func:`multi_hot` builds the same matrix with one fancy-indexed assignment.
``Standardizer`` and ``standardize`` (in ``anykeras.data.features``) and ``flatten`` and
``unflatten`` (in ``anykeras.data.sequences``) are re-exported here.

Example:
    >>> import numpy as np
    >>> multi_hot([[1, 3], [2, 2, 0]], num_tokens=4)
    array([[0., 1., 0., 1.],
           [1., 0., 1., 0.]], dtype=float32)
    >>> one_hot(np.array([2, 0]), num_classes=3)
    array([[0., 0., 1.],
           [1., 0., 0.]], dtype=float32)
    >>> pad([[1, 5, 7], [1, 4]])
    array([[1, 5, 7],
           [1, 4, 0]], dtype=int32)
"""

from __future__ import annotations

import mmap
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from anykeras.data.features import Standardizer, standardize
from anykeras.data.sequences import flatten, unflatten
from anykeras.spec import check_int, is_int

__all__ = [
    "Standardizer",
    "check_labels",
    "flatten",
    "multi_hot",
    "one_hot",
    "pad",
    "standardize",
    "unflatten",
    "unique_ids",
]

_INT32 = np.iinfo(np.int32)


def multi_hot(
    sequences: Iterable[Sequence[int]], num_tokens: int, dtype: Any = "float32"
) -> np.ndarray:
    """A ``(len(sequences), num_tokens)`` matrix with 1 where a sequence holds that id.

    The vectorised form of the book's Listing 4.3 (``vectorize_sequences``): row ``i``
    has a 1 in column ``j`` when ``j`` occurs in ``sequences[i]``, 0 elsewhere.

    Args:
        sequences: Sequences of integer ids in ``[0, num_tokens)``, e.g. ``x_train`` from
            ``imdb.load_data(num_words=num_tokens)``.
        num_tokens: The number of columns (the vocabulary size).
        dtype: The result's dtype.

    Returns:
        The multi-hot matrix.

    Raises:
        ValueError: An id is negative or not below ``num_tokens``, or ``num_tokens < 1``.

    Example:
        >>> multi_hot([[0, 2], [1]], num_tokens=3, dtype="int8")
        array([[1, 0, 1],
               [0, 1, 0]], dtype=int8)
    """
    num_tokens = check_int("num_tokens", num_tokens)
    flat, lengths = flatten(sequences)
    _check_ids(flat, num_tokens, hint="load the data with num_words=num_tokens")
    shape, dtype = (len(lengths), num_tokens), np.dtype(dtype)
    size = shape[0] * shape[1] * dtype.itemsize
    if size >= 1 << 26 and not dtype.hasobject and hasattr(mmap, "MADV_NOHUGEPAGE"):
        # Fresh anonymous memory reads as zeros, as np.zeros's does. But NumPy asks the
        # kernel for huge pages on big arrays, and where memory is fragmented (Linux's
        # default THP "defrag=madvise") the kernel then compacts memory on first touch:
        # 5-10 s per GB on the bench's machine, against about 1 s with small pages. A
        # multi-hot matrix touches nearly every page once, so it takes small pages.
        memory = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        memory.madvise(mmap.MADV_NOHUGEPAGE)
        out = np.frombuffer(memory, dtype=dtype).reshape(shape)
    else:
        out = np.zeros(shape, dtype=dtype)
    # One index per id into the flat matrix: row * num_tokens + id.
    where = np.repeat(np.arange(shape[0], dtype=np.int64) * num_tokens, lengths)
    out.reshape(-1)[where + flat] = 1
    return out


def check_labels(name: str, labels: Any, num_classes: int | None = None) -> np.ndarray:
    """``labels`` as an array if they are 1-D integer class ids (below ``num_classes``).

    The one labels check of the package: the loaders check each file's labels with it
    (``num_classes`` where the data set fixes it), and :func:`one_hot` checks its input.

    Args:
        name: What the labels are called in errors (``"y_train"``).
        labels: The labels.
        num_classes: The number of classes; ``None`` only requires labels ``>= 0``.

    Returns:
        ``np.asarray(labels)``, dtype unchanged.

    Raises:
        ValueError: ``labels`` is not 1-D, not integers, or holds an id out of range.

    Example:
        >>> check_labels("y_train", [0, 1, 9], num_classes=10).tolist()
        [0, 1, 9]
        >>> check_labels("y_train", [0, 12], num_classes=10)
        Traceback (most recent call last):
        ...
        ValueError: y_train must be class ids in [0, 10). Received: y_train[1]=12
    """
    array = np.asarray(labels)
    if array.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array of integer class ids. Received: {name}.shape={array.shape}"
        )
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"{name} must hold integer class ids. Received: {name}.dtype={array.dtype}"
        )
    if num_classes is None:
        expected, outside = "class ids >= 0", array < 0
    else:
        num_classes = check_int("num_classes", num_classes)
        expected, outside = f"class ids in [0, {num_classes})", (array < 0) | (array >= num_classes)
    if outside.any():
        first = int(np.argmax(outside))
        raise ValueError(f"{name} must be {expected}. Received: {name}[{first}]={array[first]}")
    return array


def one_hot(
    labels: Sequence[int] | np.ndarray, num_classes: int, dtype: Any = "float32"
) -> np.ndarray:
    """A ``(len(labels), num_classes)`` matrix with a single 1 per row, at the label.

    Args:
        labels: A 1-D sequence of integer class ids in ``[0, num_classes)``.
        num_classes: The number of classes (46 for Reuters, 10 for MNIST).
        dtype: The result's dtype.

    Returns:
        The one-hot matrix (like ``keras.utils.to_categorical``).

    Raises:
        ValueError: ``labels`` is not 1-D integers, or a label is out of range.

    Example:
        >>> one_hot([1, 0], num_classes=2, dtype="int32")
        array([[0, 1],
               [1, 0]], dtype=int32)
    """
    num_classes = check_int("num_classes", num_classes)
    array = check_labels("labels", labels, num_classes).astype(np.int64)
    out = np.zeros((len(array), num_classes), dtype=dtype)
    out[np.arange(len(array)), array] = 1
    return out


def pad(
    sequences: Iterable[Sequence[int]], maxlen: int | None = None, pad_id: int = 0
) -> np.ndarray:
    """Right-pad (and cut) ragged sequences to a ``(len(sequences), maxlen)`` int32 array.

    Unlike ``keras.utils.pad_sequences`` (which pads and cuts at the front by default),
    this keeps each sequence's first ``maxlen`` ids and fills the rest with ``pad_id``,
    so the start character stays in column 0.

    Args:
        sequences: Sequences of integer ids.
        maxlen: Columns of the result; ``None`` means the longest sequence's length.
        pad_id: The id written after the end of a shorter sequence.

    Returns:
        An int32 array.

    Raises:
        ValueError: ``maxlen`` is negative, or an id or ``pad_id`` does not fit in int32.

    Example:
        >>> pad([[1, 2, 3, 4], [1]], maxlen=3, pad_id=-1)
        array([[ 1,  2,  3],
               [ 1, -1, -1]], dtype=int32)
    """
    maxlen = check_int("maxlen", maxlen, minimum=0, allow_none=True)
    if not is_int(pad_id) or not _INT32.min <= pad_id <= _INT32.max:
        raise ValueError(
            f"pad_id must be an integer that fits in int32. Received: pad_id={pad_id!r}"
        )
    flat, lengths = flatten(sequences)
    if flat.size and (flat.max() > _INT32.max or flat.min() < _INT32.min):
        bad = int(flat.max()) if flat.max() > _INT32.max else int(flat.min())
        raise ValueError(f"every id must fit in int32. Received an id of {bad}")
    if maxlen is None:
        maxlen = int(lengths.max()) if len(lengths) else 0
    out = np.full((len(lengths), maxlen), pad_id, dtype=np.int32)
    rows = np.repeat(np.arange(len(lengths)), lengths)
    columns = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    kept = columns < maxlen
    out[rows[kept], columns[kept]] = flat[kept]
    return out


def unique_ids(
    sequences: Iterable[Sequence[int]],
    num_tokens: int,
    maxlen: int | None = None,
    pad_id: int = 0,
) -> np.ndarray:
    """Each sequence's distinct ids, ascending, right-padded with ``pad_id`` (int32).

    The input `SparseDense` reads cheapest: no repeats (so the layer may skip its
    deduplication) and no more columns than the most distinct words in a review, often
    far fewer than the longest review. ``pad_id`` itself is dropped from every row,
    as the layer ignores it anyway.

    Args:
        sequences: Sequences of integer ids in ``[0, num_tokens)``, e.g. ``x_train`` from
            ``imdb.load_data(num_words=num_tokens)``, or a 2-D integer array.
        num_tokens: The vocabulary size; every id must be below it.
        maxlen: Columns of the result; ``None`` means the most distinct ids in a row.
            A row with more distinct ids than ``maxlen`` raises, as cutting it would
            change the multi-hot vector it stands for.
        pad_id: The id that fills short rows.

    Returns:
        An int32 array of shape ``(len(sequences), maxlen)``.

    Raises:
        ValueError: An id is negative or not below ``num_tokens``, or a row does not fit
            in ``maxlen``.

    Example:
        >>> unique_ids([[3, 1, 3], [], [2, 0]], num_tokens=4).tolist()
        [[1, 3], [0, 0], [2, 0]]
        >>> unique_ids([[3, 1, 3]], num_tokens=4, maxlen=3, pad_id=-1).tolist()
        [[1, 3, -1]]
    """
    num_tokens = check_int("num_tokens", num_tokens)
    maxlen = check_int("maxlen", maxlen, minimum=0, allow_none=True)
    flat, lengths = flatten(sequences)
    _check_ids(flat, num_tokens)
    rows = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    keys = np.sort(rows * num_tokens + flat)  # by row, then by id
    # (np.unique does the same, but its hash-based path is ten times slower here.)
    if keys.size:
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    rows, ids = np.divmod(keys, num_tokens)
    kept = ids != pad_id
    rows, ids = rows[kept], ids[kept]
    counts = np.bincount(rows, minlength=len(lengths))
    most = int(counts.max()) if len(counts) else 0
    if maxlen is None:
        maxlen = most
    elif maxlen < most:
        raise ValueError(
            f"maxlen must fit every row's distinct ids: a row has {most}. Received: maxlen={maxlen}"
        )
    out = np.full((len(lengths), maxlen), pad_id, dtype=np.int32)
    columns = np.arange(len(ids)) - np.repeat(np.cumsum(counts) - counts, counts)
    out[rows, columns] = ids
    return out


def _check_ids(ids: np.ndarray, num_tokens: int, hint: str = "") -> None:
    """A ValueError naming the first id out of ``[0, num_tokens)`` (smallest or largest)."""
    if ids.size == 0:
        return
    low, high = int(ids.min()), int(ids.max())
    expected = f"every id must be in [0, num_tokens={num_tokens})"
    if low < 0:
        raise ValueError(f"{expected}. Received an id of {low}")
    if high >= num_tokens:
        advice = f" ({hint}, or pass num_tokens={high + 1})" if hint else ""
        raise ValueError(f"{expected}. Received an id of {high}{advice}")
