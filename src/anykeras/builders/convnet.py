"""The book's MNIST convnet (chapter 8), from one `ConvSpec`, in the three styles.

Conv2D(32) -> MaxPooling -> Conv2D(64) -> MaxPooling -> Conv2D(128) -> Flatten ->
Dense(10, softmax): 104,202 parameters, as printed in the book. `SpecModel`, the base
of its subclassed style, is also that of `anykeras.builders.recurrent`'s.
"""

from __future__ import annotations

from typing import Any, ClassVar

import keras
from keras import ops

from anykeras.builders.functional import stack
from anykeras.spec import ConvSpec


def conv_layers(spec: ConvSpec) -> list[keras.layers.Layer]:
    """The layer stack of the Sequential and Functional styles."""
    layers: list[keras.layers.Layer] = []
    for i, filters in enumerate(spec.filters, start=1):
        if i > 1:
            layers.append(keras.layers.MaxPooling2D(spec.pool_size, name=f"pool_{i - 1}"))
        layers.append(
            keras.layers.Conv2D(
                filters, spec.kernel_size, activation=spec.activation, name=f"conv_{i}"
            )
        )
    layers.append(keras.layers.Flatten(name="flatten"))
    layers.append(keras.layers.Dense(spec.num_classes, activation="softmax", name="output"))
    return layers


def build_conv_sequential(spec: ConvSpec) -> keras.Sequential:
    """``spec`` as a `keras.Sequential` model.

    Example:
    >>> build_conv_sequential(ConvSpec()).count_params()
    104202
    """
    return keras.Sequential(
        [keras.Input(shape=spec.input_shape), *conv_layers(spec)], name="sequential_convnet"
    )


def build_conv_functional(spec: ConvSpec) -> keras.Model:
    """``spec`` as a Functional model."""
    inputs = keras.Input(shape=spec.input_shape, name="images")
    return stack(inputs, conv_layers(spec), name="functional_convnet")


class SpecModel(keras.Model):
    """A subclassed model made from one spec, which is all of its config.

    A subclass sets ``spec_type`` and ``default_name``, then makes its layers in its
    ``__init__`` after calling this one.

    Args:
        spec: A ``spec_type`` instance or its config dict.
        **kwargs: Base model keyword arguments; ``name`` defaults to ``default_name``.
    """

    spec_type: ClassVar[type[Any]]
    default_name: ClassVar[str]

    def __init__(self, spec: Any, **kwargs: Any) -> None:
        kwargs.setdefault("name", self.default_name)
        super().__init__(**kwargs)
        self.spec = self.spec_type.from_config(spec) if isinstance(spec, dict) else spec

    def get_config(self) -> dict[str, Any]:
        """The spec, as a dict, which ``__init__`` (so `from_config`) takes back."""
        return {**super().get_config(), "spec": self.spec.to_config()}


@keras.saving.register_keras_serializable(package="anykeras")
class ConvClassifier(SpecModel):
    """A `ConvSpec` (or its config dict) as a subclassed `SpecModel`.

    Pooling, flattening and softmax are written with `keras.ops`.

    Example:
    >>> import numpy as np
    >>> model = ConvClassifier(ConvSpec(input_shape=(12, 12, 1), filters=(4, 8)))
    >>> model.predict(np.zeros((2, 12, 12, 1), "float32"), verbose=0).shape
    (2, 10)
    """

    spec_type = ConvSpec
    default_name = "subclassed_convnet"

    def __init__(self, spec: ConvSpec | dict[str, Any], **kwargs: Any) -> None:
        super().__init__(spec, **kwargs)
        self.activation = keras.activations.get(self.spec.activation)
        self.convs = [
            keras.layers.Conv2D(f, self.spec.kernel_size, name=f"conv_{i}")
            for i, f in enumerate(self.spec.filters, start=1)
        ]
        self.head = keras.layers.Dense(self.spec.num_classes, name="output")
        self.build((None, *self.spec.input_shape))

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        """Create every weight now, so weights can be copied in."""
        shape: tuple[Any, ...] = tuple(input_shape)
        for i, conv in enumerate(self.convs):
            if i:
                p = self.spec.pool_size
                shape = (shape[0], shape[1] // p, shape[2] // p, shape[3])
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
        self.head.build((shape[0], shape[1] * shape[2] * shape[3]))
        self.built = True

    def call(self, inputs: Any) -> Any:
        """Convolutions with max pooling between, then flatten and a softmax head."""
        x = inputs
        for i, conv in enumerate(self.convs):
            if i:
                x = ops.max_pool(x, self.spec.pool_size, strides=self.spec.pool_size)
            x = self.activation(conv(x))
        x = ops.reshape(x, (ops.shape(x)[0], -1))
        return ops.softmax(self.head(x))

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        """``(batch, num_classes)``."""
        return (input_shape[0], self.spec.num_classes)


BUILDERS = {
    "sequential": build_conv_sequential,
    "functional": build_conv_functional,
    "subclassed": ConvClassifier,
}
