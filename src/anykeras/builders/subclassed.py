"""The subclassed style: a `keras.Model` whose forward pass is written with `keras.ops`."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from anykeras.layers import SimpleDense
from anykeras.spec import ClassifierSpec

_HEADS = {"sigmoid": ops.sigmoid, "softmax": ops.softmax, "linear": lambda x: x}


@keras.saving.register_keras_serializable(package="anykeras")
class Classifier(keras.Model):
    """``spec`` as a subclassed model: layers made in ``__init__``, math in ``call``.

    The hidden layers are the stateful `SimpleDense` layers of `anykeras.layers`
    and the activations are applied with `keras.ops` in `call`, yet the weights
    have the same shapes and order as the Sequential and Functional models, so
    ``Classifier(spec).set_weights(build_functional(spec).get_weights())`` gives the
    same predictions.

    Args:
        spec: The classifier to build (a `ClassifierSpec` or its config dict).
        **kwargs: Base model keyword arguments, such as ``name``.

    Example:
    >>> import numpy as np
    >>> model = Classifier(ClassifierSpec(input_shape=(6,), hidden=(4,)))
    >>> model.predict(np.zeros((2, 6), "float32"), verbose=0).shape
    (2, 1)
    """

    def __init__(self, spec: ClassifierSpec | dict[str, Any], **kwargs: Any) -> None:
        kwargs.setdefault("name", "subclassed_classifier")
        super().__init__(**kwargs)
        if isinstance(spec, dict):
            spec = ClassifierSpec(**spec)
        self.spec: ClassifierSpec = spec
        self.activation = keras.activations.get(spec.activation)
        self.hidden_layers = [
            SimpleDense(units, name=f"hidden_{i}") for i, units in enumerate(spec.hidden, start=1)
        ]
        self.dropout_layers = [
            keras.layers.Dropout(spec.dropout, seed=spec.seed + i, name=f"dropout_{i}")
            for i in range(1, len(spec.hidden) + 1)
            if spec.dropout
        ]
        self.head = SimpleDense(spec.output_units, name="output")
        self.build((None, *spec.input_shape))

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        """Create every weight now, layer by layer, so weights can be copied in."""
        shape: tuple[int | None, ...] = (input_shape[0], self.spec.input_size)
        for layer in self.hidden_layers:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.head.build(shape)
        self.built = True

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        """Hidden layers with their activation (and dropout), then the head."""
        x = inputs
        if len(self.spec.input_shape) > 1:  # flatten images, as the other styles do
            x = ops.reshape(x, (-1, self.spec.input_size))
        for i, layer in enumerate(self.hidden_layers):
            x = self.activation(layer(x))
            if self.dropout_layers:
                x = self.dropout_layers[i](x, training=training)
        return _HEADS[self.spec.output_activation](self.head(x))

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        """``(batch, output_units)``."""
        return (input_shape[0], self.spec.output_units)

    def get_config(self) -> dict[str, Any]:
        """The spec, so `from_config` rebuilds the same model (weights come from the file)."""
        config = super().get_config()
        config["spec"] = self.spec.to_config()
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Classifier:
        """Rebuild from `get_config`'s dict."""
        config = dict(config)
        spec = ClassifierSpec.from_config(config.pop("spec"))
        return cls(spec, **config)


def build_subclassed(spec: ClassifierSpec) -> Classifier:
    """Build ``spec`` as a subclassed `Classifier` (already built, not compiled).

    Example:
    >>> build_subclassed(ClassifierSpec(input_shape=(100,))).count_params()
    1905
    """
    return Classifier(spec)
