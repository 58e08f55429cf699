"""Are two models the same model? Same weights, same predictions, same training.

Two models written differently (Sequential and subclassed, say) are the same model
when they hold the same weights in the same order and shapes, predict the same once
the second holds the first one's weights, and, from those weights, take the same
training steps. `assert_same_model` checks all three, in that order, and says where
the first difference is: which weight, which output, which step, and by how much.

Example:
>>> import keras
>>> import numpy as np
>>> def dense_model():
...     return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
>>> x = np.ones((4, 3), dtype="float32")
>>> print(assert_same_model(dense_model(), dense_model(), x=x))
largest output difference: output 0 0.0e+00 (0% of atol=1e-06)
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import numpy as np

from anykeras.testing.arrays import flatten, max_abs_diff
from anykeras.testing.margins import Margin, Margins, largest
from anykeras.testing.model_fn import expect_model
from anykeras.testing.optimizer_steps import (
    compile_fresh,
    first_difference,
    quiet_random_layers,
    weight_names,
)

if TYPE_CHECKING:
    import keras

__all__ = ["assert_same_model", "outputs_of"]


def outputs_of(model: keras.Model, x: Any) -> list[np.ndarray]:
    """``model``'s outputs on ``x`` (inference mode), flattened to a list of arrays."""
    import keras

    outputs = expect_model(model, "outputs_of")(x, training=False)
    return [np.asarray(keras.ops.convert_to_numpy(o)) for o in flatten(outputs)]


def _describe(model: keras.Model, i: int) -> str:
    """Weight ``i`` of ``model`` as ``'dense/kernel' (3, 2)``, or ``nothing``."""
    if i >= len(model.weights):
        return "nothing"
    weight = model.weights[i]
    return f"'{getattr(weight, 'path', None) or weight.name}' {tuple(weight.shape)}"


def _assert_same_weights(reference: keras.Model, model: keras.Model, index: int) -> None:
    """Same number of weights, same shapes, in the same order."""
    want = [tuple(w.shape) for w in reference.weights]
    got = [tuple(w.shape) for w in model.weights]
    if got == want:
        return
    pairs = enumerate(zip(got, want, strict=False))
    i = next((i for i, (a, b) in pairs if a != b), min(len(got), len(want)))
    raise AssertionError(
        f"model {index} differs from model 0 at weight {i}: model 0 has "
        f"{_describe(reference, i)}, model {index} has {_describe(model, i)} "
        f"({len(want)} weights, {reference.count_params()} parameters in model 0; "
        f"{len(got)} weights, {model.count_params()} parameters in model {index}). "
        "Create the weights in the same order, with the same shapes (in build())."
    )


def _name_hint(reference: keras.Model, model: keras.Model) -> str:
    """Positions where the two models' weights have the same shape but another name."""
    swapped = [
        f"weight {i} is '{a.name}' in model 0 but '{b.name}' here"
        for i, (a, b) in enumerate(zip(reference.weights, model.weights, strict=False))
        if a.name != b.name
    ]
    return f" Weights in another order? {'; '.join(swapped[:3])}." if swapped else ""


def _assert_same_outputs(want: list, got: list, index: int, atol: float, hint: str) -> None:
    if len(got) != len(want):
        raise AssertionError(f"model {index} has {len(got)} outputs, model 0 has {len(want)}")
    for k, (a, b) in enumerate(zip(want, got, strict=True)):
        if a.shape != b.shape:
            raise AssertionError(
                f"output {k} of model {index} has shape {b.shape}, model 0's has {a.shape}"
            )
        diff = max_abs_diff(b, a)
        if not diff <= atol:
            where = np.unravel_index(np.argmax(np.abs(b - a)), a.shape) if a.size else ()
            raise AssertionError(
                f"with model 0's weights, output {k} of model {index} differs by {diff:.3g} "
                f"(atol {atol:g}), most at index {tuple(int(i) for i in where)}: "
                f"{float(b[where]):.6g} instead of {float(a[where]):.6g}.{hint}"
            )


def _check_arguments(models: tuple, y: Any, compile: Any, steps: int) -> None:
    for i, model in enumerate(models):
        expect_model(model, f"model {i}")
    if len(models) < 2:
        raise ValueError(f"assert_same_model needs two models or more. Received: {len(models)}")
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0. Received: steps={steps!r}")
    if steps and (y is None or compile is None):
        raise ValueError(
            "steps > 0 trains the models: pass y and compile={'optimizer': ..., 'loss': ...}"
        )


def assert_same_model(
    *models: keras.Model,
    x: Any,
    y: Any = None,
    compile: dict[str, Any] | None = None,
    steps: int = 0,
    atol: float = 1e-6,
    step_atol: float = 1e-5,
) -> Margins:
    """Assert that ``models`` are the same model: weights, predictions, training.

    Checks, comparing each model with the first: the same number of weights with the
    same shapes in the same order (so the same parameter count); the same outputs on
    ``x`` once every model holds the first model's weights (they are copied into the
    others); and, if ``steps > 0``, the same losses and metrics for ``steps`` training
    steps on ``(x, y)`` (one batch, the same order) from those weights and a fresh
    optimizer each, and the same weights afterwards. Dropout and noise layers are
    switched off for the training steps: each model draws its own random numbers.

    Args:
        *models: Two Keras models or more; built or not (they are called on ``x``).
        x: An input batch: an array, or a list or dict of arrays.
        y: Labels for ``x``; needed when ``steps > 0``.
        compile: `keras.Model.compile` arguments, such as ``{"optimizer": "rmsprop",
            "loss": "mse"}``; needed when ``steps > 0``.
        steps: Training steps to compare (0: none).
        atol: Largest difference allowed between predictions.
        step_atol: Largest difference allowed between losses, metrics and weights
            after training (float32 summation order differs between models).

    Returns:
        How close the models came to the tolerances: the output and (with ``steps``)
        the weight after training with the largest difference, and its fraction of
        ``atol`` or ``step_atol``; ``print`` it to see them.

    Raises:
        AssertionError: The models differ; the message names the first weight, output
            or step that differs and by how much.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> a = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> b = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3)])
    >>> assert_same_model(a, b, x=np.ones((1, 3)))
    Traceback (most recent call last):
    ...
    AssertionError: model 1 differs from model 0 at weight 0: ...
    """
    _check_arguments(models, y, compile, steps)
    reference = models[0]
    for model in models:
        outputs_of(model, x)  # builds it
    for index, model in enumerate(models[1:], start=1):
        _assert_same_weights(reference, model, index)
    weights = reference.get_weights()
    want = outputs_of(reference, x)
    margins = Margins()
    for index, model in enumerate(models[1:], start=1):
        model.set_weights(weights)
        hint = _name_hint(reference, model)
        got = outputs_of(model, x)
        _assert_same_outputs(want, got, index, atol, hint)
        margins.keep(largest("output", got, want, [], "atol", atol))
    if steps:
        margins.step = _assert_same_training(models, x, y, compile or {}, steps, step_atol)
    return margins


def _train(model: keras.Model, x: Any, y: Any, compile: dict, steps: int) -> list[dict]:
    compile_fresh(model, compile)
    logs = [model.train_on_batch(x, y, return_dict=True) for _ in range(steps)]
    return [{key: float(value) for key, value in step.items()} for step in logs]


def _assert_same_training(
    models: tuple, x: Any, y: Any, compile: dict, steps: int, atol: float
) -> Margin | None:
    with ExitStack() as stack:
        for model in models:
            stack.enter_context(quiet_random_layers(model))
        histories = [_train(model, x, y, compile, steps) for model in models]
    for index, (model, history) in enumerate(zip(models[1:], histories[1:], strict=True), start=1):
        for step, (want, got) in enumerate(zip(histories[0], history, strict=True), start=1):
            for key in want:
                diff = abs(got.get(key, float("nan")) - want[key])
                if not diff <= atol:
                    raise AssertionError(
                        f"training step {step}: {key} of model {index} is "
                        f"{got.get(key, float('nan')):.6g}, model 0's is {want[key]:.6g} "
                        f"(differs by {diff:.3g}, atol {atol:g})"
                    )
        found = first_difference(model.get_weights(), models[0].get_weights(), atol)
        if found is not None:
            i, diff = found
            raise AssertionError(
                f"after {steps} training steps, weight {i} ({_describe(model, i)}) of "
                f"model {index} differs from model 0's by {diff:.3g} (atol {atol:g})"
            )
    margins, want, names = Margins(), models[0].get_weights(), weight_names(models[0])
    for model in models[1:]:
        margins.keep(largest("step", model.get_weights(), want, names, "step_atol", atol))
    return margins.step
