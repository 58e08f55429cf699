"""The Reuters newswire topics data set, exactly as ``keras.datasets.reuters`` gives it.

11,228 newswires, each a list of word ids (frequency rank plus ``index_from``), labelled
with one of 46 topics. :func:`load_data` follows keras/src/datasets/reuters.py
(Apache 2.0): one ``RandomState(seed)`` shuffle of all wires, then the first
``1 - test_split`` of them for training.

Example:
    >>> get_label_names()[:4]
    ('cocoa', 'grain', 'veg-oil', 'earn')
    >>> decode([1, 5, 4], word_index={"said": 2, "the": 1})
    '? said the'
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from anykeras.data import _files
from anykeras.data.imdb import decode as _decode
from anykeras.data.imdb import keras_sequences

NPZ = _files.DataFile(
    filename="reuters.npz",
    subdir="reuters",
    keras_hash="d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916",
    known_sha256=frozenset(
        {
            # Keras's download (the file_hash in keras/src/datasets/reuters.py).
            "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916",
            # The reconstruction in the shared data folder (reuters/README.txt).
            "8c1255c498914fa00e37f1820ec96e290f5a247b63a858ac7b24ca809504e13a",
        }
    ),
)
WORD_INDEX = _files.DataFile(
    filename="reuters_word_index.json",
    subdir="reuters",
    keras_hash="4d44cc38712099c9e383dc6e5f11a921",  # md5, as Keras checks it
)

# The 46 topics, in label order (keras.datasets.reuters.get_label_names()).
LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing",
    "money-supply", "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass",
    "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum",
    "oilseed", "gold", "tin", "strategic-metal", "livestock", "retail", "ipi", "iron-steel",
    "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem",
    "dlr", "gas", "silver", "wpi", "hog", "lead",
)  # fmt: skip


def load_data(
    path: str | os.PathLike[str] | None = None,
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    test_split: float = 0.2,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Reuters as ``keras.datasets.reuters.load_data`` does, from a local copy if any.

    Args:
        path: An explicit ``reuters.npz`` file. ``None`` looks in ``$ANYKERAS_DATA_DIR``,
            in Keras's cache, then downloads.
        num_words: Keep ids below ``num_words``; others become ``oov_char``. ``None`` (or 0)
            means the largest id present, which Keras also maps to ``oov_char``.
        skip_top: Ids below ``skip_top`` (start character included) become ``oov_char``.
        maxlen: Drop wires whose length (with start character) is ``>= maxlen``.
        test_split: Fraction of the (shuffled) wires kept for testing, in ``[0, 1)``.
        seed: Seed of the ``RandomState`` that shuffles the wires.
        start_char: Id put at the start of every wire; ``None`` for none.
        oov_char: Id that replaces cut-off words; ``None`` drops them instead.
        index_from: Offset added to every word rank.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x_*`` are 1-D object arrays of lists of
        ``int``, ``y_*`` int64 topic ids in ``[0, 46)``.

    Raises:
        DataNotFoundError: No copy of ``reuters.npz`` was found and none could be downloaded.
        UntrustedFileError: The file's sha256 is not a known one (it is not unpickled).
        ValueError: ``test_split`` is outside ``[0, 1)``, or ``maxlen`` keeps no wire.

    Example:
        With the data available, ``load_data(num_words=10000)`` gives 8,982 training and
        2,246 test wires, ``y_train[0] == 3`` ("earn")::

            (x_train, y_train), (x_test, y_test) = load_data(num_words=10000)
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"expected test_split in [0, 1), received {test_split!r}")
    arrays = _files.load_npz(_files.locate(NPZ, path), NPZ, ("x", "y"))
    indices = np.arange(len(arrays["x"]))
    np.random.RandomState(seed).shuffle(indices)
    [(xs, labels)] = keras_sequences(
        [(arrays["x"][indices], arrays["y"][indices])],
        num_words=num_words,
        skip_top=skip_top,
        maxlen=maxlen,
        start_char=start_char,
        oov_char=oov_char,
        index_from=index_from,
    )
    split = int(len(xs) * (1 - test_split))
    return (xs[:split], labels[:split]), (xs[split:], labels[split:])


def get_word_index(path: str | os.PathLike[str] | None = None) -> dict[str, int]:
    """The dict from word to frequency rank (1 = most frequent; ids are rank + 3).

    Args:
        path: An explicit ``reuters_word_index.json``; ``None`` searches as
            :func:`load_data`.

    Returns:
        A new dict (30,979 words for the shared copy).

    Example:
        With the data available, ``get_word_index()["the"]`` is 1.
    """
    return _files.load_word_index(_files.locate(WORD_INDEX, path))


def get_label_names() -> tuple[str, ...]:
    """The 46 topic names, indexed by label (as ``keras.datasets.reuters``).

    Returns:
        A tuple of 46 strings.

    Example:
        >>> len(get_label_names()), get_label_names()[3]
        (46, 'earn')
    """
    return LABEL_NAMES


def decode(
    sequence: Sequence[int] | np.ndarray,
    word_index: Mapping[str, int] | None = None,
    index_from: int = 3,
    unknown: str = "?",
) -> str:
    """Turn ids back into words (the book's Reuters listing); 0, 1, 2 show as ``?``.

    Args:
        sequence: Ids, e.g. ``x_train[0]``.
        word_index: Word -> rank; ``None`` reads :func:`get_word_index`.
        index_from: The offset the ids carry.
        unknown: The word shown for ids below ``index_from`` or not in the index.

    Returns:
        The words joined by spaces.

    Example:
        >>> decode([1, 4, 2], word_index={"the": 1})
        '? the ?'
    """
    if word_index is None:
        word_index = get_word_index()
    return _decode(sequence, word_index=word_index, index_from=index_from, unknown=unknown)
