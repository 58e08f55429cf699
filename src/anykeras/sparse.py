"""The first Dense layer of a multi-hot model, computed from word ids: a gather-and-sum.

A Dense layer on a multi-hot review ``x`` computes ``x @ kernel + bias``. As ``x`` is 0/1,
that is the sum of the kernel rows of the words present, plus the bias. `SparseDense`
computes exactly that sum from the review's padded word ids, reading a few hundred
kernel rows instead of multiplying a 10,000-wide, mostly-zero vector: the same outputs,
with the same ``(num_tokens, units)`` kernel and ``(units,)`` bias, so weights copy
between a model built by `build_sparse` and one built by `anykeras.build`.

    ids = unique_ids(x_train, num_tokens=10000)            # (n, maxlen) int32, pad 0
    model = build_sparse(ClassifierSpec(input_shape=(10000,)))
    model.set_weights(dense_model.get_weights())           # either way round

Example:
>>> import numpy as np
>>> from anykeras.spec import ClassifierSpec
>>> ids = unique_ids([[1, 5, 5, 3], [4]], num_tokens=8)
>>> ids.tolist()
[[1, 3, 5], [4, 0, 0]]
>>> model = build_sparse(ClassifierSpec(input_shape=(8,), hidden=(4,)))
>>> [layer.name for layer in model.layers]
['word_ids', 'hidden_1', 'output']
>>> tuple(model.predict(ids, verbose=0).shape)
(2, 1)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from anykeras.builders.sequential import head_layer, hidden_layers
from anykeras.data.encoding import flatten
from anykeras.spec import ClassifierSpec


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


@keras.saving.register_keras_serializable(package="anykeras")
class SparseDense(keras.layers.Layer):
    """``Dense`` on the multi-hot vector of each row's word ids, without building it.

    For a batch of padded ids ``(batch, length)``, row ``i`` of the output is
    ``activation(sum(kernel[j] for j in set(ids[i]) - {pad_id}) + bias)``: exactly what
    ``keras.layers.Dense(units, activation)`` computes on
    ``anykeras.data.encoding.multi_hot(ids, num_tokens)``, since that vector is 1 at each
    distinct id and 0 elsewhere. A word repeated in a row counts once, as in the
    multi-hot vector; the pad id never counts, so it must not be a real word (IMDB's
    id 0 is padding and never a word).

    The kernel is ``(num_tokens, units)`` and the bias ``(units,)``, in that order, as
    in ``Dense``, so weights copy between the two.

    Args:
        units: Positive integer, dimensionality of the output.
        num_tokens: The vocabulary size: the width of the multi-hot vector this layer
            stands for, and the kernel's first axis. Ids must lie in
            ``[0, num_tokens)``.
        activation: Name of the activation applied after the affine map, or
            ``None`` for a linear layer.
        pad_id: The id that fills short rows; it adds nothing.
        deduplicate: Drop repeated ids within a row (sort, then mask each id equal to
            its left neighbour). Leave it ``True`` unless every row is already free of
            repeats, as `unique_ids` makes it: then ``False`` skips the sort, and a
            repeated id would be counted twice.
        kernel_initializer: Initializer of the kernel.
        bias_initializer: Initializer of the bias.
        **kwargs: Base layer keyword arguments, such as ``name`` and ``dtype``.

    Example:
    >>> import numpy as np
    >>> layer = SparseDense(2, num_tokens=4, kernel_initializer="ones")
    >>> ids = np.array([[1, 3, 3], [2, 0, 0]], dtype="int32")
    >>> keras.ops.convert_to_numpy(layer(ids)).tolist()
    [[2.0, 2.0], [1.0, 1.0]]
    >>> [tuple(w.shape) for w in layer.weights]
    [(4, 2), (2,)]
    """

    def __init__(
        self,
        units: int,
        num_tokens: int,
        activation: str | None = None,
        pad_id: int = 0,
        deduplicate: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = _positive_int(units, "units")
        self.num_tokens = _positive_int(num_tokens, "num_tokens")
        if isinstance(pad_id, bool) or not isinstance(pad_id, (int, np.integer)):
            raise ValueError(f"pad_id must be an integer. Received: pad_id={pad_id!r}")
        self.pad_id = int(pad_id)
        if not isinstance(deduplicate, bool):
            raise ValueError(f"deduplicate must be True or False. Received: {deduplicate!r}")
        self.deduplicate = deduplicate
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        """Create the ``(num_tokens, units)`` kernel and the ``(units,)`` bias."""
        packed = len(input_shape) == 3 and input_shape[1] == 2
        if len(input_shape) != 2 and not packed:
            raise ValueError(
                "SparseDense expects padded word ids of shape (batch, length), or packed "
                "ids of shape (batch, 2, width) (see anykeras.packed). "
                f"Received: input_shape={tuple(input_shape)}"
            )
        if packed and self.deduplicate:
            raise ValueError(
                "packed ids hold each row's distinct ids already (anykeras.packed checks "
                "it), so build the layer with deduplicate=False. Received: deduplicate=True"
            )
        self.kernel = self.add_weight(
            shape=(self.num_tokens, self.units),
            initializer=self.kernel_initializer,
            name="kernel",
        )
        self.bias = self.add_weight(
            shape=(self.units,), initializer=self.bias_initializer, name="bias"
        )

    def call(self, inputs: Any) -> Any:
        """Gather the kernel rows of each row's distinct ids, sum them, add the bias."""
        ids = ops.cast(inputs, "int32")
        summed = self._sum_packed(ids) if len(ids.shape) == 3 else self._sum_padded(ids)
        return self.activation(ops.add(summed, self.bias))

    def _kernel(self) -> Any:
        if keras.backend.backend() == "tensorflow":
            # TensorFlow differentiates a gather into IndexedSlices, one slice per id,
            # repeats included, and Keras's optimizers then update row by row: rmsprop
            # would square each slice before summing them, not the summed gradient, and
            # so differ from Dense. A multiply's gradient is a dense tensor: the same
            # update as Dense's, for one (num_tokens, units) product per step.
            return ops.multiply(self.kernel, ops.ones((), dtype=self.kernel.dtype))
        return self.kernel

    def _safe(self, ids: Any, keep: Any) -> Any:
        if 0 <= self.pad_id < self.num_tokens:
            return ids
        # A pad id outside the kernel would be out of range for `take`: read row 0
        # instead, which its zero weight cancels.
        return ops.where(keep, ids, ops.zeros_like(ids))

    def _sum_padded(self, ids: Any) -> Any:
        """``(batch, length)`` ids: one row per sample, pad ids fill the rest."""
        if self.deduplicate:
            ids = ops.sort(ids, axis=-1)
            # After sorting, a repeat sits right of its first copy: keep only the first.
            first = ops.not_equal(ids[:, 1:], ids[:, :-1])
            keep = ops.concatenate([ops.ones_like(ids[:, :1], dtype="bool"), first], axis=-1)
            keep = ops.logical_and(keep, ops.not_equal(ids, self.pad_id))
        else:
            keep = ops.not_equal(ids, self.pad_id)
        weights = ops.cast(keep, self.compute_dtype)
        ids = self._safe(ids, keep)
        # Gather from a (num_tokens, 1, units) view: Keras's PyTorch `take` then runs
        # index_select, whose backward is several times faster on CPU than that of the
        # embedding lookup it uses for a 2-D table. Same rows, same gradient.
        rows = ops.take(ops.expand_dims(self._kernel(), 1), ids, axis=0)
        rows = ops.squeeze(rows, axis=2)  # (batch, length, units)
        # (batch, 1, length) @ (batch, length, units): a weighted sum over the row's ids.
        return ops.squeeze(ops.matmul(ops.expand_dims(weights, 1), rows), axis=1)

    def _sum_packed(self, packed: Any) -> Any:
        """``(batch, 2, width)``: every id of the batch, and the row each belongs to."""
        ids = ops.reshape(packed[:, 0, :], (-1,))
        rows = ops.reshape(packed[:, 1, :], (-1,))
        keep = ops.not_equal(ids, self.pad_id)
        weights = ops.expand_dims(ops.cast(keep, self.compute_dtype), 1)
        values = ops.multiply(ops.take(self._kernel(), self._safe(ids, keep), axis=0), weights)
        return ops.segment_sum(values, rows, num_segments=ops.shape(packed)[0])

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        """``(batch, units)``."""
        return (input_shape[0], self.units)

    def get_config(self) -> dict[str, Any]:
        """Everything `__init__` needs to make the same layer again."""
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "num_tokens": self.num_tokens,
                "activation": keras.activations.serialize(self.activation),
                "pad_id": self.pad_id,
                "deduplicate": self.deduplicate,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config


def unique_ids(
    sequences: Iterable[Sequence[int]],
    num_tokens: int,
    maxlen: int | None = None,
    pad_id: int = 0,
) -> np.ndarray:
    """Each sequence's distinct ids, ascending, right-padded with ``pad_id`` (int32).

    The input `SparseDense` reads cheapest: no repeats (so the layer may skip its
    deduplication) and no more columns than the most distinct words in a review, often
    far fewer than the longest review. ``pad_id`` itself is dropped from every row,
    as the layer ignores it anyway.

    Args:
        sequences: Sequences of integer ids in ``[0, num_tokens)``, e.g. ``x_train`` from
            ``imdb.load_data(num_words=num_tokens)``, or a 2-D integer array.
        num_tokens: The vocabulary size; every id must be below it.
        maxlen: Columns of the result; ``None`` means the most distinct ids in a row.
            A row with more distinct ids than ``maxlen`` raises, as cutting it would
            change the multi-hot vector it stands for.
        pad_id: The id that fills short rows.

    Returns:
        An int32 array of shape ``(len(sequences), maxlen)``.

    Raises:
        ValueError: An id is negative or not below ``num_tokens``, or a row does not fit
            in ``maxlen``.

    Example:
    >>> unique_ids([[3, 1, 3], [], [2, 0]], num_tokens=4).tolist()
    [[1, 3], [0, 0], [2, 0]]
    >>> unique_ids([[3, 1, 3]], num_tokens=4, maxlen=3, pad_id=-1).tolist()
    [[1, 3, -1]]
    """
    num_tokens = _positive_int(num_tokens, "num_tokens")
    flat, lengths = flatten(sequences)
    if flat.size and (flat.min() < 0 or flat.max() >= num_tokens):
        bad = int(flat.min()) if flat.min() < 0 else int(flat.max())
        raise ValueError(
            f"every id must be in [0, num_tokens={num_tokens}). Received an id of {bad}"
        )
    rows = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    keys = np.sort(rows * num_tokens + flat)  # by row, then by id
    # (np.unique does the same, but its hash-based path is ten times slower here.)
    if keys.size:
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    rows, ids = np.divmod(keys, num_tokens)
    kept = ids != pad_id
    rows, ids = rows[kept], ids[kept]
    counts = np.bincount(rows, minlength=len(lengths))
    most = int(counts.max()) if len(counts) else 0
    if maxlen is None:
        maxlen = most
    elif isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0:
        raise ValueError(f"maxlen must be None or an integer >= 0. Received: maxlen={maxlen!r}")
    elif most > maxlen:
        raise ValueError(
            f"maxlen must fit every row's distinct ids: a row has {most}. Received: maxlen={maxlen}"
        )
    out = np.full((len(lengths), maxlen), pad_id, dtype=np.int32)
    columns = np.arange(len(ids)) - np.repeat(np.cumsum(counts) - counts, counts)
    out[rows, columns] = ids
    return out


#: How a sparse model takes its word ids (see `build_sparse`).
LAYOUTS = ("padded", "packed")


def build_sparse(
    spec: ClassifierSpec, pad_id: int = 0, deduplicate: bool = True, layout: str = "padded"
) -> keras.Model:
    """``spec`` as a Functional model that reads padded word ids instead of multi-hot rows.

    The first layer is a `SparseDense` named like the Dense it replaces (``hidden_1``,
    or ``output`` for a spec without hidden layers); every other layer is the one
    `anykeras.builders.build_functional` makes, in the same order. So
    ``sparse.set_weights(dense.get_weights())`` (and the reverse) copies the model, and
    both predict the same on ``multi_hot(ids)`` and ``ids``.

    Args:
        spec: A classifier with a 1-D ``input_shape`` of ``(num_tokens,)``.
        pad_id: The id that fills short rows.
        deduplicate: See `SparseDense`; ``False`` only for inputs made by `unique_ids`
            (and always ``False`` for ``layout="packed"``).
        layout: ``"padded"``: one row of ids per sample, ``(batch, length)``, as
            `unique_ids` makes them. ``"packed"``: batches of ``(batch, 2, width)``,
            every id of the batch and the row it belongs to, as
            `anykeras.packed.PackedBatches` makes them: no work on padding.

    Returns:
        A built, uncompiled Functional model with one int32 input ``word_ids`` of shape
        ``(batch, length)`` (or ``(batch, 2, width)`` when packed); any length works.

    Copy weights with ``get_weights`` / ``set_weights`` (or through a ``.keras`` file of
    either model and ``get_weights``): a ``.weights.h5`` file names each layer by its
    class, so a dense model's file does not load into a sparse model.

    Raises:
        ValueError: ``spec``'s input is not one vector per sample.

    Example:
    >>> spec = ClassifierSpec(input_shape=(10000,), hidden=(16, 16))
    >>> build_sparse(spec).count_params()
    160305
    """
    if not isinstance(spec, ClassifierSpec):
        raise TypeError(f"spec must be a ClassifierSpec. Received: {type(spec).__name__}")
    if len(spec.input_shape) != 1:
        raise ValueError(
            "build_sparse needs a spec whose input is one multi-hot vector per sample, "
            f"input_shape=(num_tokens,). Received: input_shape={spec.input_shape}"
        )
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}. Received: layout={layout!r}")
    layers = [*hidden_layers(spec), head_layer(spec)]
    first = layers[0]
    layers[0] = SparseDense(
        first.units,
        num_tokens=spec.input_shape[0],
        activation=first.activation,
        pad_id=pad_id,
        deduplicate=deduplicate and layout == "padded",
        name=first.name,
    )
    shape = (None,) if layout == "padded" else (2, None)
    inputs = keras.Input(shape=shape, dtype="int32", name="word_ids")
    x = inputs
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs, x, name="sparse_classifier")


__all__ = ["LAYOUTS", "SparseDense", "build_sparse", "unique_ids"]
