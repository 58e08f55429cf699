"""The Boston housing prices data set, exactly as ``keras.datasets.boston_housing`` gives it.

506 suburbs of Boston in the 1970s, 13 features each, target the median home value in k$.
:func:`load_data` follows keras/src/datasets/boston_housing.py (Apache 2.0): a
``RandomState(seed)`` shuffle, then the first ``1 - test_split`` rows for training.

Keras (and scikit-learn, which removed it) warn about this data set's feature ``B``, which
encodes an assumption about race; use it to discuss that, not as a neutral benchmark.

Example:
    With ``ANYKERAS_DATA_DIR`` set (or ``boston_housing.npz`` in ``~/.keras/datasets``),
    ``load_data()`` gives 404 training and 102 test rows, ``y_train[0] == 15.2``::

        (x_train, y_train), (x_test, y_test) = load_data()
"""

from __future__ import annotations

import os

import numpy as np

from anykeras.data import _checks, _files

NPZ = _files.DataFile(
    filename="boston_housing.npz",
    subdir="boston_housing",
    keras_hash="f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5",
)
NUM_FEATURES = 13


def load_data(
    path: str | os.PathLike[str] | None = None, test_split: float = 0.2, seed: int = 113
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Boston housing as ``keras.datasets.boston_housing.load_data`` does.

    Args:
        path: An explicit ``boston_housing.npz`` (arrays ``x`` and ``y``). ``None`` looks in
            ``$ANYKERAS_DATA_DIR``, in Keras's cache, then downloads.
        test_split: Fraction of the (shuffled) rows kept for testing, in ``[0, 1)``.
        seed: Seed of the ``RandomState`` that shuffles the rows.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: float64 arrays of shape ``(n, 13)`` and
        ``(n,)``.

    Raises:
        ValueError: ``test_split`` is outside ``[0, 1)``, or ``seed`` is not an integer in
            ``[0, 2**32)``.
        DataNotFoundError: No copy was found and none could be downloaded.
        DataFileError: The file is damaged or not a housing npz: not a zip archive, cut
            short, missing ``x`` or ``y``, ``x`` not a numeric ``(n, 13)`` array, ``y`` not
            numeric ``(n,)``, or a different number of rows and targets.

    Example:
        See the module docstring (this needs the real data).
    """
    test_split = _checks.check_test_split(test_split)
    rng = np.random.RandomState(_checks.check_seed(seed))
    npz = _checks.NpzArrays.read(NPZ, ("x", "y"), path)
    x, y = npz.pair("x", "y", kind="number", shape=(NUM_FEATURES,), targets=True)
    indices = np.arange(len(x))
    rng.shuffle(indices)
    x, y = x[indices], y[indices]
    split = int(len(x) * (1 - test_split))
    return (x[:split], y[:split]), (x[split:], y[split:])
