"""The order of the samples in each epoch, from the seed and the epoch alone.

Keras shuffles with each backend's own generator (NumPy's on JAX, PyTorch's sampler,
``tf.random.shuffle``), so the same seed gives another order on every backend, and a
run that resumes after a crash cannot replay the order it would have had. anykeras
fixes the order instead: epoch ``e`` of a run with seed ``s`` visits the samples in the
order ``numpy.random.default_rng([s, e]).permutation(n)``. Every backend, every route
and every resumed run sees the same batches.

Example:
>>> order = EpochOrder(seed=0)
>>> order.permutation(5, epoch=0).tolist() == order.permutation(5, epoch=0).tolist()
True
>>> x, y = np.arange(10).reshape(5, 2), np.arange(5)
>>> batches = SeededBatches(x, y, batch_size=2, order=order)
>>> len(batches), sorted(np.concatenate([batches[i][1] for i in range(3)]).tolist())
(3, [0, 1, 2, 3, 4])
>>> batches[0][1].tolist() == order.permutation(5, epoch=0)[:2].tolist()
True
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import keras
import numpy as np

from anykeras.spec import check_int


@dataclasses.dataclass(frozen=True)
class EpochOrder:
    """The documented permutation of each epoch: ``default_rng([seed, epoch]).permutation(n)``."""

    seed: int

    def permutation(self, size: int, epoch: int) -> np.ndarray:
        """The order of ``size`` samples in ``epoch`` (0-based)."""
        return np.random.default_rng([self.seed, epoch]).permutation(size)

    @classmethod
    def for_run(cls, seed: int | None, shuffle: bool, fresh: bool = False) -> EpochOrder | None:
        """The order a run with ``seed`` and ``shuffle`` takes; ``None``: Keras's own, or none.

        ``fresh`` draws a seed when ``seed`` is ``None`` (a route that cuts its own
        batches must shuffle through an order).

        Example:
        >>> EpochOrder.for_run(7, shuffle=True), EpochOrder.for_run(7, shuffle=False)
        (EpochOrder(seed=7), None)
        """
        if shuffle and seed is None and fresh:
            seed = int(np.random.default_rng().integers(2**32))
        return cls(seed) if shuffle and seed is not None else None


class SeededBatches(keras.utils.PyDataset):
    """``(x, y)`` cut into batches in `EpochOrder`'s order, epoch after epoch.

    Give it to ``fit`` with ``shuffle=False`` (Keras would reorder whole batches) and
    with `follow_epochs` among the callbacks: it tells the batches which epoch ``fit``
    is in (``initial_epoch`` included, so a resumed run continues the same orders).

    Args:
        x: Inputs, one row per sample (NumPy).
        y: Targets, one per sample.
        batch_size: Samples per batch.
        order: The epochs' order.
    """

    def __init__(self, x: Any, y: Any, batch_size: int, order: EpochOrder) -> None:
        super().__init__()
        check_samples(x, y)
        self.x, self.y = x, y
        self.batch_size = check_int("batch_size", batch_size)
        self.order = order
        self.epoch = 0
        self._rows: tuple[int, np.ndarray] | None = None

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def rows_of(self, index: int) -> np.ndarray:
        """The sample numbers of batch ``index`` in the current epoch."""
        if self._rows is None or self._rows[0] != self.epoch:
            self._rows = (self.epoch, self.order.permutation(len(self.x), self.epoch))
        return self._rows[1][index * self.batch_size : (index + 1) * self.batch_size]

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        rows = self.rows_of(index)
        return self.x[rows], self.y[rows]

    def follow_epochs(self) -> keras.callbacks.Callback:
        """A callback that keeps `epoch` equal to the epoch ``fit`` is running."""
        return _FollowEpochs(self)

    def prepare(self) -> None:
        """Make the new epoch's first batches ready (`follow_epochs` calls it): nothing here."""


class _FollowEpochs(keras.callbacks.Callback):
    def __init__(self, batches: SeededBatches) -> None:
        super().__init__()
        self.batches = batches

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.batches.epoch = epoch
        self.batches.prepare()


def check_samples(x: Any, y: Any, x_name: str = "x", y_name: str = "y") -> None:
    """Raise a `ValueError` unless ``x`` and ``y`` hold the same, non-zero number of samples.

    Every step that pairs inputs with targets checks them here.

    Example:
    >>> check_samples(np.zeros((3, 2)), np.zeros(2))
    Traceback (most recent call last):
    ...
    ValueError: x and y must hold the same, non-zero number of samples. Received: len(x)=3, len(y)=2
    """
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(
            f"{x_name} and {y_name} must hold the same, non-zero number of samples. "
            f"Received: len({x_name})={len(x)}, len({y_name})={len(y)}"
        )
