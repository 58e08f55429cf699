"""The IMDB movie-review sentiment data set, exactly as ``keras.datasets.imdb`` gives it.

25,000 training and 25,000 test reviews, each a list of word ids (a word's frequency rank
plus ``index_from``), labelled 1 (positive) or 0 (negative). :func:`load_data` follows
keras/src/datasets/imdb.py (Apache 2.0): same arrays, dtypes and order, computed with
vectorised NumPy (the steps shared with Reuters are in ``anykeras.data.sequences``, the
reading in ``anykeras.data._wordsets``).
:func:`encode` turns a new review's text into the same ids, tokenised the way the data set
was built; :func:`decode` turns ids back into words (the book's Listing 4.2).

The files are found by ``anykeras.data._files.locate``: ``path=``, then
``$ANYKERAS_DATA_DIR/imdb/``, then ``~/.keras/datasets``, then Keras's download.

Example:
    >>> word_index = {"great": 1, "film": 2}
    >>> encode("A great film!<br /><br />Great.", num_words=None, word_index=word_index)
    [1, 4, 5, 4]
    >>> decode([1, 4, 5, 2], word_index=word_index)
    '? great film ?'
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping

import numpy as np

from anykeras.data import _reading, _wordsets, sequences
from anykeras.data._wordsets import Ids, PathLike, WordIndex
from anykeras.data.sequences import keras_sequences

__all__ = [
    "NPZ",
    "NUM_CLASSES",
    "TOKENIZER_FILTERS",
    "WORD_INDEX",
    "decode",
    "encode",
    "get_word_index",
    "keras_sequences",  # now in anykeras.data.sequences; kept here for old imports
    "load_data",
    "tokenize",
]

NPZ, WORD_INDEX = _wordsets.data_files(
    "imdb",
    keras_sha256="69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
    shared_sha256="6814c0beea01878740d178d45caaf84fa878f5f452bd5f6bb6b5e3add8655f32",
    word_index_md5="bfafd718b763782e994055a2d397834f",
)
NUM_CLASSES = 2  # 0 negative, 1 positive

# How the data set was tokenised (Keras's old Tokenizer on Python 2 byte strings): ASCII
# letters lowercased, these characters turned into spaces, split on ASCII whitespace.
TOKENIZER_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
_TOKEN_TABLE = str.maketrans(
    {
        **dict.fromkeys(TOKENIZER_FILTERS + "\r\x0b\x0c", " "),
        **{chr(code): chr(code + 32) for code in range(ord("A"), ord("Z") + 1)},
    }
)


def load_data(
    path: PathLike | None = None,
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load IMDB as ``keras.datasets.imdb.load_data`` does, from a local copy if there is one.

    Where Keras takes a bad value silently, this refuses it before reading the file:
    each option must be an integer ``>= 0`` (``num_words``, ``maxlen``, ``start_char`` and
    ``oov_char`` may be ``None``), so ``num_words=-5``, which Keras turns into reviews of
    nothing but ``oov_char``, is a ``ValueError``; ``seed`` must be in ``[0, 2**32)``.

    Args:
        path: An explicit ``imdb.npz`` file. ``None`` looks in ``$ANYKERAS_DATA_DIR``, in
            Keras's cache, then downloads.
        num_words: Keep ids below ``num_words``; others become ``oov_char``. ``None`` (or 0)
            means the largest id present, which Keras also maps to ``oov_char``.
        skip_top: Ids below ``skip_top`` (start character included) become ``oov_char``.
        maxlen: Drop reviews whose length (with start character) is ``>= maxlen``;
            ``None`` (or 0) keeps every review.
        seed: Seed of the ``RandomState`` that shuffles train, then test.
        start_char: Id put at the start of every review; ``None`` for none.
        oov_char: Id that replaces cut-off words; ``None`` drops them instead.
        index_from: Offset added to every word rank.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x_*`` are 1-D object arrays of lists of
        ``int``, ``y_*`` int64 arrays of 0/1 labels.

    Raises:
        ValueError: An option is invalid (see above), or ``maxlen`` leaves no review in
            train or test.
        DataNotFoundError: No copy of ``imdb.npz`` was found and it could not be downloaded.
        UntrustedFileError: The file's sha256 is not a known one (a different or damaged
            copy); it is not unpickled.
        DataFileError: The file lacks an array or holds the wrong kind of arrays.

    Example:
        With ``ANYKERAS_DATA_DIR`` set to the shared data folder (or ``imdb.npz`` in
        ``~/.keras/datasets``), ``load_data(num_words=10000)`` gives 25,000 training
        reviews whose first one has 218 ids and label 1::

            (x_train, y_train), (x_test, y_test) = load_data(num_words=10000)
    """
    options = sequences.Options(
        num_words, skip_top, maxlen, start_char, oov_char, index_from
    ).checked()
    splits = [("x_train", "y_train"), ("x_test", "y_test")]
    train, test = _wordsets.load(NPZ, path, splits, NUM_CLASSES, seed, options)
    return train, test


def get_word_index(path: PathLike | None = None) -> dict[str, int]:
    """The dict from word to frequency rank (1 = most frequent; ids are rank + 3).

    Args:
        path: An explicit ``imdb_word_index.json``; ``None`` searches as :func:`load_data`.

    Returns:
        A new dict of 88,584 words for Keras's file.

    Raises:
        DataNotFoundError: No copy was found and none could be downloaded.
        DataFileError: The file is not a JSON object of words to integer ranks.

    Example:
        With the data available, ``get_word_index()["the"]`` is 1.
    """
    return _reading.word_index(WORD_INDEX, path)


def tokenize(text: str | bytes) -> list[str]:
    """Split a raw review into words the way the IMDB data set was built.

    ASCII letters are lowercased (other letters are kept as they are), Keras Tokenizer's
    filter characters (``TOKENIZER_FILTERS``, which include ``<``, ``/`` and ``>``, so
    ``<br />`` gives the word ``br``) become spaces, and the text is split on ASCII
    whitespace.

    Args:
        text: The review; bytes are decoded as UTF-8.

    Returns:
        The words, in order (none for empty text, or text of spaces and punctuation only).

    Raises:
        TypeError: ``text`` is neither ``str`` nor ``bytes``.
        ValueError: ``text`` is bytes that are not UTF-8.

    Example:
        >>> tokenize("Great film!<br />Ça va, 10/10")
        ['great', 'film', 'br', 'Ça', 'va', '10', '10']
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"text must be UTF-8 when given as bytes. Received: text={reprlib.repr(text)} "
                f"({exc.reason} at byte {exc.start})"
            ) from None
    if not isinstance(text, str):
        raise TypeError(
            "text must be a str or bytes. "
            f"Received: text={reprlib.repr(text)} of type {type(text).__name__}"
        )
    return [word for word in text.translate(_TOKEN_TABLE).split(" ") if word]


def encode(
    text: str | bytes,
    num_words: int | None = 10000,
    word_index: WordIndex | None = None,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
) -> list[int]:
    """Turn a new review into the ids ``load_data(num_words=num_words)`` would give it.

    Words missing from the word index are dropped (the data set was built that way), so
    a review of unknown words only is just ``[start_char]``; ids ``>= num_words`` become
    ``oov_char`` (dropped if ``oov_char`` is ``None``). A text without a single word
    (empty, or only spaces and punctuation) is a ``ValueError``: it is not a review, and
    scoring it would score the start character alone.

    Args:
        text: The raw review (HTML ``<br />`` tags and punctuation included).
        num_words: The vocabulary size the model was trained with; ``None`` (or 0) keeps
            every id.
        word_index: Word -> rank; ``None`` reads :func:`get_word_index` (cached).
        start_char: Id put first; ``None`` for none.
        oov_char: Id for words ranked beyond ``num_words``.
        index_from: Offset added to every rank.

    Returns:
        The list of ids.

    Raises:
        TypeError: ``text`` is neither ``str`` nor ``bytes``, or ``word_index`` is not a
            mapping.
        ValueError: ``text`` has no word, or an option is not an integer ``>= 0`` (or
            ``None`` where allowed).

    Example:
        >>> encode("The film, the END.", num_words=6, word_index={"the": 1, "film": 5, "end": 9})
        [1, 4, 2, 4, 2]
        >>> encode("  ", word_index={})
        Traceback (most recent call last):
        ...
        ValueError: text must contain at least one word. Received: text='  '
    """
    sequences.Options(
        num_words=num_words, start_char=start_char, oov_char=oov_char, index_from=index_from
    ).checked()
    words = tokenize(text)
    if not words:
        raise ValueError(
            f"text must contain at least one word. Received: text={reprlib.repr(text)}"
        )
    index = _cached_index()[0] if word_index is None else sequences.check_word_index(word_index)
    ids = [index[word] + index_from for word in words if word in index]
    if num_words:
        if oov_char is None:
            ids = [i for i in ids if i < num_words]
        else:
            ids = [i if i < num_words else oov_char for i in ids]
    return ([] if start_char is None else [start_char]) + ids


def decode(
    sequence: Ids, word_index: WordIndex | None = None, index_from: int = 3, unknown: str = "?"
) -> str:
    """Turn ids back into words, as the book's Listing 4.2 does.

    Args:
        sequence: Ids, e.g. ``x_train[0]``.
        word_index: Word -> rank; ``None`` reads :func:`get_word_index` (cached).
        index_from: The offset the ids carry; ids below it (padding 0, start 1, OOV 2)
            and unknown ids become ``unknown``.
        unknown: The word shown for those ids.

    Returns:
        The words joined by spaces.

    Raises:
        TypeError: ``word_index`` is not a mapping.
        ValueError: An id is not an integer, or ``index_from`` is not an integer ``>= 0``.

    Example:
        >>> decode([1, 14, 2, 5], word_index={"this": 11, "is": 2})
        '? this ? is'
    """
    return _wordsets.decode(WORD_INDEX, sequence, word_index, index_from, unknown)


def _cached_index() -> tuple[Mapping[str, int], Mapping[int, str]]:
    return _reading.cached_word_index(WORD_INDEX)
