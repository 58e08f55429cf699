"""Where a data file comes from (offline first), and the errors about data files.

Where a file comes from, in order:

1. an explicit ``path=`` given to the loader;
2. ``$ANYKERAS_DATA_DIR/<subdir>/<filename>``, then ``$ANYKERAS_DATA_DIR/<filename>``;
3. Keras's cache, ``$KERAS_HOME/datasets/<filename>`` (``~/.keras/datasets`` by default);
4. Keras's own download (``keras.utils.get_file`` with Keras's URL and hash).

When all four fail, one :class:`DataNotFoundError` lists every place looked at. Reading a
found file safely is ``anykeras.data._reading``'s job.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from keras.utils import get_file

DATA_DIR_ENV = "ANYKERAS_DATA_DIR"
KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


class DataNotFoundError(FileNotFoundError):
    """A data file is in none of the places looked at and could not be downloaded."""


class DataFileError(ValueError):
    """A data file was found but is damaged or is not the file it should be.

    Raised for a file that is not a zip archive, is cut short, lacks an array, holds
    arrays of the wrong dtype or shape, or (for a word index) is not a JSON object of
    words to ranks. The message names the file and what is wrong with it.
    """


class UntrustedFileError(DataFileError):
    """A file holding pickled arrays has a sha256 that is not a known one.

    A damaged copy of a known file is refused this way too, before anything in it is read.
    """


# All three are exported by anykeras.data; tracebacks name them there.
for _error in (DataNotFoundError, DataFileError, UntrustedFileError):
    _error.__module__ = "anykeras.data"
del _error


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

    def error(self, path: str | os.PathLike[str], problem: str) -> DataFileError:
        """A :class:`DataFileError` for the copy at ``path``: the file, then ``problem``.

        Args:
            path: The file that is wrong.
            problem: What it must be and what it is, in Keras's wording
                (``"<what was expected>. Received: <what was found>"``).

        Returns:
            The error, for the caller to raise.

        Example:
            >>> npz = DataFile("mnist.npz", "mnist", "")
            >>> print(npz.error("m.npz", "x_train must be 3-D. Received: x_train.ndim=1"))
            m.npz is not a valid mnist.npz: x_train must be 3-D. Received: x_train.ndim=1.
        """
        return DataFileError(f"{path} is not a valid {self.filename}: {problem}.")


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
        TypeError: ``path`` is neither ``None``, a ``str`` nor an ``os.PathLike``.

    Example:
        >>> from anykeras.data import mnist
        >>> try:
        ...     locate(mnist.NPZ, "no/such/mnist.npz")
        ... except DataNotFoundError as error:
        ...     print(type(error).__name__, isinstance(error, FileNotFoundError))
        DataNotFoundError True
    """
    if path is not None:
        return _explicit(file, path)
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
    cached = keras_home() / "datasets" / file.filename
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
    raise _not_found(file, looked) from None


def _explicit(file: DataFile, path: str | os.PathLike[str]) -> Path:
    """``path`` if it is an existing file; else a clear error."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"path must be None, a str or an os.PathLike (the path of {file.filename}). "
            f"Received: path={path!r} of type {type(path).__name__}"
        )
    explicit = Path(path).expanduser()
    if explicit.is_file():
        return explicit
    raise DataNotFoundError(
        f"path must be an existing copy of {file.filename}, or None to look in "
        f"${DATA_DIR_ENV}, in Keras's cache and then download it. "
        f"Received: path={str(path)!r}, which is not a file"
    )


def _not_found(file: DataFile, looked: list[str]) -> DataNotFoundError:
    """The error that lists every place looked at and the three ways to provide the file."""
    places = "\n".join(f"  - {place}" for place in looked)
    return DataNotFoundError(
        f"Could not find the data file {file.filename}. Looked in:\n{places}\n"
        "Provide it in one of these ways:\n"
        f"  - set {DATA_DIR_ENV} to a folder holding {file.subdir}/{file.filename} "
        f"(or {file.filename});\n"
        f"  - put {file.filename} in {keras_home() / 'datasets'}/ (Keras's cache);\n"
        f"  - pass path='/path/to/{file.filename}' to the loader."
    )
