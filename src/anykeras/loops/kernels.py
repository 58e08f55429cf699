"""The backend's fastest kernels behind one backend-neutral call each.

What the speed routes (`anykeras.speed`) and the bench need from a backend, chosen by
measurement: a segment sum, a way to feed batches, a forward pass over batches, and the
size of the thread pool. Each call reads `keras.backend.backend()` and runs the
function of the same name in ``anykeras.loops.<backend>``; importing this module imports
no backend. `anykeras.loops` names them all.

Example:
>>> import numpy as np
>>> out = segment_sum(np.ones((3, 2), "float32"), np.array([0, 0, 1], "int32"), 2)
>>> keras.ops.convert_to_numpy(out).tolist()
[[2.0, 2.0], [1.0, 1.0]]
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import keras
import numpy as np

from anykeras.spec import check_int

__all__ = ["feed", "predict", "segment_sum", "set_threads", "threads"]


def _backend() -> ModuleType:
    """``anykeras.loops.<backend>`` for the current backend."""
    from anykeras.loops import backend_module  # the package imports this module first

    return backend_module()


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
    return _backend().segment_sum(data, segment_ids, num_segments)


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
    return _backend().feed(dataset)


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
    forward = _backend().forward(model)
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
    return _backend().threads()


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
    return bool(_backend().set_threads(check_int("count", count)))
