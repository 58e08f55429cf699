"""Save a model, load it back with plain Keras in this process, and check nothing changed.

The quick, same-process half of portability (`check_portable` is the cross-backend
half): the file is written by `anykeras.saving.save_model` and read by plain
`keras.saving.load_model`, as a user would. A failure to save or load says what to
fix (see `anykeras.testing.advice`).

Example:
>>> import tempfile
>>> from pathlib import Path
>>> import keras
>>> import numpy as np
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
>>> path = Path(tempfile.mkdtemp()) / "model.keras"
>>> assert_save_reload(model, np.ones((4, 3)), path).count_params()
8
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from anykeras.testing.advice import explain, read_config, unregistered_classes
from anykeras.testing.arrays import flatten
from anykeras.testing.config_checks import config_problems
from anykeras.testing.model_fn import expect_model

if TYPE_CHECKING:
    import keras

__all__ = ["assert_save_reload", "load_for_checking", "save_for_checking", "with_problems"]


def with_problems(message: str, problems: list[str]) -> str:
    """``message``, then every serialization problem found, one line each."""
    if not problems:
        return message
    lines = "".join(f"\n  - {problem}" for problem in problems)
    return f"{message}\nevery serialization problem found ({len(problems)}):{lines}"


def save_for_checking(model: keras.Model, path: str | Path) -> Path:
    """`anykeras.saving.save_model`, with an `AssertionError` that says what to fix."""
    from anykeras.saving import save_model

    expect_model(model, "the model to save")
    try:
        return save_model(model, path)
    except Exception as error:
        raise AssertionError(f"saving {type(model).__name__} failed: {explain(error)}") from error


def load_for_checking(path: str | Path) -> keras.Model:
    """Plain `keras.saving.load_model`, with an `AssertionError` that says what to fix."""
    import keras

    try:
        return keras.saving.load_model(path)
    except Exception as error:
        missing = unregistered_classes(read_config(path), here=True)
        raise AssertionError(f"loading {path} failed: {explain(error, missing)}") from error


def assert_save_reload(
    model: keras.Model, x: Any, path: str | Path, atol: float = 1e-6
) -> keras.Model:
    """Save ``model`` to ``path``, reload it with plain Keras, and check it is the same.

    Asserts that every custom class of the model rebuilds from its config (see
    `anykeras.testing.config_checks`), and, reloaded, the same class, the same compiled
    state, the same weights (exactly) and the same predictions on ``x`` (within ``atol``).

    Args:
        model: A built Keras model (compiled or not).
        x: An input batch.
        path: Where to write the ``.keras`` file.
        atol: Largest difference allowed between predictions.

    Returns:
        The reloaded model, for further checks.

    Raises:
        AssertionError: Saving or loading failed (the message quotes Keras's cause,
            says what to fix and lists every serialization problem of the model), or
            the reloaded model differs.
    """
    problems = config_problems(expect_model(model, "the model to save"))  # all: Keras stops at one
    try:
        save_for_checking(model, path)
        reloaded = load_for_checking(path)
    except AssertionError as error:
        raise AssertionError(with_problems(str(error), problems)) from error
    if problems:
        raise AssertionError(with_problems(f"{type(model).__name__} reloaded, but", problems))
    assert type(reloaded) is type(model), (
        f"reloaded as {type(reloaded).__name__}, saved as {type(model).__name__}"
    )
    assert reloaded.compiled == model.compiled, f"compiled: {model.compiled} before saving"
    weights, reloaded_weights = model.get_weights(), reloaded.get_weights()
    assert len(reloaded_weights) == len(weights), (
        f"reloaded with {len(reloaded_weights)} weights, saved with {len(weights)}"
    )
    for i, (want, got) in enumerate(zip(weights, reloaded_weights, strict=True)):
        np.testing.assert_array_equal(got, want, err_msg=f"weight {i} changed")
    outputs = list(flatten(model.predict(x, verbose=0)))  # one output or several
    reloaded_outputs = list(flatten(reloaded.predict(x, verbose=0)))
    assert len(reloaded_outputs) == len(outputs), "the reloaded model has other outputs"
    for i, (want, got) in enumerate(zip(outputs, reloaded_outputs, strict=True)):
        np.testing.assert_allclose(got, want, atol=atol, err_msg=f"output {i}")
    return reloaded
