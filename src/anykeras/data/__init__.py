"""Data sets as ``keras.datasets`` gives them, found offline first, plus encoders.

Modules:
    imdb, reuters, boston_housing, mnist: ``load_data(path=None, ...)`` returning exactly
        what the ``keras.datasets`` module of the same name returns. Files are taken from
        ``path=``, ``$ANYKERAS_DATA_DIR``, Keras's cache (``~/.keras/datasets``), then
        Keras's download; pickled files are only opened when their sha256 is known.
    encoding: ``multi_hot``, ``one_hot``, ``pad``, ``Standardizer``/``standardize``.
    synthetic: small deterministic data in the same formats (``imdb_like`` ...).

Example:
    >>> from anykeras.data import encoding, synthetic
    >>> (x_train, y_train), _ = synthetic.imdb_like(num_train=8, num_test=2, num_words=500)
    >>> encoding.multi_hot(x_train, num_tokens=500).shape
    (8, 500)
"""

from __future__ import annotations

from anykeras.data import boston_housing, encoding, imdb, mnist, reuters, synthetic
from anykeras.data._files import DATA_DIR_ENV, DataNotFoundError, UntrustedFileError

__all__ = [
    "DATA_DIR_ENV",
    "DataNotFoundError",
    "UntrustedFileError",
    "boston_housing",
    "encoding",
    "imdb",
    "mnist",
    "reuters",
    "synthetic",
]
