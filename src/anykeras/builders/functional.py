"""The Functional style: the model as an explicit graph from inputs to outputs.

`stack` is that graph for layers one after another; the convnet and LSTM builders'
Functional styles use it too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import keras

from anykeras.builders.dense import head_layer, hidden_layers
from anykeras.spec import ClassifierSpec


def stack(inputs: Any, layers: Iterable[keras.layers.Layer], name: str) -> keras.Model:
    """``layers`` applied one after another to ``inputs``, as a Functional model.

    Example:
    >>> layers = [keras.layers.Dense(3), keras.layers.Dense(1)]
    >>> model = stack(keras.Input(shape=(4,)), layers, name="mlp")
    >>> tuple(model.output_shape), model.count_params()
    ((None, 1), 19)
    """
    x = inputs
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs, x, name=name)


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
    layers = [*hidden_layers(spec), head_layer(spec)]
    return stack(inputs, layers, name="functional_classifier")
