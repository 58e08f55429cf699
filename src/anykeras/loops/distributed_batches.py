"""Which samples each replica of `anykeras.loops.distributed.fit` trains on.

Every global batch of ``batch_size`` samples is cut into equal, contiguous slices, one
per replica (`local_rows`), in the epoch's order (`replica_rows`); `ReplicaBatches`
feeds one replica its slices, epoch after epoch. `per_device_batch_size` checks that
every batch, the last one included, splits evenly.

This module imports no backend.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from anykeras.spec import check_int


def per_device_batch_size(batch_size: int, num_devices: int, num_samples: int | None = None) -> int:
    """Samples each device gets from a global batch; every batch must split evenly.

    Under `DataParallel` on JAX, each batch that `fit`, `evaluate` or `predict` sees
    is cut into ``num_devices`` equal shards, and one that does not divide raises
    JAX's ``IndivisibleError`` (in Keras 3.15 the model is then unusable until
    rebuilt). That includes the last, partial batch: give ``num_samples`` to check
    it too.

    Args:
        batch_size: The global batch size given to `fit`.
        num_devices: Devices in the data-parallel mesh.
        num_samples: Number of samples, whose remainder forms the last batch.

    Returns:
        ``batch_size // num_devices``.

    Raises:
        ValueError: If the batch, or the last batch, does not split evenly.

    Example:
    >>> per_device_batch_size(64, 4)
    16
    >>> per_device_batch_size(30, 4)
    Traceback (most recent call last):
    ...
    ValueError: batch_size must be a multiple of the 4 devices. Received: batch_size=30
    >>> per_device_batch_size(32, 4, num_samples=250)
    Traceback (most recent call last):
    ...
    ValueError: the last batch must also split over the 4 devices, ...
    """
    values = {"batch_size": batch_size, "num_devices": num_devices}
    if num_samples is not None:
        values["num_samples"] = num_samples
    for name, value in values.items():
        check_int(name, value)
    if batch_size % num_devices:
        raise ValueError(
            f"batch_size must be a multiple of the {num_devices} devices. "
            f"Received: batch_size={batch_size}"
        )
    if num_samples is not None and (num_samples % batch_size) % num_devices:
        raise ValueError(
            f"the last batch must also split over the {num_devices} devices, but "
            f"{num_samples} samples in batches of {batch_size} leave {num_samples % batch_size}. "
            f"Use a number of samples that is a multiple of {num_devices}. "
            f"Received: num_samples={num_samples}"
        )
    return batch_size // num_devices


def local_rows(num_samples: int, batch_size: int, part: int, parts: int) -> np.ndarray:
    """Positions of the ``part``-th of ``parts`` replicas: its slice of every global batch.

    The global batches are positions ``[0, batch_size)``, ``[batch_size, 2 * batch_size)``,
    ... in order (the last one possibly shorter); each is cut into ``parts`` equal,
    contiguous slices, as ``torch.utils.data.DistributedSampler`` would split one batch
    without shuffling. Batched by ``batch_size // parts``, a replica's positions give
    its slice of each global batch, step by step. `replica_rows` maps them through an
    epoch's order.

    Raises:
        ValueError: A global batch, the last one included, does not split evenly.

    Example:
    >>> local_rows(10, 4, 1, 2).tolist()   # batches [0..3], [4..7], [8, 9]
    [2, 3, 6, 7, 9]
    """
    per_device_batch_size(batch_size, parts, num_samples=num_samples)
    rows = []
    for start in range(0, num_samples, batch_size):
        size = min(batch_size, num_samples - start) // parts
        rows.append(np.arange(start + part * size, start + (part + 1) * size))
    return np.concatenate(rows)


def replica_rows(
    num_samples: int, batch_size: int, part: int, parts: int, seed: int | None, epoch: int
) -> np.ndarray:
    """The samples replica ``part`` of ``parts`` trains on in ``epoch``, step by step.

    With a ``seed``, the global batches follow anykeras's epoch order
    (`anykeras.training.batches.EpochOrder`, the order of every route on one device);
    without, they are the samples in order.

    Example:
    >>> replica_rows(10, 4, 1, 2, seed=None, epoch=0).tolist()
    [2, 3, 6, 7, 9]
    >>> from anykeras.training.batches import EpochOrder
    >>> order = EpochOrder(7).permutation(10, 3)
    >>> replica_rows(10, 4, 1, 2, seed=7, epoch=3).tolist() == order[[2, 3, 6, 7, 9]].tolist()
    True
    """
    positions = local_rows(num_samples, batch_size, part, parts)
    if seed is None:
        return positions
    from anykeras.training.batches import EpochOrder

    return EpochOrder(seed).permutation(num_samples, epoch)[positions]


class ReplicaBatches(keras.utils.PyDataset):
    """One replica's slice of every global batch, epoch after epoch (`replica_rows`).

    Integer inputs (uint8 multi-hot rows, say) become floatx batch by batch. Give it
    to `keras.Model.fit` with ``shuffle=False`` and `follow_epochs` among the
    callbacks, or read `epoch_batches` in a loop of your own.

    Args:
        x: Inputs, one row per sample (a memory-mapped array is fine).
        y: Targets.
        batch_size: The GLOBAL batch size.
        part: This replica's number, from 0.
        parts: Replicas that feed their own slices (1 when ``fit`` splits the batch).
        seed: The epoch order's seed; ``None`` for the samples in order.

    Example:
    >>> x, y = np.arange(20, dtype="uint8").reshape(10, 2), np.arange(10)
    >>> batches = ReplicaBatches(x, y, batch_size=4, part=1, parts=2)
    >>> len(batches), batches[0][1].tolist(), batches[2][1].tolist(), batches[0][0].dtype
    (3, [2, 3], [9], dtype('float32'))
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        part: int = 0,
        parts: int = 1,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.x, self.y = x, y
        self.batch_size, self.part, self.parts, self.seed = batch_size, part, parts, seed
        self.epoch = 0
        self._rows: tuple[int, np.ndarray] | None = None

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if self._rows is None or self._rows[0] != self.epoch:
            rows = replica_rows(
                len(self.x), self.batch_size, self.part, self.parts, self.seed, self.epoch
            )
            self._rows = (self.epoch, rows)
        local = self.batch_size // self.parts
        rows = self._rows[1][index * local : (index + 1) * local]
        x = np.asarray(self.x[rows])
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(keras.config.floatx())
        return x, np.asarray(self.y[rows])

    def epoch_batches(self, epoch: int) -> Any:
        """The batches of ``epoch``, in order."""
        self.epoch = epoch
        return (self[index] for index in range(len(self)))

    def follow_epochs(self) -> keras.callbacks.Callback:
        """A callback that keeps `epoch` equal to the epoch ``fit`` is running."""
        return keras.callbacks.LambdaCallback(
            on_epoch_begin=lambda epoch, _logs=None: setattr(self, "epoch", epoch)
        )


def replica_batches(
    job: dict[str, Any], arrays: dict[str, np.ndarray], part: int, parts: int
) -> tuple[ReplicaBatches, ReplicaBatches | None]:
    """This replica's training batches (in the job's epoch order) and validation batches."""
    batch_size = job["batch_size"]
    train = ReplicaBatches(arrays["x"], arrays["y"], batch_size, part, parts, job["seed"])
    if "x_val" not in arrays:
        return train, None
    return train, ReplicaBatches(arrays["x_val"], arrays["y_val"], batch_size, part, parts)
