"""The course's workflow: compile, fit with validation, pick the best epoch, retrain, evaluate."""

from __future__ import annotations

from typing import Any

import keras

from anykeras.spec import ClassifierSpec


def compile_model(
    model: keras.Model,
    spec: ClassifierSpec,
    optimizer: str | keras.optimizers.Optimizer = "rmsprop",
    learning_rate: float | None = None,
    **kwargs: Any,
) -> keras.Model:
    """Compile ``model`` with the loss and metrics that ``spec``'s task calls for.

    Every style is compiled through here, so the three models differ in nothing but
    how they were written.

    Args:
        model: A model built from ``spec``.
        spec: Its spec; gives the loss and metrics.
        optimizer: An optimizer name (``"rmsprop"``, the course's choice) or instance.
        learning_rate: Overrides the named optimizer's default learning rate.
        **kwargs: Passed on to `keras.Model.compile` (e.g. ``loss="mse"`` to
            override the task's loss).

    Returns:
        The same model, compiled.

    Example:
    >>> from anykeras import build
    >>> spec = ClassifierSpec(input_shape=(10,))
    >>> model = compile_model(build(spec), spec)
    >>> model.loss
    'binary_crossentropy'
    """
    if isinstance(optimizer, str):
        optimizer = keras.optimizers.get(optimizer)
        if learning_rate is not None:
            optimizer.learning_rate = learning_rate
    elif learning_rate is not None:
        raise ValueError(
            "learning_rate only applies to an optimizer given by name; set it on the "
            f"optimizer instance instead. Received: optimizer={optimizer!r}"
        )
    kwargs.setdefault("loss", spec.loss)
    kwargs.setdefault("metrics", spec.metrics)
    model.compile(optimizer=optimizer, **kwargs)
    return model
