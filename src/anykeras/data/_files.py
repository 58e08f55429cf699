"""Find a data file (offline first) and open it safely.

Where a file comes from, in order:

1. an explicit ``path=`` given to the loader;
2. ``$ANYKERAS_DATA_DIR/<subdir>/<filename>``, then ``$ANYKERAS_DATA_DIR/<filename>``;
3. Keras's cache, ``$KERAS_HOME/datasets/<filename>`` (``~/.keras/datasets`` by default);
4. Keras's own download (``keras.utils.get_file`` with Keras's URL and hash).

When all four fail, one :class:`DataNotFoundError` lists every place looked at.

IMDB and Reuters ``.npz`` files hold pickled object arrays, and unpickling runs code, so
:func:`load_npz` only unpickles a file whose sha256 is a known one
(:class:`UntrustedFileError` otherwise). Files without pickles load with
``allow_pickle=False``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import zipfile
from pathlib import Path

import numpy as np
from keras.utils import get_file

DATA_DIR_ENV = "ANYKERAS_DATA_DIR"
KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


class DataNotFoundError(FileNotFoundError):
    """A data file is in none of the places looked at and could not be downloaded."""


class UntrustedFileError(ValueError):
    """A file holding pickled arrays has a sha256 that is not a known one."""


# Both are exported by anykeras.data; tracebacks name them there.
DataNotFoundError.__module__ = UntrustedFileError.__module__ = "anykeras.data"


@dataclasses.dataclass(frozen=True)
class DataFile:
    """A file a loader needs.

    Attributes:
        filename: The file's name, as Keras caches it (``"imdb.npz"``).
        subdir: Its folder under ``ANYKERAS_DATA_DIR`` (``"imdb"``).
        keras_hash: The hash Keras's ``get_file`` checks a download against.
        known_sha256: For files holding pickles: the sha256 digests that may be unpickled.
            Empty for files that load without pickle.
    """

    filename: str
    subdir: str
    keras_hash: str
    known_sha256: frozenset[str] = frozenset()

    @property
    def origin(self) -> str:
        """The URL Keras downloads this file from."""
        return KERAS_ORIGIN + self.filename

    @property
    def pickled(self) -> bool:
        """Whether the file holds pickled arrays (and so needs a known sha256)."""
        return bool(self.known_sha256)


def keras_home() -> Path:
    """Keras's home folder, as Keras chooses it: ``$KERAS_HOME``, else ``~/.keras``.

    Like Keras, falls back to ``/tmp/.keras`` when the home directory is not writable.
    """
    if "KERAS_HOME" in os.environ:
        return Path(os.environ["KERAS_HOME"]).expanduser()
    home = Path("~").expanduser()
    if not os.access(home, os.W_OK):
        home = Path("/tmp")  # the same fallback Keras uses
    return home / ".keras"


def locate(file: DataFile, path: str | os.PathLike[str] | None = None) -> Path:
    """The path of ``file``: from ``path=``, ANYKERAS_DATA_DIR, Keras's cache or a download.

    Args:
        file: Which file to find.
        path: An explicit file path; when given, nothing else is tried.

    Returns:
        The path of an existing file.

    Raises:
        DataNotFoundError: The file is nowhere and could not be downloaded (for example
            offline), or ``path`` is not an existing file.

    Example:
        >>> from anykeras.data import mnist
        >>> try:
        ...     locate(mnist.NPZ, "no/such/mnist.npz")
        ... except DataNotFoundError as error:
        ...     print(type(error).__name__, isinstance(error, FileNotFoundError))
        DataNotFoundError True
    """
    if path is not None:
        explicit = Path(path).expanduser()
        if explicit.is_file():
            return explicit
        raise DataNotFoundError(
            f"path={str(path)!r} is not a file (expected a copy of {file.filename}). "
            f"Pass the path of an existing {file.filename}, or leave path=None to look in "
            f"${DATA_DIR_ENV}, in Keras's cache and then download it."
        )

    looked: list[str] = []
    data_dir = os.environ.get(DATA_DIR_ENV, "")
    if data_dir:
        root = Path(data_dir).expanduser()
        for candidate in (root / file.subdir / file.filename, root / file.filename):
            if candidate.is_file():
                return candidate
            looked.append(str(candidate))
    else:
        looked.append(f"${DATA_DIR_ENV}/{file.subdir}/{file.filename} ({DATA_DIR_ENV} is not set)")

    cache = keras_home() / "datasets"
    cached = cache / file.filename
    if cached.is_file():
        return cached
    looked.append(str(cached))

    try:
        return Path(
            get_file(
                fname=file.filename,
                origin=file.origin,
                file_hash=file.keras_hash,
                cache_dir=str(keras_home()),
            )
        )
    except Exception as exc:  # any download failure becomes one clear error
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        looked.append(f"download from {file.origin} failed: {reason}")
    places = "\n".join(f"  - {place}" for place in looked)
    raise DataNotFoundError(
        f"Could not find the data file {file.filename}. Looked in:\n{places}\n"
        "Provide it in one of these ways:\n"
        f"  - set {DATA_DIR_ENV} to a folder holding {file.subdir}/{file.filename} "
        f"(or {file.filename});\n"
        f"  - put {file.filename} in {cache}/ (Keras's cache);\n"
        f"  - pass path='/path/to/{file.filename}' to the loader."
    ) from None


def sha256(path: str | os.PathLike[str]) -> str:
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


def check_trusted(path: str | os.PathLike[str], known_sha256: frozenset[str]) -> str:
    """Refuse a file whose sha256 is not one of ``known_sha256``.

    Args:
        path: The file about to be unpickled.
        known_sha256: The digests of files known to be safe.

    Returns:
        The file's sha256.

    Raises:
        UntrustedFileError: The digest is not a known one.
    """
    digest = sha256(path)
    if digest not in known_sha256:
        known = ", ".join(sorted(known_sha256))
        raise UntrustedFileError(
            f"Refusing to load {path}: it holds pickled arrays, and pickled files are only "
            "loaded when their sha256 is a known one (unpickling can run arbitrary code). "
            f"Received sha256 {digest}; known: {known}. Use the file Keras downloads or the "
            f"copy in the shared data folder (${DATA_DIR_ENV})."
        )
    return digest


def load_npz(
    path: str | os.PathLike[str], file: DataFile, keys: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """Read the arrays ``keys`` from the ``.npz`` at ``path``, never unpickling blindly.

    Args:
        path: The ``.npz`` file.
        file: What the file should be; if ``file.pickled``, its sha256 is checked first.
        keys: The arrays the file must hold.

    Returns:
        A dict from each key to its array.

    Raises:
        UntrustedFileError: A pickled file whose sha256 is not a known one (checked before
            anything is unpickled).
        ValueError: The file is not a readable ``.npz`` or lacks one of ``keys``.
    """
    if file.pickled:
        check_trusted(path, file.known_sha256)
    try:
        with np.load(path, allow_pickle=file.pickled) as archive:
            found = sorted(archive.files)
            arrays = {key: archive[key] for key in keys if key in found}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"Could not read {path} as {file.filename}: {exc}") from exc
    missing = [key for key in keys if key not in arrays]
    if missing:
        raise ValueError(
            f"{path} is not a {file.filename} file: expected arrays {list(keys)}, found {found}"
        )
    return arrays


def load_word_index(path: str | os.PathLike[str]) -> dict[str, int]:
    """Read a word-index JSON file (``{"word": rank, ...}``).

    Args:
        path: The JSON file.

    Returns:
        The dict from word to rank (1 = most frequent).

    Raises:
        ValueError: The file is not valid JSON or not an object of word -> integer rank.
    """
    try:
        with Path(path).open(encoding="utf-8") as stream:
            index = json.load(stream)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not a valid word-index JSON file: {exc}") from exc
    if not isinstance(index, dict) or not all(
        isinstance(word, str) and isinstance(rank, int) for word, rank in index.items()
    ):
        raise ValueError(
            f"{path} is not a word index: expected a JSON object mapping words to integer "
            f"ranks, received a {type(index).__name__}"
            + ("" if not isinstance(index, dict) else " with non-integer values")
        )
    return index
