"""Custom layers written only with `keras.ops`, so they run on every backend.

`SimpleDense` is the course's stateful layer (it owns a kernel and a bias made in
`build`); `MultiHot` is a stateless one (no weights: a pure function of its
input). Both serialize into `.keras` files.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


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
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(f"units must be a positive integer. Received: units={units!r}")
        self.units = units
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
        if isinstance(num_tokens, bool) or not isinstance(num_tokens, int) or num_tokens <= 0:
            raise ValueError(
                f"num_tokens must be a positive integer. Received: num_tokens={num_tokens!r}"
            )
        self.num_tokens = num_tokens
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
