"""The backend's fastest kernels behind one backend-neutral call each.

What the speed routes (`anykeras.speed`) and the bench need from a backend, chosen by
measurement: a segment sum, a gather-and-sum of table rows, a way to feed batches, a
forward pass over batches, and the size of the thread pool. Each call reads
`keras.backend.backend()` and runs the function of the same name in
``anykeras.loops.<backend>`` (`gather_sum` falls back to `keras.ops` where there is none);
importing this module imports no backend. `anykeras.loops` names them all.

Example:
>>> import numpy as np
>>> out = segment_sum(np.ones((3, 2), "float32"), np.array([0, 0, 1], "int32"), 2)
>>> keras.ops.convert_to_numpy(out).tolist()
[[2.0, 2.0], [1.0, 1.0]]
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import keras
import numpy as np

from anykeras.spec import BACKENDS, check_int

__all__ = [
    "feed",
    "gather_sum",
    "predict",
    "segment_sum",
    "set_threads",
    "threads",
    "using_threads",
]


def backend_module() -> ModuleType:
    """Import and return ``anykeras.loops.<backend>`` for the running Keras backend.

    Returns:
        The module that holds the current backend's ``CustomStepModel`` and
        ``train_epochs``.

    Raises:
        NotImplementedError: The backend is not one of `BACKENDS` (e.g. ``"numpy"``,
            which cannot train).

    Example:
    >>> import keras
    >>> backend_module().__name__ == f"anykeras.loops.{keras.backend.backend()}"
    True
    """
    name = keras.backend.backend()
    if name not in BACKENDS:
        raise NotImplementedError(
            f"anykeras.loops supports the backends {BACKENDS}. "
            f"Received: keras.backend.backend()={name!r}"
        )
    return importlib.import_module(f"anykeras.loops.{name}")


def segment_sum(data: Any, segment_ids: Any, num_segments: int) -> Any:
    """The rows of ``data`` summed per segment id, with each backend's fastest kernel.

    The same values as ``keras.ops.segment_sum(data, segment_ids, num_segments)``
    (to float32 rounding: the sums may run in another order), and the same gradient.
    PyTorch adds whole rows with ``index_add`` (Keras's own PyTorch segment sum
    broadcasts the ids and scatters element by element, about 3x slower forward and
    backward); TensorFlow calls ``tf.math.unsorted_segment_sum``, JAX
    ``jax.ops.segment_sum``.

    Args:
        data: ``(n, ...)`` values.
        segment_ids: ``(n,)`` integer ids in ``[0, num_segments)``, in any order.
        num_segments: Rows of the result (a tensor inside a TensorFlow graph).

    Returns:
        ``(num_segments, ...)``: row ``i`` is the sum of the rows of ``data`` whose id
        is ``i`` (zeros where none is).

    Example:
    >>> import numpy as np
    >>> data = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype="float32")
    >>> out = segment_sum(data, np.array([1, 0, 1], dtype="int32"), num_segments=3)
    >>> keras.ops.convert_to_numpy(out).tolist()
    [[3.0, 4.0], [6.0, 8.0], [0.0, 0.0]]
    """
    data = keras.ops.convert_to_tensor(data)
    segment_ids = keras.ops.convert_to_tensor(segment_ids, dtype="int32")
    return backend_module().segment_sum(data, segment_ids, num_segments)


def gather_sum(table: Any, ids: Any, segment_ids: Any, num_segments: int, pad_id: int = 0) -> Any:
    """The rows of ``table`` at ``ids`` summed per segment, ``pad_id`` entries left out.

    Row ``i`` of the result is the sum of ``table[ids[j]]`` over the ``j`` whose
    ``segment_ids[j]`` is ``i`` and whose ``ids[j]`` is not ``pad_id``: a sparse
    layer's product of 0/1 rows with its kernel, read from the rows' ids (how
    `anykeras.speed.PackedSparseDense` computes). The same values as gathering with
    ``keras.ops.take`` and summing with `segment_sum` (to float32 rounding), and the
    same gradient for ``table``.

    PyTorch sums with ``embedding_bag`` when the kept ids come first and their segments
    in order (`anykeras.speed.PackedBatches`'s layout): one pass, a tenth of the time of
    a gather and an ``index_add`` on a CPU; its gradient is one ``index_add``. JAX and
    TensorFlow gather and call their segment sums (under ``jit`` the two fuse).

    Args:
        table: ``(rows, units)`` values, e.g. a kernel.
        ids: ``(n,)`` integer row numbers of ``table``; ``pad_id`` marks nothing.
        segment_ids: ``(n,)`` integer ids in ``[0, num_segments)``, one per entry.
        num_segments: Rows of the result (a tensor inside a TensorFlow graph).
        pad_id: The id of no row (it may lie outside ``table``).

    Returns:
        ``(num_segments, units)``: zeros where a segment has no kept entry.

    Example:
    >>> import numpy as np
    >>> table = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]], dtype="float32")
    >>> ids, segments = np.array([1, 2, 0, 2, 0]), np.array([0, 0, 1, 1, 1])
    >>> out = gather_sum(table, ids, segments, num_segments=3)
    >>> keras.ops.convert_to_numpy(out).tolist()
    [[2.0, 3.0], [2.0, 2.0], [0.0, 0.0]]
    """
    table = keras.ops.convert_to_tensor(table)
    ids = keras.ops.convert_to_tensor(ids, dtype="int32")
    segment_ids = keras.ops.convert_to_tensor(segment_ids, dtype="int32")
    own = getattr(backend_module(), "gather_sum", None)
    if own is not None:
        return own(table, ids, segment_ids, num_segments, pad_id)
    ops = keras.ops
    keep = ops.not_equal(ids, pad_id)
    if not 0 <= pad_id < table.shape[0]:  # read row 0 for the padding; its weight is 0
        ids = ops.where(keep, ids, ops.zeros_like(ids))
    weights = ops.expand_dims(ops.cast(keep, table.dtype), 1)
    # Gather from a (rows, 1, units) view, as SparseDense's padded sum gathers.
    values = ops.squeeze(ops.take(ops.expand_dims(table, 1), ids, axis=0), axis=1)
    return segment_sum(ops.multiply(values, weights), segment_ids, num_segments)


def feed(dataset: keras.utils.PyDataset) -> Any:
    """What ``fit`` should get to read ``dataset``: the same batches, in the same order.

    On TensorFlow a ``tf.data.Dataset`` that the training loop reads itself, where Keras
    would prefetch the ``PyDataset`` on a background thread that contends with the step
    for the cores (an IMDB epoch 0.15 s instead of 0.20-0.26 s on 2 cores). On JAX and
    PyTorch, ``dataset`` itself: Keras reads it in the loop already.

    Example:
    >>> import numpy as np
    >>> from anykeras.training.batches import EpochOrder, SeededBatches
    >>> x, y = np.ones((5, 2), "float32"), np.zeros(5, "float32")
    >>> batches = SeededBatches(x, y, batch_size=2, order=EpochOrder(0))
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> len(model.fit(feed(batches), epochs=2, shuffle=False, verbose=0).history["loss"])
    2
    """
    return backend_module().feed(dataset)


def predict(model: keras.Model, x: Any, batch_size: int = 512) -> np.ndarray:
    """The outputs ``model.predict(x, batch_size=batch_size)`` gives, without its loop.

    Keras's ``predict`` runs callbacks after every batch and copies each batch's outputs
    to NumPy before it starts the next. Here the backend's compiled forward pass (the
    model called with ``training=False``) runs batch after batch and the outputs are
    gathered once at the end: JAX queues the batches without waiting, TensorFlow runs a
    ``tf.function`` (with XLA when the model is compiled with it), PyTorch calls the
    module under ``torch.no_grad()``. The same numbers as ``model.predict``, for a
    model of one input and one output.

    Args:
        model: A built model.
        x: Inputs, one row per sample; or a `keras.utils.PyDataset` whose batches'
            first element is the input (`anykeras.speed.PackedBatches`, say).
        batch_size: Samples per forward pass, for an array ``x``.

    Example:
    >>> import numpy as np
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> x = np.random.default_rng(0).normal(size=(10, 3)).astype("float32")
    >>> np.allclose(predict(model, x, batch_size=4), model.predict(x, verbose=0), atol=1e-6)
    True
    """
    check_int("batch_size", batch_size)
    forward = backend_module().forward(model)
    if isinstance(x, keras.utils.PyDataset):
        batches = (x[index][0] for index in range(len(x)))
    else:
        x = np.asarray(x) if not keras.ops.is_tensor(x) else x
        batches = (x[start : start + batch_size] for start in range(0, len(x), batch_size))
    outputs = [forward(batch) for batch in batches]
    return np.concatenate([keras.ops.convert_to_numpy(output) for output in outputs])


def threads() -> int | None:
    """The threads each operation of the backend may use, where the backend says.

    PyTorch's and TensorFlow's intra-op pool size (TensorFlow's 0 means one per core);
    ``None`` on JAX, whose XLA pool is sized when JAX starts.

    Example:
    >>> count = threads()
    >>> count is None or count >= 0
    True
    """
    return backend_module().threads()


def set_threads(count: int) -> bool:
    """Let each operation use at most ``count`` threads from now on, if the backend can.

    On a machine whose cores are busy with other work, fewer threads than cores wait
    less for each other. PyTorch can change its pool at any time; TensorFlow only
    before it runs its first operation; JAX never once it has started (set
    ``XLA_FLAGS`` before then). See also ``OMP_WAIT_POLICY``, which the ``anykeras``
    command sets to ``PASSIVE`` before PyTorch starts (`anykeras.cli.select_backend`).

    Args:
        count: A positive number of threads.

    Returns:
        Whether the backend took the setting.

    Example:
    >>> before = threads()
    >>> took = set_threads(1)
    >>> took == (keras.backend.backend() in ("torch", "tensorflow") and threads() == 1)
    True
    >>> _ = set_threads(before) if before else None
    """
    return bool(backend_module().set_threads(check_int("count", count)))


@contextlib.contextmanager
def using_threads(count: int | None) -> Iterator[bool]:
    """Within the block, each operation uses at most ``count`` threads, if the backend can.

    The pool's former size comes back when the block ends. ``None`` changes nothing.
    Only PyTorch can resize its pool at any time (`set_threads`), so elsewhere the block
    usually runs as it would without it. Yields whether the setting took.

    Example:
    >>> with using_threads(1) as took:
    ...     took == (keras.backend.backend() == "torch") or keras.backend.backend() == "tensorflow"
    True
    """
    before = threads() if count is not None else None
    took = count is not None and before != count and set_threads(count)
    try:
        yield took
    finally:
        if took and before:
            set_threads(before)
