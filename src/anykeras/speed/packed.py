"""Packed word-id batches: a batch's words without padding, for sparse models.

`anykeras.data.encoding.unique_ids` pads every review to the most distinct words in any review:
588 columns for IMDB's training reviews, which hold 132 on average, so a padded batch is
more than three quarters padding. `PackedBatches` cuts the batches the plain route cuts
from the rows, in the same seeded order (`anykeras.training.batches.EpochOrder`), and
lays each batch's ids end to end in a
``(batch, 2, width)`` int32 array: ``[:, 0, :]`` holds the ids, ``[:, 1, :]`` the row each
id belongs to, read row-major. A `anykeras.layers.SparseDense` layer sums the kernel rows
per row with a segment sum: the same outputs as on the padded rows. `PackedSparseDense`
(what the sparse route trains) runs that sum on `anykeras.loops.gather_sum`, each
backend's fastest kernel (``embedding_bag`` on PyTorch, 10x Keras's own gather and sum there).

``width`` is fixed for a data set (a quarter above the mean row, rounded up to 8), so the
compiled step sees one shape; a batch that needs more (a run of long reviews) takes the
width it needs, rounded up to a multiple of that width.

Example:
>>> import numpy as np
>>> ids = np.array([[1, 4, 0], [2, 0, 0], [3, 5, 7]], dtype="int32")
>>> batches = PackedBatches(ids, None, batch_size=2, order=None)
>>> len(batches), batches.width
(2, 8)
>>> (packed,) = batches[0]
>>> packed.shape
(2, 2, 8)
>>> packed[:, 0, :].ravel()[:4].tolist(), packed[:, 1, :].ravel()[:4].tolist()
([1, 4, 2, 0], [0, 0, 1, 0])
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from anykeras import loops
from anykeras.layers import SparseDense
from anykeras.spec import check_int
from anykeras.training.batches import EpochOrder, SeededBatches, check_samples

__all__ = ["PackedBatches", "PackedSparseDense", "with_fast_sums"]


def _width(counts: np.ndarray) -> int:
    """A quarter above the mean row, rounded up to 8: room for an unlucky batch."""
    mean = float(counts.mean()) if len(counts) else 0.0
    return max(8, math.ceil(1.25 * mean / 8) * 8)


class PackedBatches(keras.utils.PyDataset):
    """The batches of padded, distinct word ids, packed end to end (see the module).

    Asked for a batch it has not packed, it packs that one and the next ones, ``ahead``
    in all (32), in one go, and `follow_epochs` packs the first ones when an epoch
    begins: between two training steps the backend's threads still hold the cores for a
    while, and a batch packed there waits for them. On TensorFlow (32 steps per call,
    real IMDB, quiet 2-core machine) packing the 30 batches of an epoch takes 9 ms; an
    epoch took 0.071-0.10 s this way (median 0.076), 0.115-0.144 s packing each batch
    when the step asks for it, and 0.06 s with every epoch's batches packed before
    ``fit``.

    Args:
        ids: ``(samples, length)`` integer ids, each row's distinct ids padded with
            ``pad_id``, as `anykeras.data.encoding.unique_ids` makes them.
        y: Targets, one per row, or ``None`` (for ``predict``).
        batch_size: Rows per batch.
        order: The seeded order of each epoch, or ``None`` for the rows in order. Pass
            ``shuffle=False`` to ``fit`` itself (Keras would reorder whole batches), and
            `follow_epochs` among its callbacks.
        pad_id: The id that fills short rows; it never counts.
        width: Columns a batch row gets unless it needs more; by default a quarter
            above the mean row. Give validation batches the training batches' width,
            so the compiled steps see one shape.

    Raises:
        ValueError: ``ids`` is not a 2-D integer array, a row repeats an id, ``y`` has
            another length, or ``batch_size`` is not a positive integer.
    """

    def __init__(
        self,
        ids: Any,
        y: Any,
        batch_size: int,
        order: EpochOrder | None,
        pad_id: int = 0,
        width: int | None = None,
    ) -> None:
        super().__init__()
        ids = np.asarray(ids)
        if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(
                "ids must be a 2-D integer array of padded word ids, as unique_ids makes "
                f"them. Received: shape {ids.shape} and dtype {ids.dtype}"
            )
        if y is not None:
            check_samples(ids, y, "ids", "y")
        check_int("batch_size", batch_size)
        check_int("width", width, allow_none=True)
        present = ids != pad_id
        self.flat = ids[present].astype("int32", copy=False)  # row by row
        self.counts = np.count_nonzero(present, axis=1)
        self.starts = np.cumsum(self.counts) - self.counts
        repeats = None if self._ascending_then_padding(present) else self._repeats(ids, present)
        if repeats is not None:
            raise ValueError(
                "every row must hold distinct ids, as unique_ids makes them (a SparseDense "
                f"on packed ids does not drop repeats). Received: row {repeats[0]} repeats "
                f"id {repeats[1]}"
            )
        self.y = None if y is None else np.asarray(y)
        self.batch_size = int(batch_size)
        self.order = order
        self.epoch = 0
        self.pad_id = pad_id
        self.width = _width(self.counts) if width is None else int(width)
        self.ahead = 32  # batches packed in one go (see the class)
        self._rows: tuple[int, np.ndarray] | None = None
        self._ready: tuple[int, dict[int, tuple[np.ndarray, ...]]] | None = None

    def _ascending_then_padding(self, present: np.ndarray) -> bool:
        """Whether every row is ascending ids, then padding: `unique_ids`'s rows.

        Such rows repeat nothing, and telling so takes one pass over the padded rows
        and one over the ids, not a sort.
        """
        first_pad = np.argmin(present, axis=1)  # the first padding in a row, if any
        if not np.all((self.counts == present.shape[1]) | (first_pad == self.counts)):
            return False
        rising = self.flat[1:] > self.flat[:-1]
        ends = self.starts[1:] - 1  # each row's last id meets the next row's first
        rising[ends[(ends >= 0) & (ends < len(rising))]] = True
        return bool(rising.all())

    @staticmethod
    def _repeats(ids: np.ndarray, present: np.ndarray) -> tuple[int, int] | None:
        """The first ``(row, id)`` that a row holds twice, or ``None``."""
        ordered = np.sort(np.where(present, ids, -1), axis=1)
        same = (ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)
        if not same.any():
            return None
        row, column = np.argwhere(same)[0]
        return int(row), int(ordered[row, column])

    def __len__(self) -> int:
        return math.ceil(len(self.counts) / self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
        epoch = self.epoch if self.order is not None else 0
        if self._ready is None or self._ready[0] != epoch or index not in self._ready[1]:
            stop = max(min(index + self.ahead, len(self)), index + 1)
            self._ready = (epoch, {i: self._batch(i) for i in range(index, stop)})
        return self._ready[1][index]

    def _batch(self, index: int) -> tuple[np.ndarray, ...]:
        start = index * self.batch_size
        stop = min(start + self.batch_size, len(self.counts))
        if self.order is None:
            rows = np.arange(start, stop)
        else:
            if self._rows is None or self._rows[0] != self.epoch:
                self._rows = (self.epoch, self.order.permutation(len(self.counts), self.epoch))
            rows = self._rows[1][start:stop]
        packed = self.pack(rows)
        return (packed,) if self.y is None else (packed, self.y[rows])

    follow_epochs = SeededBatches.follow_epochs

    def prepare(self) -> None:
        """Pack the epoch's first batches now, before the training step holds the cores."""
        self[0]

    def pack(self, rows: np.ndarray) -> np.ndarray:
        """The ``(len(rows), 2, width)`` array of those rows' ids and row numbers."""
        counts = self.counts[rows]
        total = int(counts.sum())
        size = len(rows)
        width = self.width
        if total > size * width:  # rare: a batch of long reviews
            width *= math.ceil(total / (size * width))
        offsets = np.cumsum(counts) - counts
        # Position of each id in self.flat: its row's start plus its place in the row.
        where = np.arange(total) - np.repeat(offsets, counts) + np.repeat(self.starts[rows], counts)
        packed = np.zeros((2, size * width), dtype="int32")
        packed[0] = self.pad_id
        packed[0, :total] = self.flat[where]
        packed[1, :total] = np.repeat(np.arange(size, dtype="int32"), counts)
        return np.ascontiguousarray(packed.reshape(2, size, width).transpose(1, 0, 2))


class PackedSparseDense(SparseDense):
    """`SparseDense` whose packed sum runs on `anykeras.loops.gather_sum`.

    The same weights, outputs and gradients as `SparseDense` (to float32 rounding);
    only the kernels differ: the backend's fastest gather-and-sum of the kernel rows
    (``embedding_bag`` on PyTorch, with an ``index_add`` for its gradient; a gather and
    the backend's segment sum elsewhere, where ``keras.ops.segment_sum`` on PyTorch
    scatters element by element). Padded ids take the parent class's path. The sparse
    route trains it and never saves it (it hands back the dense model), so it is not
    registered for saving.
    """

    def _sum_packed(self, packed: Any) -> Any:
        ops = keras.ops
        ids = ops.reshape(packed[:, 0, :], (-1,))
        rows = ops.reshape(packed[:, 1, :], (-1,))
        return loops.gather_sum(self._kernel(), ids, rows, ops.shape(packed)[0], self.pad_id)


def with_fast_sums(model: keras.Model) -> keras.Model:
    """``model`` (Functional) with each `SparseDense` made a `PackedSparseDense`.

    A new model with the same layer names and configs, freshly initialised: copy the
    weights in with ``set_weights``.
    """

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        kind = PackedSparseDense if type(layer) is SparseDense else type(layer)
        return kind.from_config(layer.get_config())

    return keras.models.clone_model(model, clone_function=clone)
