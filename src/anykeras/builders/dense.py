"""The shared Dense stack: the hidden layers and the head every style of the classifier uses.

The Sequential and Functional styles stack these very layers; the subclassed style
makes `anykeras.layers.SimpleDense` layers of the same names and shapes; the sparse
model (`anykeras.builders.sparse`) swaps only the first one.
"""

from __future__ import annotations

import keras

from anykeras.spec import ClassifierSpec


def hidden_layers(spec: ClassifierSpec) -> list[keras.layers.Layer]:
    """The hidden ``Dense`` (and ``Dropout``) layers of ``spec``, named as in every style.

    An input of more than one axis (an image, say) is flattened first, as the
    course's MNIST model does, so that every Dense layer sees one vector per sample.
    """
    layers: list[keras.layers.Layer] = []
    if len(spec.input_shape) > 1:
        layers.append(keras.layers.Flatten(name="flatten"))
    for i, units in enumerate(spec.hidden, start=1):
        layers.append(keras.layers.Dense(units, activation=spec.activation, name=f"hidden_{i}"))
        if spec.dropout:
            layers.append(
                keras.layers.Dropout(spec.dropout, seed=spec.seed + i, name=f"dropout_{i}")
            )
    return layers


def head_layer(spec: ClassifierSpec) -> keras.layers.Dense:
    """The output layer: its width and activation follow from the task."""
    return keras.layers.Dense(spec.output_units, activation=spec.output_activation, name="output")
