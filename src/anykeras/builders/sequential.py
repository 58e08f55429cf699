"""The Sequential style: a plain stack of layers, the course's first model."""

from __future__ import annotations

import keras

from anykeras.builders.dense import head_layer, hidden_layers
from anykeras.spec import ClassifierSpec


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
