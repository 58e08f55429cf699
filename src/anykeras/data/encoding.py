"""Turn word-id sequences and labels into arrays a model takes, with vectorised NumPy.

The book's Listing 4.3 fills a multi-hot matrix with a Python double loop;
:func:`multi_hot` builds the same matrix with one fancy-indexed assignment.

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

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

_INT32_MAX = np.iinfo(np.int32).max


def flatten(sequences: Iterable[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """All ids of ragged ``sequences`` in one int64 array, plus each sequence's length.

    Args:
        sequences: Sequences of integer ids (a list of lists, an object array of lists,
            or a 2-D integer array).

    Returns:
        ``(flat, lengths)``: ``flat`` has ``lengths.sum()`` ids, sequence after sequence.

    Raises:
        ValueError: An element is not an integer.

    Example:
        >>> flat, lengths = flatten([[4, 5], [], [6]])
        >>> flat.tolist(), lengths.tolist()
        ([4, 5, 6], [2, 0, 1])
    """
    if isinstance(sequences, np.ndarray) and sequences.dtype != object:
        if sequences.ndim != 2 or not np.issubdtype(sequences.dtype, np.integer):
            raise ValueError(
                "expected sequences of integer ids (a list of lists, an object array or a "
                f"2-D integer array), received an array of shape {sequences.shape} and "
                f"dtype {sequences.dtype}"
            )
        rows, cols = sequences.shape
        return sequences.astype(np.int64).reshape(-1), np.full(rows, cols, dtype=np.int64)
    sequences = list(sequences)
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
    flat = np.array(list(itertools.chain.from_iterable(sequences)))
    if flat.size == 0:
        return np.zeros(0, dtype=np.int64), lengths
    if flat.ndim != 1 or not np.issubdtype(flat.dtype, np.integer):
        raise ValueError(
            "expected sequences of integer ids, received items that make an array of "
            f"dtype {flat.dtype} and shape {flat.shape} (first item: {flat.flat[0]!r})"
        )
    return flat.astype(np.int64, copy=False), lengths


def unflatten(flat: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The inverse of :func:`flatten`: a 1-D object array of Python ``int`` lists.

    Args:
        flat: All ids, sequence after sequence.
        lengths: The length of each sequence.

    Returns:
        An object array of shape ``(len(lengths),)`` whose items are lists of ``int``
        (the format of ``keras.datasets.imdb.load_data``).

    Example:
        >>> unflatten(np.array([4, 5, 6]), np.array([2, 0, 1]))
        array([list([4, 5]), list([]), list([6])], dtype=object)
    """
    values = np.asarray(flat).tolist()
    ends = np.cumsum(lengths).tolist()
    out = np.empty(len(ends), dtype=object)
    start = 0
    for row, end in enumerate(ends):
        out[row] = values[start:end]
        start = end
    return out


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
    num_tokens = _positive_int(num_tokens, "num_tokens")
    flat, lengths = flatten(sequences)
    _check_ids(flat, num_tokens, "num_tokens", "load the data with num_words=num_tokens")
    out = np.zeros((len(lengths), num_tokens), dtype=dtype)
    rows = np.repeat(np.arange(len(lengths)), lengths)
    out[rows, flat] = 1
    return out


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
    num_classes = _positive_int(num_classes, "num_classes")
    array = np.asarray(labels)
    if array.ndim != 1 or not (np.issubdtype(array.dtype, np.integer) or array.size == 0):
        raise ValueError(
            "expected a 1-D array of integer labels, received shape "
            f"{array.shape} and dtype {array.dtype}"
        )
    array = array.astype(np.int64)
    _check_ids(array, num_classes, "num_classes", "pass the number of classes")
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
        ValueError: ``maxlen`` is negative, or an id does not fit in int32.

    Example:
        >>> pad([[1, 2, 3, 4], [1]], maxlen=3, pad_id=-1)
        array([[ 1,  2,  3],
               [ 1, -1, -1]], dtype=int32)
    """
    flat, lengths = flatten(sequences)
    if maxlen is None:
        maxlen = int(lengths.max()) if len(lengths) else 0
    if not isinstance(maxlen, (int, np.integer)) or isinstance(maxlen, bool) or maxlen < 0:
        raise ValueError(f"expected maxlen to be None or an int >= 0, received {maxlen!r}")
    for name, values in (("id", flat), ("pad_id", np.array([pad_id]))):
        if values.size and (values.max() > _INT32_MAX or values.min() < -_INT32_MAX - 1):
            raise ValueError(f"every {name} must fit in int32, received {values.max()}")
    out = np.full((len(lengths), maxlen), pad_id, dtype=np.int32)
    rows = np.repeat(np.arange(len(lengths)), lengths)
    columns = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    kept = columns < maxlen
    out[rows[kept], columns[kept]] = flat[kept]
    return out


class Standardizer:
    """Feature-wise standardisation with the training data's mean and std only.

    The book's housing normalisation: ``mean`` and ``std`` come from ``x_train`` and are
    applied, unchanged, to ``x_train`` and ``x_test``, so no test statistics leak in.
    A feature whose training std is 0 is only centred (divided by 1).

    Attributes:
        mean: Per-feature training mean (``None`` before :meth:`fit`).
        std: Per-feature training std (``None`` before :meth:`fit`).

    Example:
        >>> train = np.array([[1.0, 10.0], [3.0, 30.0]])
        >>> scaler = Standardizer().fit(train)
        >>> scaler.transform(train)
        array([[-1., -1.],
               [ 1.,  1.]])
        >>> scaler.transform(np.array([[5.0, 20.0]]))
        array([[3., 0.]])
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, x: np.ndarray) -> Standardizer:
        """Compute the per-feature mean and std over axis 0 of ``x``.

        Args:
            x: Training data, shape ``(samples, *features)`` with at least one sample.

        Returns:
            ``self``, fitted.

        Raises:
            ValueError: ``x`` has no samples or is not numeric.
        """
        x = self._as_float(x)
        if x.ndim < 1 or len(x) == 0:
            raise ValueError(
                f"expected training data with at least one sample, received shape {x.shape}"
            )
        self.mean = x.mean(axis=0)
        std = x.std(axis=0)
        self.std = np.where(std == 0, 1, std).astype(std.dtype)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Return ``(x - mean) / std`` with the fitted training statistics.

        Args:
            x: Data with the same feature shape as the training data.

        Returns:
            A new standardised float array (``x`` is not changed).

        Raises:
            RuntimeError: :meth:`fit` was not called.
            ValueError: ``x``'s feature shape differs from the training data's.
        """
        if self.mean is None or self.std is None:
            raise RuntimeError("this Standardizer is not fitted: call fit(x_train) first")
        x = self._as_float(x)
        if x.shape[1:] != self.mean.shape:
            raise ValueError(
                f"expected arrays of shape (samples, {', '.join(map(str, self.mean.shape))}) "
                f"like the training data, received shape {x.shape}"
            )
        return (x - self.mean) / self.std

    def fit_transform(self, x: np.ndarray) -> np.ndarray:
        """:meth:`fit` on ``x``, then :meth:`transform` it.

        Args:
            x: Training data.

        Returns:
            The standardised training data.
        """
        return self.fit(x).transform(x)

    @staticmethod
    def _as_float(x: np.ndarray) -> np.ndarray:
        array = np.asarray(x)
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            raise ValueError(f"expected numeric data, received dtype {array.dtype}")
        return array.astype(np.result_type(array.dtype, np.float32), copy=False)


def standardize(x_train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Standardise ``x_train`` and each of ``others`` with ``x_train``'s statistics only.

    Args:
        x_train: The training data the mean and std are computed from.
        *others: Further arrays (validation, test) to transform the same way.

    Returns:
        The standardised ``x_train`` followed by each of ``others``.

    Example:
        >>> train, test = standardize(np.array([[0.0], [2.0]]), np.array([[4.0]]))
        >>> train.ravel().tolist(), test.ravel().tolist()
        ([-1.0, 1.0], [3.0])
    """
    scaler = Standardizer().fit(x_train)
    return (scaler.transform(x_train), *(scaler.transform(x) for x in others))


def _positive_int(value: Any, name: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"expected {name} to be an int >= 1, received {value!r}")
    return int(value)


def _check_ids(ids: np.ndarray, limit: int, name: str, hint: str) -> None:
    if ids.size == 0:
        return
    low, high = int(ids.min()), int(ids.max())
    if low < 0:
        raise ValueError(f"expected ids >= 0, received {low}")
    if high >= limit:
        raise ValueError(
            f"expected ids below {name}={limit}, received an id of {high} "
            f"(the largest); {hint}, or use {name}={high + 1}"
        )
