"""The Functional style: the model as an explicit graph from inputs to outputs."""

from __future__ import annotations

import keras

from anykeras.builders.dense import head_layer, hidden_layers
from anykeras.spec import ClassifierSpec


def build_functional(spec: ClassifierSpec) -> keras.Model:
    """Build ``spec`` as a Functional `keras.Model`.

    The same layers as the Sequential style (see `hidden_layers` and `head_layer`),
    wired as a graph, which is what the multi-input and multi-output topologies
    need.

    Args:
        spec: The classifier to build.

    Returns:
        A built (but not compiled) Functional model.

    Example:
    >>> model = build_functional(ClassifierSpec(input_shape=(100,), hidden=(8,)))
    >>> model.output_shape
    (None, 1)
    """
    inputs = keras.Input(shape=spec.input_shape, name="features")
    x = inputs
    for layer in hidden_layers(spec):
        x = layer(x)
    outputs = head_layer(spec)(x)
    return keras.Model(inputs, outputs, name="functional_classifier")
