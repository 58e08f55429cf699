"""The book's MNIST convnet (chapter 8), from one `ConvSpec`, in the three styles.

Conv2D(32) -> MaxPooling -> Conv2D(64) -> MaxPooling -> Conv2D(128) -> Flatten ->
Dense(10, softmax): 104,202 parameters, as printed in the book.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras
from keras import ops


def _positive_ints(value: Any) -> bool:
    return isinstance(value, tuple) and all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
    )


@dataclasses.dataclass(frozen=True)
class ConvSpec:
    """A small image classifier: stacked 3x3 convolutions with max pooling between.

    Args:
        input_shape: ``(height, width, channels)`` of one image.
        filters: Filters of each convolution; a max pooling sits between two.
        kernel_size: Side of the square convolution kernels.
        pool_size: Side of the square max-pooling windows.
        num_classes: Classes of the softmax head.
        activation: Activation of the convolutions.

    Example:
    >>> ConvSpec().loss
    'sparse_categorical_crossentropy'
    >>> ConvSpec(filters=(0,))
    Traceback (most recent call last):
    ...
    ValueError: filters must be a non-empty tuple of positive integers. Received: filters=(0,)
    """

    # MNIST digits: 28x28 pixels, one channel.
    input_shape: tuple[int, int, int] = (28, 28, 1)
    # The book's 32-64-128 filters.
    filters: tuple[int, ...] = (32, 64, 128)
    kernel_size: int = 3
    pool_size: int = 2
    # Ten digits.
    num_classes: int = 10
    activation: str = "relu"

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_shape", tuple(self.input_shape))
        object.__setattr__(self, "filters", tuple(self.filters))
        if len(self.input_shape) != 3 or not _positive_ints(self.input_shape):
            raise ValueError(
                "input_shape must be (height, width, channels) of positive integers. "
                f"Received: input_shape={self.input_shape!r}"
            )
        if not self.filters or not _positive_ints(self.filters):
            raise ValueError(
                "filters must be a non-empty tuple of positive integers. "
                f"Received: filters={self.filters!r}"
            )
        for name in ("kernel_size", "pool_size"):
            if not _positive_ints((getattr(self, name),)):
                raise ValueError(
                    f"{name} must be a positive integer. Received: {name}={getattr(self, name)!r}"
                )
        if not _positive_ints((self.num_classes,)) or self.num_classes < 2:
            raise ValueError(
                f"num_classes must be an integer >= 2. Received: num_classes={self.num_classes!r}"
            )
        side = min(self.input_shape[:2])
        for i in range(len(self.filters)):
            side -= self.kernel_size - 1
            if side < 1:
                raise ValueError(
                    f"the image is too small for {len(self.filters)} convolutions of size "
                    f"{self.kernel_size}: it shrinks to nothing at convolution {i + 1}. "
                    f"Received: input_shape={self.input_shape!r}"
                )
            if i < len(self.filters) - 1:
                side //= self.pool_size

    @property
    def loss(self) -> str:
        """Integer labels, softmax head."""
        return "sparse_categorical_crossentropy"

    @property
    def metrics(self) -> list[str]:
        """Accuracy."""
        return ["accuracy"]

    def to_config(self) -> dict[str, Any]:
        """A JSON-friendly dict for `from_config`."""
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ConvSpec:
        """Rebuild from `to_config`'s dict."""
        return cls(**config)


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
    x = inputs
    for layer in conv_layers(spec):
        x = layer(x)
    return keras.Model(inputs, x, name="functional_convnet")


@keras.saving.register_keras_serializable(package="anykeras")
class ConvClassifier(keras.Model):
    """``spec`` as a subclassed model: pooling, flattening and softmax written with `keras.ops`.

    Args:
        spec: A `ConvSpec` or its config dict.
        **kwargs: Base model keyword arguments.

    Example:
    >>> import numpy as np
    >>> model = ConvClassifier(ConvSpec(input_shape=(12, 12, 1), filters=(4, 8)))
    >>> model.predict(np.zeros((2, 12, 12, 1), "float32"), verbose=0).shape
    (2, 10)
    """

    def __init__(self, spec: ConvSpec | dict[str, Any], **kwargs: Any) -> None:
        kwargs.setdefault("name", "subclassed_convnet")
        super().__init__(**kwargs)
        self.spec = ConvSpec.from_config(spec) if isinstance(spec, dict) else spec
        self.activation = keras.activations.get(self.spec.activation)
        self.convs = [
            keras.layers.Conv2D(f, self.spec.kernel_size, name=f"conv_{i}")
            for i, f in enumerate(self.spec.filters, start=1)
        ]
        self.head = keras.layers.Dense(self.spec.num_classes, name="output")
        self.build((None, *self.spec.input_shape))

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        """Create every weight now, so weights can be copied in."""
        shape = tuple(input_shape)
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

    def get_config(self) -> dict[str, Any]:
        """The spec; weights come from the file."""
        return {**super().get_config(), "spec": self.spec.to_config()}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ConvClassifier:
        """Rebuild from `get_config`'s dict."""
        config = dict(config)
        return cls(ConvSpec.from_config(config.pop("spec")), **config)


BUILDERS = {
    "sequential": build_conv_sequential,
    "functional": build_conv_functional,
    "subclassed": ConvClassifier,
}
