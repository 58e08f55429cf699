"""A fast input path for `keras.Model.fit` and ``predict``: same model, same math, less copying.

``model.fit`` on NumPy arrays indexes and copies every batch in NumPy and then converts
it to a backend tensor. Two things make that cheaper without touching the model:

1. **Compact inputs.** A multi-hot matrix holds only 0 and 1, so it can be stored as
   ``uint8`` (``anykeras.data.encoding.multi_hot(..., dtype="uint8")``): a quarter of the
   bytes to index, copy and convert per batch, and a quarter of the memory. The model's
   ``Input`` (``float32``) casts each batch inside the compiled step, so the values,
   and everything computed from them, are exactly those of the ``float32`` matrix.
2. **The backend's best input strategy** (`STRATEGIES`) and, on TensorFlow, XLA
   (`JIT_COMPILE`), which `fast_fit` and `fast_predict` apply:

   - ``"arrays"``: the arrays go to ``fit`` / ``predict`` as given (plain Keras).
   - ``"tensors"``: backend tensors made once (`keras.ops.convert_to_tensor`) go to
     ``fit`` / ``predict``; Keras slices them.
   - ``"batches"``: backend tensors made once, cut by a `keras.utils.PyDataset`: one
     `keras.ops.take` per shuffled batch, a plain slice per batch in order.
   - ``"direct"`` (``predict`` only): `anykeras.loops.predict`, the backend's compiled
     forward pass batch after batch, without Keras's predict loop (its callbacks and
     a NumPy copy before each next batch): the same outputs.
   - ``"packed"``: for `anykeras.builders.sparse.build_sparse` models built with
     ``layout="packed"``: padded word ids (`anykeras.data.encoding.unique_ids`) go in as
     `anykeras.speed.PackedBatches`, each batch's ids end to end, without the padding,
     shuffled in anykeras's seeded order (`anykeras.training.batches.EpochOrder`), and
     fed as the sparse route feeds them (`anykeras.loops.feed`: on TensorFlow, without
     Keras's prefetch thread).

What ``benchmarks/bench.py`` measured (2 shared CPU cores, 15,000 x 10,000 multi-hot
rows, batch 512, several runs; see ``bench-results/results.md``):

- Converting to tensors once (``"tensors"``), or gathering batches from them
  (``"batches"``), did not beat plain ``fit`` on any backend by more than the noise:
  Keras 3's NumPy path copies a batch about as fast as a backend gathers one, and the
  tensor copies cost 600 MB more memory. So every backend keeps ``"arrays"``.
- Compact ``uint8`` rows: 13-47% faster epochs on JAX; on TensorFlow and PyTorch within
  the noise of plain ``fit`` (0.8x-1.2x from run to run); faster prediction on all three
  (0.55x-0.75x of plain ``predict``), and about a third of the peak memory.
- XLA on TensorFlow (Keras leaves it off on a CPU-only machine; `fast_fit` turns it on):
  no difference for the dense model, about twice as fast for sparse models.

The big gain is not in the input path but in the model: a sparse model
(`anykeras.builders.sparse.build_sparse`, `anykeras.layers.SparseDense`) computes the
same first layer from word ids. On the real IMDB reviews (15,000 a epoch), fed as
packed batches on JAX, an epoch took 0.040 s, against 0.106 s for a hand-written dense
JAX loop and 0.143 s for plain ``fit``. With padded rows (`anykeras.speed.SPARSE_LAYOUTS`
on PyTorch and TensorFlow), every review is as wide as the longest one (588 distinct
words, where the average is 132). That padded model ran 1.4x-1.6x the hand-written loops
there.

Example:
>>> import numpy as np
>>> from anykeras import ClassifierSpec, build
>>> from anykeras.training import compile_model
>>> spec = ClassifierSpec(input_shape=(6,), hidden=(4,))
>>> model = compile_model(build(spec), spec)
>>> x, y = np.ones((10, 6), "float32"), np.ones((10, 1), "float32")
>>> history = fast_fit(model, x, y, epochs=2, batch_size=4, verbose=0)
>>> sorted(history.history), len(history.history["loss"])
(['accuracy', 'loss'], 2)
>>> tuple(fast_predict(model, x, batch_size=4).shape)
(10, 1)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from anykeras import loops
from anykeras.spec import check_int
from anykeras.speed import SPARSE_THREADS, STEPS_PER_EXECUTION, PackedBatches
from anykeras.training.batches import EpochOrder

__all__ = [
    "JIT_COMPILE",
    "STRATEGIES",
    "fast_fit",
    "fast_predict",
    "strategy_for",
    "to_tensors",
]

KNOWN = ("arrays", "tensors", "batches", "packed", "direct")

#: The input strategy of `fast_fit` ("train") and `fast_predict` ("predict") per backend.
STRATEGIES: dict[str, dict[str, str]] = {
    "jax": {"train": "arrays", "predict": "direct"},
    "torch": {"train": "arrays", "predict": "direct"},
    "tensorflow": {"train": "arrays", "predict": "direct"},
}

#: Whether `fast_fit` compiles the model's steps with XLA, per backend (``None``: as
#: compiled). Only TensorFlow needs it: Keras's "auto" turns XLA off on a CPU-only
#: machine, while JAX always compiles and PyTorch's ``torch.compile`` is another matter.
JIT_COMPILE: dict[str, bool | None] = {"jax": None, "torch": None, "tensorflow": True}


def strategy_for(task: str = "train", backend: str | None = None) -> str:
    """The input strategy `fast_fit` (``task="train"``) or `fast_predict` uses.

    Args:
        task: ``"train"`` or ``"predict"``.
        backend: A Keras backend name; the current one by default.

    Returns:
        One of ``"arrays"``, ``"tensors"`` and ``"batches"`` (and ``"direct"`` to predict).

    Example:
    >>> strategy_for("train", backend="jax"), strategy_for("predict", backend="torch")
    ('arrays', 'direct')
    """
    if task not in ("train", "predict"):
        raise ValueError(f"task must be 'train' or 'predict'. Received: task={task!r}")
    backend = backend or keras.backend.backend()
    return STRATEGIES.get(backend, {}).get(task, "arrays")


def to_tensors(*arrays: Any) -> tuple[Any, ...]:
    """Each array as a backend tensor, converted once; ``None`` and tensors pass through.

    A float array of another dtype than Keras's ``floatx`` becomes ``floatx``, as
    ``fit`` would convert it batch by batch; integer arrays keep their dtype.

    Example:
    >>> import numpy as np
    >>> x, nothing = to_tensors(np.zeros((2, 3)), None)
    >>> tuple(x.shape), keras.backend.standardize_dtype(x.dtype), nothing
    ((2, 3), 'float32', None)
    """
    return tuple(_to_tensor(a) for a in arrays)


def _to_tensor(array: Any) -> Any:
    if array is None or ops.is_tensor(array):
        return array
    array = np.asarray(array)
    if np.issubdtype(array.dtype, np.floating) and array.dtype != keras.config.floatx():
        array = array.astype(keras.config.floatx())
    return ops.convert_to_tensor(array)


class _TensorBatches(keras.utils.PyDataset):
    """Batches cut from tensors made once: slices in order, one `ops.take` when shuffled."""

    def __init__(self, x: Any, y: Any, batch_size: int, shuffle: bool) -> None:
        super().__init__()
        self.arrays = (x,) if y is None else (x, y)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.size = int(x.shape[0])
        self.order: np.ndarray | None = None

    def __len__(self) -> int:
        return math.ceil(self.size / self.batch_size)

    def on_epoch_begin(self) -> None:
        if self.shuffle:
            # NumPy's global generator, as Keras's own shuffling: the one that
            # `keras.utils.set_random_seed` seeds.
            self.order = np.random.permutation(self.size).astype("int32")  # noqa: NPY002

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        start = index * self.batch_size
        stop = min(start + self.batch_size, self.size)
        if self.order is None:
            return tuple(a[start:stop] for a in self.arrays)
        rows = ops.convert_to_tensor(self.order[start:stop])
        return tuple(ops.take(a, rows, axis=0) for a in self.arrays)


def _check_strategy(strategy: str | None, task: str) -> str:
    strategy = strategy or strategy_for(task)
    if strategy not in KNOWN:
        raise ValueError(f"strategy must be one of {KNOWN}. Received: strategy={strategy!r}")
    return strategy


def _check_pair(x: Any, y: Any, name: str) -> None:
    for label, value in (("x", x), ("y", y)):
        if not (hasattr(value, "shape") or isinstance(value, Sequence)):
            raise ValueError(
                f"{name}: {label} must be an array or tensor with one row per sample. "
                f"Received: {label} of type {type(value).__name__}"
            )
    if len(x) != len(y):
        raise ValueError(
            f"{name}: x and y must have the same number of samples. Received: {len(x)} and {len(y)}"
        )


def _use_jit(model: keras.Model, jit_compile: bool | None) -> None:
    """Switch XLA on or off for ``model``'s steps, and take the sparse route's steps per
    call (`anykeras.speed.STEPS_PER_EXECUTION`); rebuild the steps only if that changes."""
    backend = keras.backend.backend()
    if jit_compile is None:
        jit_compile = JIT_COMPILE.get(backend)
    steps = STEPS_PER_EXECUTION.get(backend, 1)
    same_jit = jit_compile is None or bool(model.jit_compile) == jit_compile
    if same_jit and model.steps_per_execution == steps:
        return
    model.steps_per_execution = steps
    if jit_compile is not None:
        model.jit_compile = jit_compile
    model.make_train_function(force=True)
    model.make_test_function(force=True)
    model.make_predict_function(force=True)


def fast_fit(
    model: keras.Model,
    x: Any,
    y: Any,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    shuffle: bool = True,
    validation_data: tuple[Any, Any] | None = None,
    callbacks: Sequence[keras.callbacks.Callback] | None = None,
    verbose: int | str = "auto",
    initial_epoch: int = 0,
    strategy: str | None = None,
    jit_compile: bool | None = None,
    seed: int = 0,
) -> keras.callbacks.History:
    """`keras.Model.fit` through the backend's fastest input path: same model, math, History.

    Args:
        model: A compiled model.
        x: Training inputs (NumPy arrays or backend tensors), one row per sample.
        y: Training targets, same number of rows.
        epochs: Passes over the data.
        batch_size: Samples per gradient step.
        shuffle: Shuffle the samples each epoch.
        validation_data: ``(x_val, y_val)``, converted like ``x`` and ``y``, or ``None``.
        callbacks: Keras callbacks, as for ``fit``.
        verbose: Keras's progress output, as for ``fit``.
        initial_epoch: Epoch to start from (to resume), as for ``fit``.
        strategy: ``"arrays"``, ``"tensors"``, ``"batches"`` or ``"packed"`` (see the
            module); ``None`` takes the backend's entry in `STRATEGIES`.
        jit_compile: Compile the steps with XLA (``True``) or not (``False``); ``None``
            takes the backend's entry in `JIT_COMPILE` (on TensorFlow: XLA on). A change
            stays with the model, for later ``fit``, ``evaluate`` and ``predict`` calls.
        seed: The ``"packed"`` strategy's shuffling: epoch ``e`` visits the samples in
            the order `EpochOrder(seed).permutation(n, e)`, on every backend. The other
            strategies shuffle as Keras does.

    Returns:
        The `keras.callbacks.History` of the run, with the keys ``fit`` gives.

    Raises:
        ValueError: ``x`` and ``y`` differ in length, ``epochs`` or ``batch_size`` is
            not a positive integer, or ``strategy`` is unknown.

    Example:
    >>> import numpy as np
    >>> from anykeras import ClassifierSpec, build
    >>> from anykeras.training import compile_model
    >>> spec = ClassifierSpec(input_shape=(3,), hidden=(2,))
    >>> model = compile_model(build(spec), spec)
    >>> x, y = np.zeros((8, 3), "float32"), np.zeros((8, 1), "float32")
    >>> history = fast_fit(model, x, y, batch_size=4, validation_data=(x, y), verbose=0)
    >>> sorted(history.history)
    ['accuracy', 'loss', 'val_accuracy', 'val_loss']
    """
    check_int("epochs", epochs)
    check_int("batch_size", batch_size)
    strategy = _check_strategy(strategy, "train")
    if strategy == "direct":
        raise ValueError(
            "strategy 'direct' only predicts. Received: strategy='direct' for fast_fit"
        )
    _check_pair(x, y, "fast_fit")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError(
                "validation_data must be a pair (x_val, y_val). "
                f"Received: {type(validation_data).__name__} of length "
                f"{len(validation_data) if hasattr(validation_data, '__len__') else '?'}"
            )
        _check_pair(*validation_data, "fast_fit validation_data")
    _use_jit(model, jit_compile)
    kwargs = {
        "epochs": epochs,
        "validation_data": validation_data,
        "callbacks": list(callbacks or []),
        "verbose": verbose,
        "initial_epoch": initial_epoch,
    }
    if strategy == "arrays":
        return model.fit(x, y, batch_size=batch_size, shuffle=shuffle, **kwargs)
    if strategy == "packed":
        batches = PackedBatches(x, y, batch_size, EpochOrder(seed) if shuffle else None)
        kwargs["callbacks"].append(batches.follow_epochs())  # tells the batches the epoch
        if validation_data is not None:  # one width: one compiled shape for both
            kwargs["validation_data"] = loops.feed(
                PackedBatches(*validation_data, batch_size, None, width=batches.width)
            )
        # The batches shuffle samples themselves; fit's own shuffle would reorder them.
        with loops.using_threads(SPARSE_THREADS.get(keras.backend.backend())):  # as the route
            return model.fit(loops.feed(batches), shuffle=False, **kwargs)
    x, y = to_tensors(x, y)
    if validation_data is not None:
        kwargs["validation_data"] = to_tensors(*validation_data)
        kwargs["validation_batch_size"] = batch_size
    if strategy == "tensors":
        return model.fit(x, y, batch_size=batch_size, shuffle=shuffle, **kwargs)
    # The dataset shuffles samples itself; fit's own shuffle would reorder whole batches.
    return model.fit(_TensorBatches(x, y, batch_size, shuffle), shuffle=False, **kwargs)


def fast_predict(
    model: keras.Model,
    x: Any,
    batch_size: int = 32,
    verbose: int | str = 0,
    strategy: str | None = None,
) -> np.ndarray:
    """`keras.Model.predict` through the backend's fastest input path; returns NumPy.

    Args:
        model: A built model.
        x: Inputs (a NumPy array or a backend tensor).
        batch_size: Samples per forward pass.
        verbose: Keras's progress output.
        strategy: ``"arrays"``, ``"tensors"``, ``"batches"``, ``"packed"`` or ``"direct"``; ``None``
            takes the backend's ``"predict"`` entry in `STRATEGIES`.

    Returns:
        The predictions, as ``model.predict`` returns them.

    Example:
    >>> import numpy as np
    >>> from anykeras import ClassifierSpec, build
    >>> model = build(ClassifierSpec(input_shape=(3,), hidden=(2,)))
    >>> tuple(fast_predict(model, np.zeros((5, 3), "float32")).shape)
    (5, 1)
    """
    check_int("batch_size", batch_size)
    strategy = _check_strategy(strategy, "predict")
    if strategy == "arrays":
        return model.predict(x, batch_size=batch_size, verbose=verbose)
    if strategy == "packed":  # the batches through the compiled forward pass
        with loops.using_threads(SPARSE_THREADS.get(keras.backend.backend())):  # as training
            return loops.predict(model, PackedBatches(x, None, batch_size, None))
    if strategy == "direct":
        return loops.predict(model, x, batch_size)
    (x,) = to_tensors(x)
    if strategy == "tensors":
        return model.predict(x, batch_size=batch_size, verbose=verbose)
    return model.predict(_TensorBatches(x, None, batch_size, shuffle=False), verbose=verbose)
