"""Feature-wise standardisation with the training data's statistics only.

The book's housing normalisation: ``mean`` and ``std`` come from ``x_train`` and are
applied, unchanged, to ``x_train`` and ``x_test``, so no test statistics leak in.
(``anykeras.data.encoding`` re-exports both names.)

Example:
    >>> import numpy as np
    >>> train, test = standardize(np.array([[0.0], [2.0]]), np.array([[4.0]]))
    >>> train.ravel().tolist(), test.ravel().tolist()
    ([-1.0, 1.0], [3.0])
"""

from __future__ import annotations

import numpy as np


class Standardizer:
    """Feature-wise standardisation with the training data's mean and std only.

    A feature whose training std is 0 is only centred (divided by 1).

    Attributes:
        mean: Per-feature training mean (``None`` before :meth:`fit`).
        std: Per-feature training std (``None`` before :meth:`fit`).

    Example:
        >>> train = np.array([[1.0, 10.0], [3.0, 30.0]])
        >>> scaler = Standardizer().fit(train)
        >>> scaler.transform(train)
        array([[-1., -1.],
               [ 1.,  1.]])
        >>> scaler.transform(np.array([[5.0, 20.0]]))
        array([[3., 0.]])
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, x: np.ndarray) -> Standardizer:
        """Compute the per-feature mean and std over axis 0 of ``x``.

        Args:
            x: Training data, shape ``(samples, *features)`` with at least one sample.

        Returns:
            ``self``, fitted.

        Raises:
            ValueError: ``x`` has no samples or is not numeric.
        """
        x = _as_float(x)
        if x.ndim < 1 or len(x) == 0:
            raise ValueError(f"x must have at least one sample. Received: x.shape={x.shape}")
        self.mean = x.mean(axis=0)
        std = x.std(axis=0)
        self.std = np.where(std == 0, 1, std).astype(std.dtype)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Return ``(x - mean) / std`` with the fitted training statistics.

        Args:
            x: Data with the same feature shape as the training data.

        Returns:
            A new standardised float array (``x`` is not changed).

        Raises:
            RuntimeError: :meth:`fit` was not called.
            ValueError: ``x``'s feature shape differs from the training data's.
        """
        if self.mean is None or self.std is None:
            raise RuntimeError("This Standardizer is not fitted yet: call fit(x_train) first.")
        x = _as_float(x)
        if x.shape[1:] != self.mean.shape:
            features = ", ".join(map(str, self.mean.shape))
            raise ValueError(
                f"x must have shape (samples, {features}), the training data's feature "
                f"shape. Received: x.shape={x.shape}"
            )
        return (x - self.mean) / self.std

    def fit_transform(self, x: np.ndarray) -> np.ndarray:
        """:meth:`fit` on ``x``, then :meth:`transform` it.

        Args:
            x: Training data.

        Returns:
            The standardised training data.
        """
        return self.fit(x).transform(x)


def standardize(x_train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Standardise ``x_train`` and each of ``others`` with ``x_train``'s statistics only.

    Args:
        x_train: The training data the mean and std are computed from.
        *others: Further arrays (validation, test) to transform the same way.

    Returns:
        The standardised ``x_train`` followed by each of ``others``.

    Example:
        >>> train, test = standardize(np.array([[0.0], [2.0]]), np.array([[4.0]]))
        >>> train.ravel().tolist(), test.ravel().tolist()
        ([-1.0, 1.0], [3.0])
    """
    scaler = Standardizer().fit(x_train)
    return (scaler.transform(x_train), *(scaler.transform(x) for x in others))


def _as_float(x: np.ndarray) -> np.ndarray:
    """``x`` as a float array (float32 at least), or a ValueError if it is not numeric."""
    array = np.asarray(x)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"x must be numeric. Received: x.dtype={array.dtype}")
    return array.astype(np.result_type(array.dtype, np.float32), copy=False)
