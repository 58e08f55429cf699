"""Faster routes that give the course's results: compact rows, and word ids.

=========  ==========================================  =======================================
route      what goes into the model                    same results as ``plain``
=========  ==========================================  =======================================
plain      float32 multi-hot rows, ``model.fit``       it is the course's code
compact    uint8 multi-hot rows, ``model.fit``         bit for bit: each batch becomes the
                                                       same float32 values inside the step
sparse     each review's distinct word ids, into       to rounding (about 1e-6 after 20
           the `anykeras.builders.sparse` model        epochs): the same sums, another order
=========  ==========================================  =======================================

Each route is a `anykeras.training.route.Route`: the workflow calls it and knows none
by name. Whatever the route, the model handed back is the course's dense model in the
style asked for (a `anykeras.layers.SparseDense` kernel has the ``Dense`` kernel's
shape, so the sparse model's weights copy into it). Every route sees the samples in the
same seeded order (`anykeras.training.batches`), so they train on the same batches.

Example:
>>> route = get_route("sparse")
>>> route.inputs(np.array([[0, 1, 0, 1], [0, 0, 1, 0]], dtype="uint8")).tolist()
[[1, 3], [2, 0]]
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from anykeras import loops
from anykeras.builders import build
from anykeras.builders.sparse import build_sparse
from anykeras.spec import ROUTES, ClassifierSpec, check_choice
from anykeras.speed.packed import PackedBatches, with_fast_sums
from anykeras.training.batches import EpochOrder
from anykeras.training.route import PLAIN, Route

#: How the sparse route lays out word ids, per backend. Packed batches skip the
#: padding (`anykeras.speed.packed`); padded rows are as wide as the longest review.
#: Packed is the faster everywhere since PyTorch sums them with ``index_add``
#: (`anykeras.loops.segment_sum`) and TensorFlow reads them without a prefetch thread
#: (`anykeras.loops.feed`).
SPARSE_LAYOUTS: dict[str, str] = {"jax": "packed", "torch": "packed", "tensorflow": "packed"}

#: Training steps per call of the compiled function (`keras.Model.compile`'s
#: ``steps_per_execution``) on the sparse route. On TensorFlow each call of a step costs
#: about a millisecond besides the step (an IMDB epoch of 30 packed batches: 0.168 s at
#: 1, 0.129 s at 30, on a quiet 2-core machine; predicting the 25,000 test reviews 0.243
#: s at 1, 0.185 s at 8); on JAX it changed nothing measurable, and Keras's PyTorch
#: trainer takes only 1. The batches, their order and every update stay the same;
#: `anykeras.training.steps.fit` goes back to one step per call when a callback acts
#: after each batch.
STEPS_PER_EXECUTION: dict[str, int] = {"tensorflow": 32}


#: Threads each operation may use while the sparse route trains, per backend (absent:
#: the backend's own choice). PyTorch's packed step is a chain of small operations, none
#: worth splitting over cores: with one thread an IMDB epoch took 0.18-0.21 s on a quiet
#: 2-core machine, with PyTorch's two 0.27-0.29 s (threads waiting passively, as the
#: ``anykeras`` command sets them), and one thread takes no core from other work.
SPARSE_THREADS: dict[str, int] = {"torch": 1}


class CompactRoute(Route):
    """uint8 multi-hot rows into ``fit``: the same values in a quarter of the bytes."""

    name = "compact"

    def check(self, spec: ClassifierSpec, x: np.ndarray) -> None:
        """Refuse anything but multi-hot word rows (uint8 or bool)."""
        x = np.asarray(x) if not hasattr(x, "dtype") else x
        if len(spec.input_shape) != 1 or x.ndim != 2 or x.dtype not in (np.uint8, np.bool_):
            raise ValueError(
                f"route {self.name!r} needs multi-hot word rows (IMDB or Reuters, as uint8). "
                f"Received: x of shape {x.shape} and dtype {x.dtype}"
            )

    def inputs(self, x: np.ndarray, training: bool = True) -> Any:
        """The rows as they are (uint8)."""
        return x

    def batches(
        self, x: Any, y: Any, batch_size: int, order: EpochOrder | None
    ) -> tuple[Any, keras.callbacks.Callback | None]:
        """The plain route's batches, fed as the backend reads them best (`loops.feed`)."""
        data, follow = super().batches(x, y, batch_size, order)
        return (data if isinstance(data, tuple) else loops.feed(data)), follow


class SparseRoute(CompactRoute):
    """Each review's distinct word ids into a `build_sparse` model (see the module)."""

    name = "sparse"

    def __init__(self, layout: str | None = None) -> None:
        self.layout = check_choice(
            "layout", layout or SPARSE_LAYOUTS.get(keras.backend.backend(), "padded"),
            ("padded", "packed"),
        )  # fmt: skip
        self.width: int | None = None

    def inputs(self, x: np.ndarray, training: bool = True) -> Any:
        """Training rows as padded distinct ids; test rows stay rows (for the dense model)."""
        return ids_from_rows(x) if training else x

    def model(self, spec: ClassifierSpec, style: str, fresh: keras.Model) -> keras.Model:
        """A sparse model holding ``fresh``'s initial weights."""
        sparse = build_sparse(spec, deduplicate=False, layout=self.layout)
        if self.layout == "packed":
            sparse = with_fast_sums(sparse)
        sparse.set_weights(fresh.get_weights())
        return sparse

    def compile_options(self) -> dict[str, Any]:
        """XLA on TensorFlow, and several steps per call where that is faster.

        Keras leaves XLA off on a CPU, and with it the gather-sum takes half the time;
        `STEPS_PER_EXECUTION` says where several steps go into one call.
        """
        backend = keras.backend.backend()
        options: dict[str, Any] = {"jit_compile": True} if backend == "tensorflow" else {}
        if STEPS_PER_EXECUTION.get(backend, 1) > 1:
            options["steps_per_execution"] = STEPS_PER_EXECUTION[backend]
        return options

    def fit(self, model: keras.Model, data: Any, **options: Any) -> keras.callbacks.History:
        """`keras.Model.fit`, each operation on `SPARSE_THREADS` threads where set."""
        with loops.using_threads(SPARSE_THREADS.get(keras.backend.backend())):
            return super().fit(model, data, **options)

    def batches(
        self, x: Any, y: Any, batch_size: int, order: EpochOrder | None
    ) -> tuple[Any, keras.callbacks.Callback | None]:
        """Packed batches in the seeded order, or the padded ids as the plain route feeds."""
        if self.layout == "padded":
            return super().batches(x, y, batch_size, order)
        batches = PackedBatches(x, y, batch_size, order)
        self.width = batches.width
        return loops.feed(batches), batches.follow_epochs()

    def validation(self, x: Any, y: Any, batch_size: int) -> Any:
        """Packed validation batches share the training batches' width (one compiled shape)."""
        if self.layout == "padded":
            return (x, y)
        return loops.feed(PackedBatches(x, y, batch_size, None, width=self.width))

    def deliver(
        self, model: keras.Model, spec: ClassifierSpec, style: str, compile_model: Any
    ) -> keras.Model:
        """The dense model of ``style`` with the sparse model's weights."""
        dense = build(spec, style)
        dense.set_weights(model.get_weights())
        return compile_model(dense)


def ids_from_rows(rows: np.ndarray) -> np.ndarray:
    """Multi-hot rows as each row's distinct ids, ascending, padded with 0 (int32).

    Id 0 is the padding (IMDB's and Reuters's id 0 is never a word), so column 0 is
    dropped, as `anykeras.data.encoding.unique_ids` drops it.

    Example:
    >>> ids_from_rows(np.array([[1, 1, 0, 1], [0, 0, 0, 0]], dtype="uint8")).tolist()
    [[1, 3], [0, 0]]
    """
    row, column = np.nonzero(rows[:, 1:])
    column += 1
    counts = np.bincount(row, minlength=len(rows))
    out = np.zeros((len(rows), int(counts.max()) if len(rows) else 0), dtype=np.int32)
    out[row, np.arange(len(row)) - np.repeat(np.cumsum(counts) - counts, counts)] = column
    return out


def get_route(name: str) -> Route:
    """A fresh route called ``name`` (`anykeras.spec.ROUTES`).

    Example:
    >>> get_route("compact").name
    'compact'
    """
    check_choice("route", name, ROUTES)
    return {"plain": lambda: PLAIN, "compact": CompactRoute, "sparse": SparseRoute}[name]()
