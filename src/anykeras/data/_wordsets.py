"""What the IMDB and Reuters loaders share: their two files, reading them, decoding ids.

Both data sets are an ``.npz`` of pickled word-rank lists and labels, plus a JSON word
index, named, hashed and turned into ids the same way by ``keras.datasets``; the public
``load_data``, ``get_word_index`` and ``decode`` of ``anykeras.data.imdb`` and
``anykeras.data.reuters`` call these with their own files.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from anykeras.data import _checks, _files, _reading, sequences

PathLike = str | os.PathLike[str]
Ids = Sequence[int] | np.ndarray
WordIndex = Mapping[str, int]
Split = tuple[np.ndarray, np.ndarray]


def data_files(
    name: str, keras_sha256: str, shared_sha256: str, word_index_md5: str
) -> tuple[_files.DataFile, _files.DataFile]:
    """The ``.npz`` of a word-id data set and its word index, as Keras names and hashes them.

    Args:
        name: The data set: files ``<name>.npz`` and ``<name>_word_index.json``, in
            ``$ANYKERAS_DATA_DIR/<name>/``.
        keras_sha256: The sha256 of Keras's download (the ``file_hash`` in
            keras/src/datasets/<name>.py); the ``.npz`` may be unpickled with it.
        shared_sha256: The sha256 of the reconstruction in the shared data folder
            (``<name>/README.txt``), which may be unpickled too.
        word_index_md5: The md5 Keras checks the downloaded word index against.

    Returns:
        ``(npz, word_index)``.

    Example:
        >>> npz, words = data_files("imdb", "a" * 64, "b" * 64, "c" * 32)
        >>> npz.filename, npz.pickled, words.filename, words.pickled
        ('imdb.npz', True, 'imdb_word_index.json', False)
    """
    npz = _files.DataFile(
        f"{name}.npz", name, keras_sha256, frozenset({keras_sha256, shared_sha256})
    )
    return npz, _files.DataFile(f"{name}_word_index.json", name, word_index_md5)


def load(
    file: _files.DataFile,
    path: PathLike | None,
    splits: Iterable[tuple[str, str]],
    num_classes: int,
    seed: int,
    options: sequences.Options,
) -> list[Split]:
    """Read ``splits`` of ``file``, shuffle each, and apply Keras's steps to them all.

    One ``RandomState(seed)`` shuffles the splits in turn, as Keras does.

    Args:
        file: The ``.npz`` (found by ``locate``, or at ``path``).
        path: An explicit copy, or ``None``.
        splits: ``(samples, labels)`` array names, e.g. ``("x_train", "y_train")``.
        num_classes: Labels must be in ``[0, num_classes)``.
        seed: The shuffle's seed, an integer in ``[0, 2**32)``.
        options: Checked options (see ``sequences.Options``).

    Returns:
        One ``(x, y)`` per split, as ``sequences.keras_steps`` gives them.
    """
    splits = list(splits)
    rng = np.random.RandomState(_checks.check_seed(seed))
    npz = _checks.NpzArrays.read(file, tuple(key for split in splits for key in split), path)
    parts = []
    for x_key, y_key in splits:
        _, labels = npz.pair(x_key, y_key, kind="sequences", num_classes=num_classes)
        flat, lengths = npz.sequences(x_key)
        indices = np.arange(len(lengths))
        rng.shuffle(indices)
        parts.append((*sequences.take(flat, lengths, indices), labels[indices]))
    return sequences.keras_steps(parts, options)  # type: ignore[arg-type]


def decode(
    file: _files.DataFile,
    sequence: Ids,
    word_index: WordIndex | None,
    index_from: int,
    unknown: str,
) -> str:
    """``sequences.decode`` with ``word_index``, or the word index ``file`` by default."""
    if word_index is None:
        words = _reading.cached_word_index(file)[1]
    else:
        words = sequences.reverse_index(word_index)
    return sequences.decode(sequence, words, index_from=index_from, unknown=unknown)
