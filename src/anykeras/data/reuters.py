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

from anykeras.data import _checks, _files, _reading, sequences

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

    Options are checked as ``anykeras.data.imdb.load_data`` checks them (Keras takes
    ``num_words=-5`` silently; this raises ``ValueError``), and ``test_split`` must be a
    number in ``[0, 1)``.

    Args:
        path: An explicit ``reuters.npz`` file. ``None`` looks in ``$ANYKERAS_DATA_DIR``,
            in Keras's cache, then downloads.
        num_words: Keep ids below ``num_words``; others become ``oov_char``. ``None`` (or 0)
            means the largest id present, which Keras also maps to ``oov_char``.
        skip_top: Ids below ``skip_top`` (start character included) become ``oov_char``.
        maxlen: Drop wires whose length (with start character) is ``>= maxlen``;
            ``None`` (or 0) keeps every wire.
        test_split: Fraction of the (shuffled) wires kept for testing, in ``[0, 1)``.
        seed: Seed of the ``RandomState`` that shuffles the wires.
        start_char: Id put at the start of every wire; ``None`` for none.
        oov_char: Id that replaces cut-off words; ``None`` drops them instead.
        index_from: Offset added to every word rank.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x_*`` are 1-D object arrays of lists of
        ``int``, ``y_*`` int64 topic ids in ``[0, 46)``.

    Raises:
        ValueError: An option is invalid (see above), ``test_split`` is outside
            ``[0, 1)``, or ``maxlen`` keeps no wire in train or test.
        DataNotFoundError: No copy of ``reuters.npz`` was found and none could be downloaded.
        UntrustedFileError: The file's sha256 is not a known one (a different or damaged
            copy); it is not unpickled.
        DataFileError: The file lacks an array or holds the wrong kind of arrays.

    Example:
        With the data available, ``load_data(num_words=10000)`` gives 8,982 training and
        2,246 test wires, ``y_train[0] == 3`` ("earn")::

            (x_train, y_train), (x_test, y_test) = load_data(num_words=10000)
    """
    options = sequences.check_options(
        num_words=num_words,
        skip_top=skip_top,
        maxlen=maxlen,
        start_char=start_char,
        oov_char=oov_char,
        index_from=index_from,
    )
    test_split = _checks.check_test_split(test_split)
    rng = np.random.RandomState(_checks.check_seed(seed))
    npz = _checks.NpzArrays.read(NPZ, ("x", "y"), path)
    _, labels = npz.pair("x", "y", kind="sequences", num_classes=len(LABEL_NAMES))
    flat, lengths = npz.sequences("x")
    indices = np.arange(len(lengths))
    rng.shuffle(indices)
    parts = [(*sequences.take(flat, lengths, indices), labels[indices])]
    [(xs, labels)] = sequences.keras_steps(parts, **options)
    split = int(len(xs) * (1 - test_split))
    return (xs[:split], labels[:split]), (xs[split:], labels[split:])


def get_word_index(path: str | os.PathLike[str] | None = None) -> dict[str, int]:
    """The dict from word to frequency rank (1 = most frequent; ids are rank + 3).

    Args:
        path: An explicit ``reuters_word_index.json``; ``None`` searches as
            :func:`load_data`.

    Returns:
        A new dict (30,979 words for the shared copy).

    Raises:
        DataNotFoundError: No copy was found and none could be downloaded.
        DataFileError: The file is not a JSON object of words to integer ranks.

    Example:
        With the data available, ``get_word_index()["the"]`` is 1.
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
    sequence: Sequence[int] | np.ndarray,
    word_index: Mapping[str, int] | None = None,
    index_from: int = 3,
    unknown: str = "?",
) -> str:
    """Turn ids back into words (the book's Reuters listing); 0, 1, 2 show as ``?``.

    Args:
        sequence: Ids, e.g. ``x_train[0]``.
        word_index: Word -> rank; ``None`` reads :func:`get_word_index` (cached).
        index_from: The offset the ids carry.
        unknown: The word shown for ids below ``index_from`` or not in the index.

    Returns:
        The words joined by spaces.

    Raises:
        TypeError: ``word_index`` is not a mapping.
        ValueError: An id is not an integer, or ``index_from`` is not an integer ``>= 0``.

    Example:
        >>> decode([1, 4, 2], word_index={"the": 1})
        '? the ?'
    """
    if word_index is None:
        words = _reading.cached_word_index(WORD_INDEX)[1]
    else:
        words = sequences.reverse_index(word_index)
    return sequences.decode(sequence, words, index_from=index_from, unknown=unknown)
