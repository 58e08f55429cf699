"""Ragged word-id sequences: flatten and unflatten them, and Keras's IMDB/Reuters steps.

``keras.datasets.imdb`` and ``keras.datasets.reuters`` turn stored word ranks into ids
the same way: add ``index_from``, put ``start_char`` first, drop sequences of length
``>= maxlen``, then map ids outside ``[skip_top, num_words)`` to ``oov_char``.
:func:`keras_sequences` does those steps with vectorised NumPy on one flat array of ids;
both loaders and :func:`decode` share this module (no Keras import here).

Example:
    >>> x = unflatten(np.array([5, 6, 7]), np.array([2, 1]))
    >>> [(ids, y)] = keras_sequences([(x, np.array([1, 0]))], num_words=9, skip_top=0,
    ...     maxlen=None, start_char=1, oov_char=2, index_from=3)
    >>> ids.tolist(), y.tolist()
    ([[1, 8, 2], [1, 2]], [1, 0])
"""

from __future__ import annotations

import itertools
import reprlib
from collections.abc import Iterable, Mapping, Sequence, Sized
from typing import Any, NamedTuple

import numpy as np

from anykeras.spec import check_int, is_int

_SEQUENCES = "a list of lists, an object array of lists or a 2-D integer array of ids"


def flatten(
    sequences: Iterable[Sequence[int]], name: str = "sequences"
) -> tuple[np.ndarray, np.ndarray]:
    """All ids of ragged ``sequences`` in one int64 array, plus each sequence's length.

    Args:
        sequences: Sequences of integer ids (a list of lists, an object array of lists,
            or a 2-D integer array).
        name: What ``sequences`` is called in errors.

    Returns:
        ``(flat, lengths)``: ``flat`` has ``lengths.sum()`` ids, sequence after sequence.

    Raises:
        ValueError: An item is not a sequence, or an id is not an integer.

    Example:
        >>> flat, lengths = flatten([[4, 5], [], [6]])
        >>> flat.tolist(), lengths.tolist()
        ([4, 5, 6], [2, 0, 1])
        >>> flatten([[4, 5], [6.5]], name="x_train")
        Traceback (most recent call last):
        ...
        ValueError: x_train must hold integer ids only. Received: x_train[1][0]=6.5
    """
    if isinstance(sequences, np.ndarray) and sequences.dtype != object:
        if sequences.ndim != 2 or not np.issubdtype(sequences.dtype, np.integer):
            raise ValueError(
                f"{name} must be {_SEQUENCES}. "
                f"Received: {name}.shape={sequences.shape}, {name}.dtype={sequences.dtype}"
            )
        rows, cols = sequences.shape
        return sequences.astype(np.int64).reshape(-1), np.full(rows, cols, dtype=np.int64)
    sequences = list(sequences)
    not_sized = next((i for i, item in enumerate(sequences) if not isinstance(item, Sized)), None)
    if not_sized is not None:
        raise ValueError(
            f"{name} must be {_SEQUENCES}. "
            f"Received: {name}[{not_sized}]={reprlib.repr(sequences[not_sized])}"
        )
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
    items = list(itertools.chain.from_iterable(sequences))
    if not items:
        return np.zeros(0, dtype=np.int64), lengths
    try:
        flat = np.array(items)
    except (ValueError, TypeError):  # items nested deeper, unevenly
        flat = np.zeros(0, dtype=object)
    if flat.ndim != 1 or not np.issubdtype(flat.dtype, np.integer):
        bad = _first_bad(sequences, name)
        raise ValueError(f"{name} must hold integer ids only. Received: {bad}")
    return flat.astype(np.int64, copy=False), lengths


def _first_bad(sequences: list[Any], name: str) -> str:
    """``"name[i][j]=value"`` for the first id that is not an integer."""
    for i, sequence in enumerate(sequences):
        for j, value in enumerate(sequence):
            if not is_int(value):
                return f"{name}[{i}][{j}]={reprlib.repr(value)}"
    return "ids too large for int64"


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


def check_options(
    *,
    num_words: Any,
    skip_top: Any,
    maxlen: Any,
    start_char: Any,
    oov_char: Any,
    index_from: Any,
) -> dict[str, Any]:
    """Refuse what ``keras.datasets.imdb.load_data`` would take silently and get wrong.

    Keras accepts ``num_words=-5`` (every word becomes ``oov_char``), a negative
    ``index_from`` (negative ids) and non-integers; here each must be an integer
    ``>= 0``, and ``num_words``, ``maxlen``, ``start_char`` and ``oov_char`` may also be
    ``None``. As in Keras, ``num_words=0`` and ``maxlen=0`` mean "no limit".

    Returns:
        The options, by name (:class:`Options` holds them for :func:`keras_steps`).

    Raises:
        ValueError: One of them is not an integer ``>= 0`` (or ``None`` where allowed).

    Example:
        >>> check_options(num_words=-5, skip_top=0, maxlen=None, start_char=1, oov_char=2,
        ...     index_from=3)
        Traceback (most recent call last):
        ...
        ValueError: num_words must be None or an integer >= 0. Received: num_words=-5
    """
    for name, value in (("num_words", num_words), ("maxlen", maxlen)):
        check_int(name, value, minimum=0, allow_none=True)
    check_int("skip_top", skip_top, minimum=0)
    for name, value in (("start_char", start_char), ("oov_char", oov_char)):
        check_int(name, value, minimum=0, allow_none=True)
    check_int("index_from", index_from, minimum=0)
    options = {"num_words": num_words, "skip_top": skip_top, "maxlen": maxlen}
    return options | {"start_char": start_char, "oov_char": oov_char, "index_from": index_from}


class Options(NamedTuple):
    """Keras's IMDB/Reuters options, in ``load_data``'s order and with its defaults.

    See ``anykeras.data.imdb.load_data`` for what each one means.

    Example:
        >>> Options(10000, maxlen=200).checked().start_char
        1
    """

    num_words: int | None = None
    skip_top: int = 0
    maxlen: int | None = None
    start_char: int | None = 1
    oov_char: int | None = 2
    index_from: int = 3

    def checked(self) -> Options:
        """These options, once :func:`check_options` has found each one valid."""
        check_options(**self._asdict())
        return self


def keras_sequences(
    parts: Sequence[tuple[Iterable[Sequence[int]], Any]],
    *,
    num_words: int | None,
    skip_top: int,
    maxlen: int | None,
    start_char: int | None,
    oov_char: int | None,
    index_from: int,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Apply Keras's IMDB/Reuters steps to already shuffled ``(sequences, labels)`` parts.

    Follows keras/src/datasets/imdb.py (Apache 2.0), vectorised: add ``index_from``, put
    ``start_char`` first, drop sequences of length ``>= maxlen`` from every part (an error
    if a part is left empty), then map ids outside ``[skip_top, num_words)`` to
    ``oov_char`` (or drop them), where ``num_words`` defaults to the largest id of all parts.
    The options are :class:`Options`' fields.

    Args:
        parts: ``(raw word-rank sequences, labels)`` pairs, e.g. train and test.
        num_words: See ``anykeras.data.imdb.load_data``.
        skip_top: See ``anykeras.data.imdb.load_data``.
        maxlen: See ``anykeras.data.imdb.load_data``.
        start_char: See ``anykeras.data.imdb.load_data``.
        oov_char: See ``anykeras.data.imdb.load_data``.
        index_from: See ``anykeras.data.imdb.load_data``.

    Returns:
        One ``(x, y)`` per part: ``x`` an object array of ``int`` lists.

    Raises:
        ValueError: An option is invalid (:func:`check_options`), a sequence holds a
            non-integer, or ``maxlen`` leaves a part without sequences.
    """
    options = Options(num_words, skip_top, maxlen, start_char, oov_char, index_from).checked()
    flat_parts = [(*flatten(sequences), np.asarray(labels)) for sequences, labels in parts]
    return keras_steps(flat_parts, options)


def keras_steps(
    parts: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], options: Options
) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`keras_sequences` on parts already flattened: ``(flat, lengths, labels)``.

    The ``options`` are taken as checked (see :meth:`Options.checked`).
    """
    num_words, skip_top, maxlen, start_char, oov_char, index_from = options
    ragged = [_index_and_cut(*part, start_char, index_from, maxlen) for part in parts]
    if not num_words:
        num_words = max((int(flat.max()) for flat, _, _ in ragged if flat.size), default=0)
    return [
        (_cut_vocabulary(flat, lengths, skip_top, num_words, oov_char), labels)
        for flat, lengths, labels in ragged
    ]


def _index_and_cut(
    flat: np.ndarray,
    lengths: np.ndarray,
    labels: np.ndarray,
    start_char: int | None,
    index_from: int,
    maxlen: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Add ``index_from``, put ``start_char`` first, keep sequences shorter than ``maxlen``."""
    flat = flat + index_from
    if start_char is not None:
        flat = np.insert(flat, np.cumsum(lengths) - lengths, start_char)
        lengths = lengths + 1
    if maxlen:
        keep = lengths < maxlen
        flat, lengths, labels = flat[np.repeat(keep, lengths)], lengths[keep], labels[keep]
        if not len(lengths):
            raise ValueError(
                "maxlen must be more than the length of some sequence (start character "
                "included) of every split, or no sequence is kept; increase maxlen. "
                f"Received: maxlen={maxlen}"
            )
    return flat, lengths, labels


def take(flat: np.ndarray, lengths: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, ...]:
    """Rows ``indices`` (in that order) of the flattened ragged array ``(flat, lengths)``.

    Example:
        >>> flat, lengths = take(np.array([4, 5, 6]), np.array([2, 1]), np.array([1, 0]))
        >>> flat.tolist(), lengths.tolist()
        ([6, 4, 5], [1, 2])
    """
    starts = np.cumsum(lengths) - lengths
    taken = lengths[indices]
    shift = np.repeat(starts[indices] - (np.cumsum(taken) - taken), taken)
    return flat[shift + np.arange(shift.size)], taken


def _cut_vocabulary(
    flat: np.ndarray, lengths: np.ndarray, skip_top: int, num_words: int, oov_char: int | None
) -> np.ndarray:
    """Map ids outside ``[skip_top, num_words)`` to ``oov_char`` (drop them if ``None``)."""
    kept = (flat >= skip_top) & (flat < num_words)
    if oov_char is not None:
        return unflatten(np.where(kept, flat, oov_char), lengths)
    rows = np.repeat(np.arange(len(lengths)), lengths)
    return unflatten(flat[kept], np.bincount(rows[kept], minlength=len(lengths)))


def check_word_index(word_index: Any) -> Mapping[str, int]:
    """``word_index`` if it is a mapping (of words to ranks); else a TypeError.

    Example:
        >>> check_word_index(["the", "film"])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        TypeError: word_index must be a mapping of words to ranks, ... of type list
    """
    if not isinstance(word_index, Mapping):
        raise TypeError(
            "word_index must be a mapping of words to ranks, or None for the data set's own. "
            f"Received: word_index of type {type(word_index).__name__}"
        )
    return word_index


def reverse_index(word_index: Mapping[str, int]) -> dict[int, str]:
    """Rank -> word, from a word index (word -> rank).

    Raises:
        TypeError: ``word_index`` is not a mapping.

    Example:
        >>> reverse_index({"the": 1, "film": 2})
        {1: 'the', 2: 'film'}
    """
    return {rank: word for word, rank in check_word_index(word_index).items()}


def decode(
    sequence: Iterable[Any], words: Mapping[int, str], index_from: int = 3, unknown: str = "?"
) -> str:
    """The words of ``sequence``, looked up in ``words`` (rank -> word), joined by spaces.

    The public ``decode`` of ``anykeras.data.imdb`` and ``anykeras.data.reuters`` (the
    book's Listing 4.2) documents the options; ``words`` is :func:`reverse_index` of the
    word index.

    Raises:
        ValueError: ``index_from`` is not an integer ``>= 0``, or an id is not an integer.

    Example:
        >>> decode([1, 14, 2, 5], {11: "this", 2: "is"})
        '? this ? is'
    """
    index_from = check_int("index_from", index_from, minimum=0)
    ids = list(sequence)
    bad = next((i for i, value in enumerate(ids) if not is_int(value)), None)
    if bad is not None:
        raise ValueError(
            f"sequence must hold integer ids only. Received: sequence[{bad}]={ids[bad]!r}"
        )
    return " ".join(words.get(int(i) - index_from, unknown) for i in ids)
