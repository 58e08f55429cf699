"""Custom layers written only with `keras.ops`, so they run on every backend.

`SimpleDense` is the course's stateful layer (it owns a kernel and a bias made in
`build`); `MultiHot` is a stateless one (no weights: a pure function of its
input); `SparseDense` is the first Dense layer of a multi-hot model computed from word
ids, a gather-and-sum (the sparse route of `anykeras.speed`). All serialize into
`.keras` files.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from anykeras.spec import check_int, is_int


@keras.saving.register_keras_serializable(package="anykeras")
class SimpleDense(keras.layers.Layer):
    """A stateful layer: ``activation(inputs @ kernel + bias)``.

    It computes what `keras.layers.Dense` computes and holds its weights in the same
    order and shapes (kernel ``(input_dim, units)``, then bias ``(units,)``), so
    weights copy between the two.

    Args:
        units: Positive integer, dimensionality of the output.
        activation: Name of the activation applied after the affine map, or
            ``None`` for a linear layer.
        kernel_initializer: Initializer of the kernel.
        bias_initializer: Initializer of the bias.
        **kwargs: Base layer keyword arguments, such as ``name`` and ``dtype``.

    Example:
    >>> import numpy as np
    >>> layer = SimpleDense(4, activation="relu")
    >>> tuple(layer(np.ones((2, 3), dtype="float32")).shape)
    (2, 4)
    >>> [tuple(w.shape) for w in layer.weights]
    [(3, 4), (4,)]
    """

    def __init__(
        self,
        units: int,
        activation: str | None = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        """Create the kernel and bias once the input's last axis is known."""
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer=self.kernel_initializer,
            name="kernel",
        )
        self.bias = self.add_weight(
            shape=(self.units,), initializer=self.bias_initializer, name="bias"
        )

    def call(self, inputs: Any) -> Any:
        """Apply ``activation(inputs @ kernel + bias)``."""
        return self.activation(ops.add(ops.matmul(inputs, self.kernel), self.bias))

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        """Same shape as the input, with the last axis replaced by ``units``."""
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        """Everything `__init__` needs to make the same layer again."""
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": keras.activations.serialize(self.activation),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="anykeras")
class MultiHot(keras.layers.Layer):
    """A stateless layer: padded word ids in, multi-hot vectors out.

    Row ``i`` of the output has a 1 at every id that occurs in row ``i`` of the
    input, exactly like `anykeras.data.encoding.multi_hot` does in NumPy. Ids equal
    to ``pad_id`` and ids outside ``[0, num_tokens)`` are ignored.

    Args:
        num_tokens: Length of the output vectors (the vocabulary size).
        pad_id: The id that fills short rows; it never sets a 1.
        **kwargs: Base layer keyword arguments, such as ``name`` and ``dtype``.

    Example:
    >>> import numpy as np
    >>> ids = np.array([[1, 3, 3, 0], [2, 0, 0, 0]])
    >>> np.asarray(MultiHot(num_tokens=5)(ids)).tolist()
    [[0.0, 1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0]]
    """

    def __init__(self, num_tokens: int, pad_id: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.num_tokens = check_int("num_tokens", num_tokens)
        self.pad_id = pad_id
        self.built = True  # nothing to build: no weights

    def call(self, inputs: Any) -> Any:
        """Turn ``(batch, length)`` ids into ``(batch, num_tokens)`` multi-hot rows."""
        ids = ops.cast(inputs, "int32")
        # one_hot gives all-zero rows for ids outside [0, num_tokens); mask the pad id.
        hot = ops.one_hot(ids, self.num_tokens, dtype=self.compute_dtype)
        keep = ops.cast(ops.not_equal(ids, self.pad_id), self.compute_dtype)
        return ops.max(hot * ops.expand_dims(keep, -1), axis=-2)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        """``(batch, num_tokens)``."""
        return (*input_shape[:-1], self.num_tokens)

    def get_config(self) -> dict[str, Any]:
        """Everything `__init__` needs to make the same layer again."""
        config = super().get_config()
        config.update({"num_tokens": self.num_tokens, "pad_id": self.pad_id})
        return config


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
        self.units = check_int("units", units)
        self.num_tokens = check_int("num_tokens", num_tokens)
        if not is_int(pad_id):
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
                "ids of shape (batch, 2, width) (see anykeras.speed.packed). "
                f"Received: input_shape={tuple(input_shape)}"
            )
        if packed and self.deduplicate:
            raise ValueError(
                "packed ids hold each row's distinct ids already (anykeras.speed.packed checks "
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


__all__ = ["MultiHot", "SimpleDense", "SparseDense"]
