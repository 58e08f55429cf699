"""The IMDB movie-review sentiment data set, exactly as ``keras.datasets.imdb`` gives it.

25,000 training and 25,000 test reviews, each a list of word ids (a word's frequency rank
plus ``index_from``), labelled 1 (positive) or 0 (negative). :func:`load_data` follows
keras/src/datasets/imdb.py (Apache 2.0): same arrays, dtypes and order, computed with
vectorised NumPy. :func:`encode` turns a new review's text into the same ids, tokenised the
way the data set was built; :func:`decode` turns ids back into words (the book's
Listing 4.2).

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

import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from anykeras.data import _files
from anykeras.data.encoding import flatten, unflatten

NPZ = _files.DataFile(
    filename="imdb.npz",
    subdir="imdb",
    keras_hash="69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
    known_sha256=frozenset(
        {
            # Keras's download (the file_hash in keras/src/datasets/imdb.py).
            "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
            # The reconstruction in the shared data folder (imdb/README.txt).
            "6814c0beea01878740d178d45caaf84fa878f5f452bd5f6bb6b5e3add8655f32",
        }
    ),
)
WORD_INDEX = _files.DataFile(
    filename="imdb_word_index.json",
    subdir="imdb",
    keras_hash="bfafd718b763782e994055a2d397834f",  # md5, as Keras checks it
)

# How the data set was tokenised (Keras's old Tokenizer on Python 2 byte strings): ASCII
# letters lowercased, these characters turned into spaces, split on ASCII whitespace.
TOKENIZER_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
_TOKEN_TABLE = str.maketrans(
    {
        **dict.fromkeys(TOKENIZER_FILTERS + "\r\x0b\x0c", " "),
        **{chr(code): chr(code + 32) for code in range(ord("A"), ord("Z") + 1)},
    }
)

PathLike = str | os.PathLike[str]


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

    Args:
        path: An explicit ``imdb.npz`` file. ``None`` looks in ``$ANYKERAS_DATA_DIR``, in
            Keras's cache, then downloads.
        num_words: Keep ids below ``num_words``; others become ``oov_char``. ``None`` (or 0)
            means the largest id present, which Keras also maps to ``oov_char``.
        skip_top: Ids below ``skip_top`` (start character included) become ``oov_char``.
        maxlen: Drop reviews whose length (with start character) is ``>= maxlen``.
        seed: Seed of the ``RandomState`` that shuffles train, then test.
        start_char: Id put at the start of every review; ``None`` for none.
        oov_char: Id that replaces cut-off words; ``None`` drops them instead.
        index_from: Offset added to every word rank.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x_*`` are 1-D object arrays of lists of
        ``int``, ``y_*`` int64 arrays of 0/1 labels.

    Raises:
        DataNotFoundError: No copy of ``imdb.npz`` was found and it could not be downloaded.
        UntrustedFileError: The file's sha256 is not a known one (it is not unpickled).
        ValueError: ``maxlen`` leaves no review in train or test.

    Example:
        With ``ANYKERAS_DATA_DIR`` set to the shared data folder (or ``imdb.npz`` in
        ``~/.keras/datasets``), ``load_data(num_words=10000)`` gives 25,000 training
        reviews whose first one has 218 ids and label 1::

            (x_train, y_train), (x_test, y_test) = load_data(num_words=10000)
    """
    arrays = _files.load_npz(
        _files.locate(NPZ, path), NPZ, ("x_train", "y_train", "x_test", "y_test")
    )
    rng = np.random.RandomState(seed)
    parts = []
    for split in ("train", "test"):
        indices = np.arange(len(arrays[f"x_{split}"]))
        rng.shuffle(indices)
        parts.append((arrays[f"x_{split}"][indices], arrays[f"y_{split}"][indices]))
    (x_train, y_train), (x_test, y_test) = keras_sequences(
        parts,
        num_words=num_words,
        skip_top=skip_top,
        maxlen=maxlen,
        start_char=start_char,
        oov_char=oov_char,
        index_from=index_from,
    )
    return (x_train, y_train), (x_test, y_test)


def keras_sequences(
    parts: Sequence[tuple[np.ndarray, np.ndarray]],
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

    Args:
        parts: ``(raw word-rank sequences, labels)`` pairs, e.g. train and test.
        num_words: See :func:`load_data`.
        skip_top: See :func:`load_data`.
        maxlen: See :func:`load_data`.
        start_char: See :func:`load_data`.
        oov_char: See :func:`load_data`.
        index_from: See :func:`load_data`.

    Returns:
        One ``(x, y)`` per part: ``x`` an object array of ``int`` lists.

    Raises:
        ValueError: ``maxlen`` leaves a part without sequences.
    """
    ragged = []
    for sequences, part_labels in parts:
        labels = np.asarray(part_labels)
        flat, lengths = flatten(sequences)
        flat = flat + index_from
        if start_char is not None:
            flat = np.insert(flat, np.cumsum(lengths) - lengths, start_char)
            lengths = lengths + 1
        if maxlen:
            keep = lengths < maxlen
            flat, lengths, labels = flat[np.repeat(keep, lengths)], lengths[keep], labels[keep]
            if not len(lengths):
                raise ValueError(
                    f"After filtering for sequences shorter than maxlen={maxlen}, no sequence "
                    "was kept. Increase maxlen."
                )
        ragged.append((flat, lengths, labels))

    if not num_words:
        num_words = max(int(flat.max()) for flat, _, _ in ragged if flat.size)
    return [
        (_cut_vocabulary(flat, lengths, skip_top, num_words, oov_char), labels)
        for flat, lengths, labels in ragged
    ]


def _cut_vocabulary(
    flat: np.ndarray, lengths: np.ndarray, skip_top: int, num_words: int, oov_char: int | None
) -> np.ndarray:
    """Map ids outside ``[skip_top, num_words)`` to ``oov_char`` (drop them if ``None``)."""
    kept = (flat >= skip_top) & (flat < num_words)
    if oov_char is not None:
        return unflatten(np.where(kept, flat, oov_char), lengths)
    rows = np.repeat(np.arange(len(lengths)), lengths)
    return unflatten(flat[kept], np.bincount(rows[kept], minlength=len(lengths)))


def get_word_index(path: PathLike | None = None) -> dict[str, int]:
    """The dict from word to frequency rank (1 = most frequent; ids are rank + 3).

    Args:
        path: An explicit ``imdb_word_index.json``; ``None`` searches as :func:`load_data`.

    Returns:
        A new dict of 88,584 words for Keras's file.

    Example:
        With the data available, ``get_word_index()["the"]`` is 1.
    """
    return _files.load_word_index(_files.locate(WORD_INDEX, path))


def tokenize(text: str | bytes) -> list[str]:
    """Split a raw review into words the way the IMDB data set was built.

    ASCII letters are lowercased (other letters are kept as they are), Keras Tokenizer's
    filter characters (``TOKENIZER_FILTERS``, which include ``<``, ``/`` and ``>``, so
    ``<br />`` gives the word ``br``) become spaces, and the text is split on ASCII
    whitespace.

    Args:
        text: The review; bytes are decoded as UTF-8.

    Returns:
        The words, in order.

    Example:
        >>> tokenize("Great film!<br />Ça va, 10/10")
        ['great', 'film', 'br', 'Ça', 'va', '10', '10']
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return [word for word in text.translate(_TOKEN_TABLE).split(" ") if word]


def encode(
    text: str | bytes,
    num_words: int | None = 10000,
    word_index: Mapping[str, int] | None = None,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
) -> list[int]:
    """Turn a new review into the ids ``load_data(num_words=num_words)`` would give it.

    Words missing from the word index are dropped (the data set was built that way);
    ids ``>= num_words`` become ``oov_char`` (dropped if ``oov_char`` is ``None``).

    Args:
        text: The raw review (HTML ``<br />`` tags and punctuation included).
        num_words: The vocabulary size the model was trained with; ``None`` keeps every id.
        word_index: Word -> rank; ``None`` reads :func:`get_word_index` (cached).
        start_char: Id put first; ``None`` for none.
        oov_char: Id for words ranked beyond ``num_words``.
        index_from: Offset added to every rank.

    Returns:
        The list of ids.

    Example:
        >>> encode("The film, the END.", num_words=6, word_index={"the": 1, "film": 5, "end": 9})
        [1, 4, 2, 4, 2]
    """
    index = _cached_word_index() if word_index is None else word_index
    ids = [index[word] + index_from for word in tokenize(text) if word in index]
    if num_words:
        if oov_char is None:
            ids = [i for i in ids if i < num_words]
        else:
            ids = [i if i < num_words else oov_char for i in ids]
    return ([] if start_char is None else [start_char]) + ids


def decode(
    sequence: Sequence[int] | np.ndarray,
    word_index: Mapping[str, int] | None = None,
    index_from: int = 3,
    unknown: str = "?",
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

    Example:
        >>> decode([1, 14, 2, 5], word_index={"this": 11, "is": 2})
        '? this ? is'
    """
    if word_index is None:
        reverse = _cached_reverse_index()
    else:
        reverse = {rank: word for word, rank in word_index.items()}
    return " ".join(reverse.get(int(i) - index_from, unknown) for i in sequence)


def _cached_word_index() -> Mapping[str, int]:
    path = _files.locate(WORD_INDEX)
    return _read_cached(str(path), path.stat().st_mtime_ns)


def _cached_reverse_index() -> Mapping[int, str]:
    path = _files.locate(WORD_INDEX)
    return _reverse_cached(str(path), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=2)
def _read_cached(path: str, mtime_ns: int) -> dict[str, int]:
    del mtime_ns  # part of the cache key only
    return _files.load_word_index(Path(path))


@functools.lru_cache(maxsize=2)
def _reverse_cached(path: str, mtime_ns: int) -> dict[int, str]:
    return {rank: word for word, rank in _read_cached(path, mtime_ns).items()}
