"""The workflow's steps: compile, hold out, fit, best epoch, retrain, evaluate, k-fold.

    spec, config = ClassifierSpec(input_shape=(10000,)), TrainConfig(epochs=20)
    (x_part, y_part), (x_val, y_val) = hold_out(x_train, y_train, 10_000)
    model = compile_model(build(spec), spec, config)
    history = model.fit(x_part, y_part, epochs=20, batch_size=512,
                        validation_data=(x_val, y_val))
    epochs = best_epoch(history)                       # lowest val_loss, 1-based
    model = retrain(spec, "functional", x_train, y_train, config.replace(epochs=epochs))
    metrics = evaluate(model, x_test, y_test)          # {"loss": ..., "accuracy": ...}

`fit` is that ``model.fit`` with the course's seeded order; `fit_phase` adds the hooks a
workflow's phase takes (a route, a backup, more callbacks). `anykeras.training.workflow`
runs the steps in the course's order.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from anykeras.builders import build
from anykeras.spec import ClassifierSpec, is_int
from anykeras.training.batches import EpochOrder, check_samples
from anykeras.training.callbacks import (
    diverged_as_error,
    every_step_to_batch_callbacks,
    make_callbacks,
)
from anykeras.training.config import TrainConfig
from anykeras.training.resume import PhaseBackup
from anykeras.training.route import PLAIN, Route


def compile_model(
    model: keras.Model,
    spec: ClassifierSpec,
    optimizer: str | keras.optimizers.Optimizer | TrainConfig = "rmsprop",
    learning_rate: float | None = None,
    **kwargs: Any,
) -> keras.Model:
    """Compile ``model`` with the loss and metrics that ``spec``'s task calls for.

    Every style is compiled through here, so the three models differ in nothing but
    how they were written.

    Args:
        model: A model built from ``spec``.
        spec: Its spec; gives the loss and metrics.
        optimizer: An optimizer name (``"rmsprop"``, the course's choice) or instance,
            or a `TrainConfig`, whose optimizer, learning rate, loss and
            ``jit_compile`` then apply.
        learning_rate: Overrides the named optimizer's default learning rate.
        **kwargs: Passed on to `keras.Model.compile` (e.g. ``loss="mse"`` to
            override the task's loss); they win over a `TrainConfig`'s.

    Returns:
        The same model, compiled.

    Example:
    >>> from anykeras import build
    >>> spec = ClassifierSpec(input_shape=(10,))
    >>> compile_model(build(spec), spec).loss
    'binary_crossentropy'
    >>> compile_model(build(spec), spec, TrainConfig(loss="mse")).loss
    'mse'
    """
    if isinstance(optimizer, TrainConfig):
        config, optimizer = optimizer, optimizer.optimizer
        learning_rate = config.learning_rate if learning_rate is None else learning_rate
        kwargs.setdefault("jit_compile", config.jit_compile)
        if config.loss is not None:
            kwargs.setdefault("loss", config.loss)
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


def compile_for(
    model: keras.Model, spec: ClassifierSpec, config: TrainConfig, **options: Any
) -> keras.Model:
    """0.2's name of `compile_model` with a `TrainConfig`; deprecated."""
    warnings.warn(
        "compile_for(model, spec, config) is deprecated: use compile_model(model, spec, config)",
        DeprecationWarning,
        stacklevel=2,
    )
    return compile_model(model, spec, config, **options)


def hold_out(
    x: np.ndarray, y: np.ndarray, size: int | float
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Split off the FIRST ``size`` samples for validation, as the course does.

    Args:
        x: Training inputs.
        y: Training targets, same length as ``x``.
        size: Number of samples to hold out, or a fraction in (0, 1).

    Returns:
        ``(x_rest, y_rest), (x_held_out, y_held_out)``.

    Example:
    >>> (x_rest, _), (x_val, _) = hold_out(np.arange(10), np.arange(10), 3)
    >>> x_val.tolist(), len(x_rest)
    ([0, 1, 2], 7)
    """
    check_samples(x, y)
    count = round(size * len(x)) if isinstance(size, float) else size
    if not 0 < count < len(x):
        raise ValueError(
            f"the validation split must leave samples on both sides: held out {count} of "
            f"{len(x)}. Received: size={size!r}"
        )
    return (x[count:], y[count:]), (x[:count], y[:count])


@dataclasses.dataclass(frozen=True)
class Phase:
    """One training run of a workflow, and the hooks it takes besides the plain ``fit``.

    Attributes:
        name: The run's name; its backup is ``<backup_dir>/<name>.npz``.
        route: How the data goes in (`anykeras.training.route.Route`).
        callbacks: More Keras callbacks, besides those the config asks for.
        validation_data: ``(x_val, y_val)``; when ``None``, the config's
            ``validation_size`` samples are held out from the start of the data.
    """

    name: str = "fit"
    route: Route = PLAIN
    callbacks: tuple[keras.callbacks.Callback, ...] = ()
    validation_data: tuple[np.ndarray, np.ndarray] | None = None


def fit(
    model: keras.Model,
    spec: ClassifierSpec,
    x: np.ndarray,
    y: np.ndarray,
    config: TrainConfig | None = None,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
) -> keras.callbacks.History:
    """Compile ``model`` for ``spec`` and fit it, with validation: the course's route.

    With ``config.seed`` set and ``shuffle`` on, the samples come in the seeded epoch
    order (`anykeras.training.batches`); a loss that stops being finite raises
    `anykeras.training.callbacks.DivergedError`.

    Args:
        model: A model built from ``spec`` (compiled here).
        spec: Its spec.
        x: Training inputs.
        y: Training targets.
        config: How to train; defaults to `TrainConfig()`.
        validation_data: ``(x_val, y_val)``; when ``None``, ``config.validation_size``
            samples are held out from the start of ``x``.

    Returns:
        Keras's `History`; ``history.history`` holds ``loss``, the metric, and their
        ``val_`` twins per epoch.

    Example:
    >>> from anykeras import build
    >>> spec = ClassifierSpec(input_shape=(4,), hidden=(3,))
    >>> x, y = np.ones((20, 4), "float32"), np.ones((20, 1), "float32")
    >>> history = fit(build(spec), spec, x, y, TrainConfig(epochs=2, validation_size=5))
    >>> sorted(history.history)
    ['accuracy', 'loss', 'val_accuracy', 'val_loss']
    """
    phase = Phase(validation_data=validation_data)
    return fit_phase(model, spec, (x, y), config or TrainConfig(), phase)


def fit_phase(
    model: keras.Model,
    spec: ClassifierSpec,
    train: tuple[np.ndarray, np.ndarray],
    config: TrainConfig,
    phase: Phase,
) -> keras.callbacks.History:
    """`fit` for one phase of a workflow: ``model.fit`` with the phase's hooks.

    The hooks: the route feeds the batches; with ``config.callbacks.backup_dir`` set
    the run backs itself up after every epoch into ``<backup_dir>/<phase>.npz`` and,
    started again after a crash, resumes exactly where it stopped (the backup is
    removed once the run ends); every route sees the samples in the same seeded order.

    Returns: Keras's `History`, every epoch of a resumed run included.
    """
    (x, y), validation_data = train, phase.validation_data
    check_samples(x, y)
    if validation_data is None and config.validation_size is not None:
        (x, y), validation_data = hold_out(x, y, config.validation_size)
    route = phase.route
    compile_model(model, spec, config, **route.compile_options())
    backup = PhaseBackup.of(config.callbacks.backup_dir, phase.name)
    initial_epoch = backup.restore(model) if backup else 0
    asked = make_callbacks(
        config.callbacks,
        has_validation=validation_data is not None,
        past=backup.history if backup else None,
    )
    order = EpochOrder.for_run(config.seed, config.shuffle, fresh=route is not PLAIN)
    data, follow = route.batches(route.inputs(x), y, config.batch_size, order)
    callbacks = [c for c in (follow, *asked, *phase.callbacks, backup) if c is not None]
    every_step_to_batch_callbacks(model, callbacks)
    validation = None
    if validation_data is not None:
        x_val, y_val = validation_data
        validation = route.validation(route.inputs(x_val), y_val, config.batch_size)
    with diverged_as_error():
        history = route.fit(
            model,
            data,
            batch_size=config.batch_size if isinstance(data, tuple) else None,
            shuffle=config.shuffle and order is None,
            epochs=config.epochs,
            initial_epoch=min(initial_epoch, config.epochs),
            validation_data=validation,
            callbacks=callbacks,
            verbose=config.verbose,
        )
    if backup is not None:
        history.history = backup.history
        backup.path.unlink(missing_ok=True)
    return history


def best_epoch(
    history: keras.callbacks.History | dict[str, Sequence[float]], monitor: str = "val_loss"
) -> int:
    """The 1-based epoch at which ``monitor`` was lowest (the earliest, on ties).

    Example:
    >>> best_epoch({"val_loss": [0.5, 0.3, 0.31, 0.4]})
    2
    """
    values = history.history if isinstance(history, keras.callbacks.History) else history
    if monitor not in values or len(values[monitor]) == 0:
        raise ValueError(
            f"the history has no {monitor!r} values to choose an epoch from. "
            f"Received keys: {sorted(values)}"
        )
    return int(np.argmin(values[monitor])) + 1


def new_model(
    spec: ClassifierSpec,
    style: str,
    seed: int | None,
    initial_weights: list[np.ndarray] | None = None,
) -> keras.Model:
    """A freshly initialised model: seeds Keras first so the weights are repeatable.

    ``initial_weights``, when given, replace the seeded ones.
    """
    if seed is not None:
        keras.utils.set_random_seed(seed)
    model = build(spec, style)
    if initial_weights is not None:
        model.set_weights(initial_weights)
    return model


def retrain(
    spec: ClassifierSpec,
    style: str,
    x: np.ndarray,
    y: np.ndarray,
    config: TrainConfig,
    model: keras.Model | None = None,
) -> keras.Model:
    """Train a fresh model on ALL of ``x`` for ``config.epochs`` epochs (no validation).

    Args:
        spec: The model to build.
        style: One of `anykeras.STYLES`.
        x: All training inputs.
        y: All training targets.
        config: How to train; its ``validation_size`` is ignored, and of its
            callbacks only ``backup_dir`` applies (the backup ``retrain.npz``).
        model: The fresh model to train (with your initial weights, say); when
            ``None``, the model built from ``spec``, ``style`` and ``config.seed``.

    Returns:
        The trained model.
    """
    model = model if model is not None else new_model(spec, style, config.seed)
    fit_phase(model, spec, (x, y), config.for_retraining(), Phase("retrain"))
    return model


def evaluate(
    model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int = 512
) -> dict[str, float]:
    """`keras.Model.evaluate` as a dict of floats, e.g. ``{"loss": .., "accuracy": ..}``."""
    results = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
    return {name: float(value) for name, value in results.items()}


def k_fold(
    spec: ClassifierSpec,
    style: str,
    x: np.ndarray,
    y: np.ndarray,
    config: TrainConfig,
    k: int = 4,
) -> list[dict[str, list[float]]]:
    """K-fold validation (the book's housing recipe): one history per fold.

    Fold ``i`` validates on the ``i``-th consecutive slice of ``len(x) // k``
    samples and trains a freshly built model on the rest.

    Example:
    >>> spec = ClassifierSpec(input_shape=(3,), hidden=(4,), task="regression")
    >>> x, y = np.ones((8, 3), "float32"), np.ones((8,), "float32")
    >>> folds = k_fold(spec, "functional", x, y, TrainConfig(epochs=2, batch_size=2), k=4)
    >>> len(folds), len(folds[0]["val_mae"])
    (4, 2)
    """
    if not is_int(k) or not 2 <= k <= len(x):
        raise ValueError(f"k must be an integer in [2, {len(x)}]. Received: k={k!r}")
    size = len(x) // k
    histories = []
    for fold in range(k):
        held = slice(fold * size, (fold + 1) * size)
        x_rest = np.concatenate([x[: held.start], x[held.stop :]])
        y_rest = np.concatenate([y[: held.start], y[held.stop :]])
        model = new_model(spec, style, config.seed)
        phase = Phase(f"fold_{fold + 1}", validation_data=(x[held], y[held]))
        history = fit_phase(model, spec, (x_rest, y_rest), config, phase)
        histories.append(history.history)
    return histories
