"""Open a found data file safely: pickles only from known files, one clear error otherwise.

IMDB and Reuters ``.npz`` files hold pickled object arrays, and unpickling runs code, so
:func:`load_npz` only unpickles a file whose sha256 is a known one
(:class:`~anykeras.data.UntrustedFileError` otherwise, checked before anything is read; a
damaged copy of a known file is refused the same way). Files without pickles load with
``allow_pickle=False``. A file that is not a zip archive, is cut short, lacks an array or
holds an unreadable one, and a word index that is not a JSON object of words to ranks,
each give one :class:`~anykeras.data.DataFileError` naming the file.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from anykeras.data._files import DATA_DIR_ENV, DataFile, UntrustedFileError, locate
from anykeras.data.sequences import reverse_index

PathLike = str | os.PathLike[str]

# What reading a damaged zip member can raise, from zipfile, zlib, numpy and pickle.
_READ_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    RuntimeError,
    NotImplementedError,
    zipfile.BadZipFile,
    zlib.error,
    pickle.UnpicklingError,
)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # what np.load takes for an .npz
_JSON_TYPES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def sha256(path: PathLike) -> str:
    """The sha256 hex digest of a file, read in 1 MiB blocks.

    Args:
        path: The file.

    Returns:
        64 lowercase hex digits.
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_trusted(path: PathLike, file: DataFile) -> str:
    """Refuse a copy of ``file`` whose sha256 is not one of ``file.known_sha256``.

    Args:
        path: The file about to be unpickled.
        file: What it should be; its ``known_sha256`` are the digests known to be safe.

    Returns:
        The file's sha256.

    Raises:
        UntrustedFileError: The digest is not a known one (a different, damaged or cut
            short copy): one line naming the file, its sha256 and the known ones.
    """
    digest = sha256(path)
    if digest not in file.known_sha256:
        known = " or ".join(sorted(file.known_sha256))
        raise UntrustedFileError(
            f"{path} is not a trusted {file.filename}: a file holding pickled arrays is "
            f"only loaded when its sha256 is a known one ({known}), as unpickling can run "
            "arbitrary code, so a different, damaged or cut short copy is refused; use the "
            f"file Keras downloads or the shared copy (${DATA_DIR_ENV}). "
            f"Received: sha256={digest}."
        )
    return digest


def load_npz(path: PathLike, file: DataFile, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Read the arrays ``keys`` from the ``.npz`` at ``path``, never unpickling blindly.

    Args:
        path: The ``.npz`` file.
        file: What the file should be; if ``file.pickled``, its sha256 is checked first.
        keys: The arrays the file must hold.

    Returns:
        A dict from each key to its array.

    Raises:
        UntrustedFileError: A pickled file whose sha256 is not a known one (checked before
            anything is read).
        DataFileError: The file is not a zip archive (garbage, or cut short), lacks one of
            ``keys``, or an array is damaged or (in a file read without pickle) pickled.
    """
    if file.pickled:
        check_trusted(path, file)
    if not _looks_like_npz(path):
        raise file.error(
            path,
            "an .npz file must be a zip archive of NumPy arrays. Received: a file that is "
            "not a zip archive (damaged, cut short or another format)",
        )
    # Our own handle, so that it is closed even when np.load fails half-way.
    with Path(path).open("rb") as stream:
        try:
            archive = np.load(stream, allow_pickle=file.pickled)
        except _READ_ERRORS as exc:
            problem = f"it must be a readable zip archive. Received: {_why(exc)}"
            raise file.error(path, problem) from None
        with archive:
            found = sorted(archive.files)
            if any(key not in found for key in keys):
                raise file.error(
                    path, f"it must hold the arrays {list(keys)}. Received: arrays {found}"
                )
            return {key: _read_array(archive, key, path, file) for key in keys}


def _looks_like_npz(path: PathLike) -> bool:
    """Whether ``path`` is a whole zip archive that ``np.load`` will open as an ``.npz``."""
    with Path(path).open("rb") as stream:
        start = stream.read(4)
    return start in _ZIP_MAGIC and zipfile.is_zipfile(path)


def _read_array(archive: Any, key: str, path: PathLike, file: DataFile) -> np.ndarray:
    """``archive[key]``, or a DataFileError naming the file and the array."""
    try:
        return archive[key]
    except _READ_ERRORS as exc:
        if not file.pickled and "allow_pickle" in str(exc):
            raise file.error(
                path,
                f"{key} must be a plain array ({file.filename} is read without unpickling). "
                f"Received: {key} holding pickled Python objects",
            ) from None
        raise file.error(
            path, f"{key} must be a readable array. Received: {key} damaged ({_why(exc)})"
        ) from None


def _why(exc: BaseException) -> str:
    """The first line of an error's message (or its type's name), for one-line errors."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def load_word_index(path: PathLike, file: DataFile) -> dict[str, int]:
    """Read a word-index JSON file (``{"word": rank, ...}``).

    Args:
        path: The JSON file.
        file: What the file should be (its name goes in errors).

    Returns:
        The dict from word to rank (1 = most frequent).

    Raises:
        DataFileError: The file is not UTF-8 JSON, or not an object of words to integer
            ranks >= 1.
    """
    expected = "it must be a JSON object mapping words to integer ranks >= 1"
    try:
        with Path(path).open(encoding="utf-8") as stream:
            index = json.load(stream)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise file.error(path, f"{expected}. Received: invalid JSON ({_why(exc)})") from None
    if not isinstance(index, dict):
        kind = _JSON_TYPES.get(type(index), "null")
        raise file.error(path, f"{expected}. Received: a JSON {kind}")
    for word, rank in index.items():
        if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
            raise file.error(path, f"{expected}. Received: the entry {json.dumps({word: rank})}")
    return index


def word_index(file: DataFile, path: PathLike | None = None) -> dict[str, int]:
    """A new dict of the word index ``file`` (found by ``locate``, or at ``path``)."""
    return load_word_index(locate(file, path), file)


def cached_word_index(file: DataFile) -> tuple[Mapping[str, int], Mapping[int, str]]:
    """The default copy of ``file`` as word -> rank and rank -> word, read once per version.

    Cached by path and modification time, so a replaced file is read again. The mappings
    are shared: read them, never change them.
    """
    path = locate(file)
    return _cached(str(path), path.stat().st_mtime_ns, file)


@functools.lru_cache(maxsize=4)
def _cached(path: str, mtime_ns: int, file: DataFile) -> tuple[dict[str, int], dict[int, str]]:
    del mtime_ns  # part of the cache key only
    index = load_word_index(path, file)
    return index, reverse_index(index)
