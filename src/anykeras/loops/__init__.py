"""Custom training steps and training loops written from scratch, one per backend.

Keras's guides show two ways below `fit()`'s defaults, and both are backend-specific:

- "Customizing what happens in fit()": a `keras.Model` whose ``train_step`` and
  ``test_step`` compute gradients with the backend's own autodiff (``jax.value_and_grad``,
  ``loss.backward()``, ``tf.GradientTape``), while `fit` still runs callbacks,
  validation and the History.
- "Writing a training loop from scratch": no `fit` at all; a Python loop over batches
  that calls the model, the loss, the autodiff and a Keras optimizer.

The backend's fastest kernels for the speed routes (`segment_sum`, `gather_sum`, `feed`,
`predict`, `threads`, `set_threads`, `using_threads`) live in `anykeras.loops.kernels` and are
named here too.

This module is the backend-agnostic front door. It reads `keras.backend.backend()`
and imports ``anykeras.loops.<backend>`` only when asked, so importing it imports no
backend: those three modules are the only library code allowed to.

Both are written to compute exactly what `fit` computes, and the tests prove it: the
custom-step model's History equals the built-in one, and `train_from_scratch`'s epoch
losses equal `fit`'s ``loss`` (the mean of the batch losses weighted by batch size).

Example:
>>> import numpy as np
>>> from anykeras import ClassifierSpec
>>> spec = ClassifierSpec(input_shape=(6,), hidden=(4,))
>>> model = build_custom_step_model(spec)
>>> type(model).__name__, [layer.name for layer in model.layers]
('CustomStepModel', ['features', 'hidden_1', 'output'])
>>> x = np.random.default_rng(0).normal(size=(10, 6)).astype("float32")
>>> y = (x[:, 0] > 0).astype("float32")
>>> losses = train_from_scratch(model, x, y, loss="binary_crossentropy", epochs=2, batch_size=4)
>>> len(losses)
2
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from anykeras.loops.kernels import (
    backend_module,
    feed,
    gather_sum,
    predict,
    segment_sum,
    set_threads,
    threads,
    using_threads,
)
from anykeras.spec import BACKENDS, ClassifierSpec, check_int
from anykeras.training.batches import check_samples

__all__ = [
    "BACKENDS",
    "as_rows",
    "backend_module",
    "build_custom_step_model",
    "check_samples",
    "custom_step_model_class",
    "feed",
    "gather_sum",
    "predict",
    "segment_sum",
    "set_threads",
    "threads",
    "train_from_scratch",
    "using_threads",
    "with_custom_step",
]


def batch_size_of(x: Any) -> int:
    """Samples in the batch, as Keras's trainer counts them (the first input's rows)."""
    return next(i for i in keras.tree.flatten(x) if i is not None).shape[0]


def custom_step_model_class() -> type[keras.Model]:
    """The current backend's `keras.Model` subclass with a hand-written train/test step.

    Returns:
        ``anykeras.loops.<backend>.CustomStepModel``. Construct it like
        `keras.Model` (``CustomStepModel(inputs, outputs)``) and use `fit`,
        `evaluate` and `predict` as usual.

    Example:
    >>> issubclass(custom_step_model_class(), keras.Model)
    True
    """
    return backend_module().CustomStepModel


def with_custom_step(model: keras.Model, name: str | None = None) -> keras.Model:
    """The same graph of layers as ``model``, in a model whose class has a custom step.

    The new model shares ``model``'s layers (and so its weights, in the same order):
    it is the same model, trained by the current backend's hand-written
    ``train_step``. Compile it as you would compile ``model``.

    Args:
        model: A Functional or Sequential model (one with a graph from inputs to
            outputs). A subclassed model has no graph to reuse. Several inputs or
            outputs are passed on as lists.
        name: Name of the new model; defaults to ``model``'s name.

    Returns:
        A ``CustomStepModel`` over ``model``'s layers.

    Raises:
        TypeError: ``model`` is not a `keras.Model`, or has no graph to reuse.

    Example:
    >>> import keras
    >>> base = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> model = with_custom_step(base)
    >>> model.count_params() == base.count_params(), model.weights[0] is base.weights[0]
    (True, True)
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model. Received: {type(model).__name__}")
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):
        inputs = outputs = None
    if not inputs or not outputs:
        raise TypeError(
            "model must be a Functional or Sequential model with known inputs and outputs "
            "(a graph of layers to reuse). Received: a "
            f"{type(model).__name__} without a graph; build it with "
            "anykeras.build(spec, 'functional') instead."
        )
    # One input (output) is passed bare, so the new model is called as the old one is.
    return custom_step_model_class()(
        inputs=inputs[0] if len(inputs) == 1 else inputs,
        outputs=outputs[0] if len(outputs) == 1 else outputs,
        name=name or model.name,
    )


def build_custom_step_model(spec: ClassifierSpec) -> keras.Model:
    """Build ``spec`` as a Functional model whose class has the backend's custom step.

    The layers, their names and the order of the weights are those of
    ``anykeras.build(spec, "functional")``, so weights copy between the two.

    Args:
        spec: The classifier to build.

    Returns:
        A built, uncompiled ``CustomStepModel``.

    Raises:
        TypeError: ``spec`` is not a `ClassifierSpec`.

    Example:
    >>> from anykeras import ClassifierSpec, build
    >>> spec = ClassifierSpec(input_shape=(100,), hidden=(8,))
    >>> model = build_custom_step_model(spec)
    >>> model.count_params() == build(spec, "functional").count_params()
    True
    """
    if not isinstance(spec, ClassifierSpec):
        raise TypeError(f"spec must be a ClassifierSpec. Received: {type(spec).__name__}")
    from anykeras.builders import build_functional

    return with_custom_step(build_functional(spec), name="custom_step_classifier")


def train_from_scratch(
    model: keras.Model,
    x: Any,
    y: Any,
    *,
    loss: str | keras.losses.Loss | Callable[..., Any],
    optimizer: str | keras.optimizers.Optimizer = "rmsprop",
    epochs: int = 1,
    batch_size: int = 32,
) -> list[float]:
    """Train ``model`` with a loop written from scratch: no `fit`, no `compile`.

    Batches are taken in order (``x[0:batch_size]``, then the next, the last one
    possibly smaller), every epoch alike, as ``fit(..., shuffle=False)`` takes them.
    For each batch the backend's own autodiff computes the gradients of
    ``loss(y, model(x, training=True))`` (plus the model's ``losses``, e.g. weight
    regularization) and the Keras optimizer applies them. The model's variables hold
    the trained values on return.

    Args:
        model: A built model (any style).
        x: Inputs, an array with one row per sample. Floating-point data are cast to
            `keras.config.floatx()`, as `fit` does.
        y: Targets, one row per sample.
        loss: A `keras.losses.Loss`, its name (``"binary_crossentropy"``) or a
            function ``fn(y_true, y_pred)`` returning one loss per sample; reduced to
            the batch mean, as `compile` does.
        optimizer: A fresh `keras.optimizers.Optimizer` or its name.
        epochs: Passes over the data.
        batch_size: Samples per gradient step.

    Returns:
        One loss per epoch: the mean of the batch losses weighted by batch size,
        which is the ``loss`` that `fit` reports in its History.

    Raises:
        ValueError: ``x`` and ``y`` differ in length or are empty, or ``epochs`` or
            ``batch_size`` is not a positive integer, or the model is not built.

    Example:
    >>> import numpy as np
    >>> import keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> x = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype="float32")
    >>> y = np.array([1.0, -1.0, 0.0], dtype="float32")
    >>> losses = train_from_scratch(model, x, y, loss="mse", optimizer="sgd", epochs=3)
    >>> len(losses), all(isinstance(value, float) for value in losses)
    (3, True)
    """
    check_int("epochs", epochs)
    check_int("batch_size", batch_size)
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model. Received: {type(model).__name__}")
    if not model.built:
        raise ValueError(
            "model must be built before training (call it on a batch, or build it with "
            f"keras.Input). Received: an unbuilt {type(model).__name__} named {model.name!r}"
        )
    x, y = as_rows(x, "x"), as_rows(y, "y")
    check_samples(x, y)
    batches = [
        (keras.ops.convert_to_tensor(x[i : i + batch_size]), y[i : i + batch_size])
        for i in range(0, len(x), batch_size)
    ]
    batches = [(xb, keras.ops.convert_to_tensor(yb)) for xb, yb in batches]
    sizes = [min(batch_size, len(x) - i) for i in range(0, len(x), batch_size)]
    loss_fn = _as_loss(loss)
    optimizer = keras.optimizers.get(optimizer)
    per_batch = backend_module().train_epochs(model, batches, loss_fn, optimizer, epochs)
    # `fit` reports keras.metrics.Mean over the batch losses, each weighted by its size.
    return [float(np.dot(losses, sizes) / np.sum(sizes)) for losses in per_batch]


def as_rows(data: Any, label: str) -> np.ndarray:
    """``data`` as a NumPy array, floats cast to floatx (as `fit`'s data adapter does).

    Example:
    >>> as_rows([[1.0, 2.0]], "x").dtype
    dtype('float32')
    """
    array = np.asarray(keras.ops.convert_to_numpy(data) if keras.ops.is_tensor(data) else data)
    if array.ndim == 0:
        raise ValueError(f"{label} must have one row per sample. Received: a scalar {label}")
    if np.issubdtype(array.dtype, np.floating):
        array = array.astype(keras.config.floatx())
    return array


class _FunctionLoss(keras.losses.Loss):
    """A per-sample loss function reduced to its batch mean, as `compile` wraps it."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        super().__init__(name=getattr(fn, "__name__", "loss"))
        self.fn = fn

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """The per-sample losses of ``fn``."""
        return self.fn(y_true, y_pred)


def _as_loss(loss: Any) -> keras.losses.Loss:
    """A `keras.losses.Loss` for ``loss``: the class Keras's string names stand for."""
    if isinstance(loss, keras.losses.Loss):
        return loss
    fn = keras.losses.get(loss) if isinstance(loss, str) else loss
    if not callable(fn):
        raise ValueError(
            "loss must be a keras.losses.Loss, a loss name or a function "
            f"fn(y_true, y_pred). Received: loss={loss!r}"
        )
    if isinstance(fn, keras.losses.Loss):
        return fn
    # "binary_crossentropy" -> keras.losses.BinaryCrossentropy: the class `compile` uses
    # (it also matches the ranks of y_true and y_pred before calling the function).
    class_name = "".join(part.capitalize() for part in getattr(fn, "__name__", "").split("_"))
    try:
        instance = keras.losses.get(class_name) if class_name else None
    except ValueError:
        instance = None
    if isinstance(instance, keras.losses.Loss):
        return instance
    return _FunctionLoss(fn)
