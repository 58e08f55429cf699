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

import numpy as np

from anykeras.data import _checks, _reading, _wordsets, sequences
from anykeras.data._wordsets import Ids, WordIndex

NPZ, WORD_INDEX = _wordsets.data_files(
    "reuters",
    keras_sha256="d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916",
    shared_sha256="8c1255c498914fa00e37f1820ec96e290f5a247b63a858ac7b24ca809504e13a",
    word_index_md5="4d44cc38712099c9e383dc6e5f11a921",
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

    The options are ``anykeras.data.imdb.load_data``'s, checked the same way (Keras takes
    ``num_words=-5`` silently; this raises ``ValueError``), for newswires instead of
    reviews: ``path`` is an explicit ``reuters.npz``, ``maxlen`` drops long wires and
    ``seed`` shuffles all wires at once. ``test_split``, a number in ``[0, 1)``, is the
    fraction of the shuffled wires kept for testing (the last ones).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x_*`` are 1-D object arrays of lists of
        ``int``, ``y_*`` int64 topic ids in ``[0, 46)``.

    Raises:
        ValueError: An option is invalid, ``test_split`` is outside ``[0, 1)``, or
            ``maxlen`` keeps no wire in train or test.
        DataNotFoundError: See ``anykeras.data.imdb.load_data`` for this error and the
            others about the file (``UntrustedFileError``, ``DataFileError``).

    Example:
        With the data available, ``load_data(num_words=10000)`` gives 8,982 training and
        2,246 test wires, ``y_train[0] == 3`` ("earn")::

            (x_train, y_train), (x_test, y_test) = load_data(num_words=10000)
    """
    options = sequences.Options(
        num_words, skip_top, maxlen, start_char, oov_char, index_from
    ).checked()
    test_split = _checks.check_test_split(test_split)
    [(xs, labels)] = _wordsets.load(NPZ, path, [("x", "y")], len(LABEL_NAMES), seed, options)
    split = int(len(xs) * (1 - test_split))
    return (xs[:split], labels[:split]), (xs[split:], labels[split:])


def get_word_index(path: str | os.PathLike[str] | None = None) -> dict[str, int]:
    """The dict from word to frequency rank, as ``anykeras.data.imdb.get_word_index``.

    ``path`` is an explicit ``reuters_word_index.json``; ``None`` searches as
    :func:`load_data`. The shared copy has 30,979 words.
    """
    return _reading.word_index(WORD_INDEX, path)


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
    sequence: Ids, word_index: WordIndex | None = None, index_from: int = 3, unknown: str = "?"
) -> str:
    """Turn ids back into words (the book's Reuters listing); 0, 1, 2 show as ``?``.

    The options are ``anykeras.data.imdb.decode``'s; ``word_index`` defaults to
    Reuters's own (:func:`get_word_index`, cached).

    Example:
        >>> decode([1, 4, 2], word_index={"the": 1})
        '? the ?'
    """
    return _wordsets.decode(WORD_INDEX, sequence, word_index, index_from, unknown)
