"""The Sequential style: a plain stack of layers, the course's first model."""

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


def build_sequential(spec: ClassifierSpec) -> keras.Sequential:
    """Build ``spec`` as a `keras.Sequential` model.

    Args:
        spec: The classifier to build.

    Returns:
        A built (but not compiled) Sequential model.

    Example:
    >>> model = build_sequential(ClassifierSpec(input_shape=(100,)))
    >>> [layer.name for layer in model.layers]
    ['hidden_1', 'hidden_2', 'output']
    """
    return keras.Sequential(
        [keras.Input(shape=spec.input_shape), *hidden_layers(spec), head_layer(spec)],
        name="sequential_classifier",
    )
