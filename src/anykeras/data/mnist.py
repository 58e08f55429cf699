"""The MNIST handwritten digits, exactly as ``keras.datasets.mnist`` gives them.

60,000 training and 10,000 test images, 28x28 uint8 pixels, labels 0-9 (uint8).
:func:`load_data` follows keras/src/datasets/mnist.py (Apache 2.0); the file holds no
pickles and is read with ``allow_pickle=False``.

Example:
    With ``ANYKERAS_DATA_DIR`` set (or ``mnist.npz`` in ``~/.keras/datasets``)::

        (x_train, y_train), (x_test, y_test) = load_data()
        assert x_train.shape == (60000, 28, 28) and x_train.dtype == "uint8"
"""

from __future__ import annotations

import os

import numpy as np

from anykeras.data import _files

NPZ = _files.DataFile(
    filename="mnist.npz",
    subdir="mnist",
    keras_hash="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
)


def load_data(
    path: str | os.PathLike[str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST as ``keras.datasets.mnist.load_data`` does, from a local copy if any.

    Args:
        path: An explicit ``mnist.npz`` (arrays ``x_train``, ``y_train``, ``x_test``,
            ``y_test``). ``None`` looks in ``$ANYKERAS_DATA_DIR``, in Keras's cache, then
            downloads.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images ``(n, 28, 28)`` and uint8
        labels ``(n,)``.

    Raises:
        DataNotFoundError: No copy was found and none could be downloaded.
        ValueError: The file is not an MNIST npz (or holds pickled data).

    Example:
        See the module docstring (this needs the real data).
    """
    arrays = _files.load_npz(
        _files.locate(NPZ, path), NPZ, ("x_train", "y_train", "x_test", "y_test")
    )
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
