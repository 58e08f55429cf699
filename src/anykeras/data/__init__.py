"""Data sets as ``keras.datasets`` gives them, found offline first, plus encoders.

Modules:
    imdb, reuters, boston_housing, mnist: ``load_data(path=None, ...)`` returning exactly
        what the ``keras.datasets`` module of the same name returns. Files are taken from
        ``path=``, ``$ANYKERAS_DATA_DIR``, Keras's cache (``~/.keras/datasets``), then
        Keras's download; pickled files are only opened when their sha256 is known.
    encoding: ``multi_hot``, ``one_hot``, ``pad``, ``unique_ids``, ``check_labels``.
    features: ``Standardizer``/``standardize`` (also importable from ``encoding``).
    sequences: ragged id sequences (``flatten``, ``unflatten``) and the steps IMDB and
        Reuters share (``keras_sequences``, ``decode``).
    synthetic: small deterministic data in the same formats (``imdb_like`` ...).

Errors:
    DataNotFoundError: a file is nowhere and could not be downloaded (a FileNotFoundError).
    DataFileError: a file was found but is damaged or not the file it should be (a
        ValueError); the message names the file and what is wrong.
    UntrustedFileError: a DataFileError for a pickled file whose sha256 is not known.

Example:
    >>> from anykeras.data import encoding, synthetic
    >>> (x_train, y_train), _ = synthetic.imdb_like(num_train=8, num_test=2, num_words=500)
    >>> encoding.multi_hot(x_train, num_tokens=500).shape
    (8, 500)
"""

from __future__ import annotations

from anykeras.data import (
    boston_housing,
    encoding,
    features,
    imdb,
    mnist,
    reuters,
    sequences,
    synthetic,
)
from anykeras.data._files import (
    DATA_DIR_ENV,
    DataFileError,
    DataNotFoundError,
    UntrustedFileError,
)

__all__ = [
    "DATA_DIR_ENV",
    "DataFileError",
    "DataNotFoundError",
    "UntrustedFileError",
    "boston_housing",
    "encoding",
    "features",
    "imdb",
    "mnist",
    "reuters",
    "sequences",
    "synthetic",
]
