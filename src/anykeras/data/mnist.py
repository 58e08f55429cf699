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

from anykeras.data import _checks, _files

NPZ = _files.DataFile(
    filename="mnist.npz",
    subdir="mnist",
    keras_hash="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
)
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10


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
        DataFileError: The file is damaged or not an MNIST npz: not a zip archive, cut
            short, missing an array, holding pickled data, images that are not integer
            ``(n, 28, 28)`` arrays, labels that are not integers in ``[0, 10)``, or a
            different number of images and labels.

    Example:
        See the module docstring (this needs the real data).
    """
    npz = _checks.NpzArrays.read(NPZ, ("x_train", "y_train", "x_test", "y_test"), path)
    train, test = (
        npz.pair(f"x_{s}", f"y_{s}", kind="integer", shape=IMAGE_SHAPE, num_classes=NUM_CLASSES)
        for s in ("train", "test")
    )
    return train, test
