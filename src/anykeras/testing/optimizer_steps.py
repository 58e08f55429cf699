"""Training steps that two models (or two backends) can be compared on.

Two things keep two runs of the same model from taking the same step: the optimizer
(an optimizer object belongs to one model, so each gets a fresh copy of the compile
arguments) and random layers (each model, and each backend, draws its own dropout
masks). `quiet_random_layers` switches those layers off for the comparison, so that a
step checks the gradients and the optimizer, not the random number generators.

Example:
>>> import keras
>>> import numpy as np
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dropout(0.5),
...                           keras.layers.Dense(1)])
>>> with quiet_random_layers(model) as names:
...     weights = one_step(model, np.ones((2, 3)), np.ones((2, 1)),
...                        {"optimizer": "sgd", "loss": "mse"})
>>> names, len(weights), model.layers[0].rate
(['dropout'], 2, 0.5)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from anykeras.testing.arrays import max_abs_diff

if TYPE_CHECKING:
    import keras

__all__ = ["compile_fresh", "first_difference", "one_step", "quiet_random_layers", "weight_names"]

# Random layers and the attribute that switches each off (0 means "no randomness").
_RANDOM = (
    ("Dropout", "rate"),  # SpatialDropout1D/2D/3D are Dropouts
    ("GaussianDropout", "rate"),
    ("AlphaDropout", "rate"),
    ("GaussianNoise", "stddev"),
)


def _layers(model: keras.Model) -> list[Any]:
    flatten = getattr(model, "_flatten_layers", None)
    return list(flatten(include_self=False)) if flatten else list(model.layers)


@contextmanager
def quiet_random_layers(model: keras.Model) -> Iterator[list[str]]:
    """Within the block, dropout and noise layers of ``model`` pass inputs through.

    Yields:
        The names of the layers switched off; they are switched back on afterwards.
    """
    import keras

    saved = []
    for layer in _layers(model):
        for class_name, attribute in _RANDOM:
            if isinstance(layer, getattr(keras.layers, class_name)):
                saved.append((layer, attribute, getattr(layer, attribute)))
                setattr(layer, attribute, 0.0)
                break
    try:
        yield [layer.name for layer, _, _ in saved]
    finally:
        for layer, attribute, value in saved:
            setattr(layer, attribute, value)


def _fresh(value: Any) -> Any:
    import keras

    if isinstance(value, list | tuple):
        return type(value)(_fresh(v) for v in value)
    if isinstance(value, dict):
        return {key: _fresh(v) for key, v in value.items()}
    if hasattr(value, "get_config") and not isinstance(value, type):
        return keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(value))
    return value


def compile_fresh(model: keras.Model, compile: dict[str, Any]) -> keras.Model:
    """``model.compile(**compile)`` with a fresh copy of every Keras object in ``compile``."""
    if not isinstance(compile, dict):
        raise TypeError(
            "compile must be a dict of keras.Model.compile arguments, such as "
            f"{{'optimizer': 'rmsprop', 'loss': 'mse'}}. Received: {type(compile).__name__}"
        )
    model.compile(**_fresh(compile))
    return model


def one_step(
    model: keras.Model, x: Any, y: Any, compile: dict[str, Any] | None = None
) -> list[np.ndarray]:
    """Compile ``model`` (unless ``compile`` is None), train it on ``(x, y)`` once.

    Returns:
        Every weight after the step, as `keras.Model.get_weights` orders them.
    """
    if compile is not None:
        compile_fresh(model, compile)
    elif not model.compiled:
        raise ValueError(
            "y was given but the model is not compiled: pass compile={'optimizer': ..., "
            "'loss': ...} or compile the model where it is built"
        )
    model.train_on_batch(x, y)
    return [np.asarray(w) for w in model.get_weights()]


def weight_names(model: keras.Model) -> list[str]:
    """Each weight's path (``"dense/kernel"``), in `keras.Model.get_weights` order."""
    return [str(getattr(w, "path", None) or w.name) for w in model.weights]


def first_difference(got: list[Any], want: list[Any], atol: float) -> tuple[int, float] | None:
    """``(index, max abs diff)`` of the first pair of arrays further apart than ``atol``."""
    if len(got) != len(want):
        return (min(len(got), len(want)), float("inf"))
    for i, (a, b) in enumerate(zip(got, want, strict=True)):
        diff = max_abs_diff(a, b)
        if not diff <= atol:
            return (i, diff)
    return None
