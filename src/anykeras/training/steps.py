"""The workflow's steps: compile, hold out, fit, best epoch, retrain, evaluate, k-fold.

    spec, config = ClassifierSpec(input_shape=(10000,)), TrainConfig(epochs=20)
    (x_part, y_part), (x_val, y_val) = hold_out(x_train, y_train, 10_000)
    history = fit(build(spec), spec, x_part, y_part, config, validation_data=(x_val, y_val))
    epochs = best_epoch(history)                       # lowest val_loss, 1-based
    model = retrain(spec, "functional", x_train, y_train, config.replace(epochs=epochs))
    metrics = evaluate(model, x_test, y_test)          # {"loss": ..., "accuracy": ...}

`anykeras.training.workflow.run_workflow` runs them in the course's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from anykeras.builders import build
from anykeras.spec import ClassifierSpec, is_int
from anykeras.training.batches import EpochOrder
from anykeras.training.callbacks import CallbackConfig, as_diverged_error, make_callbacks
from anykeras.training.config import TrainConfig
from anykeras.training.resume import PhaseBackup
from anykeras.training.route import PLAIN, Route


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


def compile_for(
    model: keras.Model, spec: ClassifierSpec, config: TrainConfig, **options: Any
) -> keras.Model:
    """Compile ``model`` as ``config`` says: optimizer, learning rate, loss, XLA.

    ``options`` (a route's `anykeras.training.route.Route.compile_options`) override.

    Example:
    >>> from anykeras import build
    >>> spec = ClassifierSpec(input_shape=(4,))
    >>> compile_for(build(spec), spec, TrainConfig(loss="mse")).loss
    'mse'
    """
    extra: dict[str, Any] = {"jit_compile": config.jit_compile, **options}
    if config.loss is not None:
        extra.setdefault("loss", config.loss)
    return compile_model(model, spec, config.optimizer, config.learning_rate, **extra)


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
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length. Received: {len(x)} and {len(y)}")
    count = round(size * len(x)) if isinstance(size, float) else size
    if not 0 < count < len(x):
        raise ValueError(
            f"the validation split must leave samples on both sides: held out {count} of "
            f"{len(x)}. Received: size={size!r}"
        )
    return (x[count:], y[count:]), (x[:count], y[:count])


def fit(
    model: keras.Model,
    spec: ClassifierSpec,
    x: np.ndarray,
    y: np.ndarray,
    config: TrainConfig | None = None,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    route: Route = PLAIN,
    phase: str = "fit",
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> keras.callbacks.History:
    """Compile ``model`` for ``spec`` and fit it, with validation.

    With ``config.seed`` set and ``shuffle`` on, the samples come in anykeras's seeded
    epoch order (`anykeras.training.batches`). With ``config.callbacks.backup_dir``
    set, the run backs itself up after every epoch into ``<backup_dir>/<phase>.npz``
    and, started again after a crash, resumes exactly where it stopped; the backup is
    removed once the run ends. A loss that stops being finite raises
    `anykeras.training.callbacks.DivergedError`.

    Args:
        model: A model built from ``spec`` (compiled here).
        spec: Its spec.
        x: Training inputs.
        y: Training targets.
        config: How to train; defaults to `TrainConfig()`.
        validation_data: ``(x_val, y_val)``; when ``None``, ``config.validation_size``
            samples are held out from the start of ``x``.
        route: How the data goes in (`anykeras.training.route.Route`); the course's
            plain route by default.
        phase: The name of this run's backup file (one per phase of a workflow).
        callbacks: More Keras callbacks, besides those ``config.callbacks`` asks for.

    Returns:
        Keras's `History`; ``history.history`` holds ``loss``, the metric, and their
        ``val_`` twins per epoch, every epoch of a resumed run included.

    Example:
    >>> from anykeras import build
    >>> spec = ClassifierSpec(input_shape=(4,), hidden=(3,))
    >>> x, y = np.ones((20, 4), "float32"), np.ones((20, 1), "float32")
    >>> history = fit(build(spec), spec, x, y, TrainConfig(epochs=2, validation_size=5))
    >>> sorted(history.history)
    ['accuracy', 'loss', 'val_accuracy', 'val_loss']
    """
    config = config or TrainConfig()
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length. Received: {len(x)} and {len(y)}")
    if validation_data is None and config.validation_size is not None:
        (x, y), validation_data = hold_out(x, y, config.validation_size)
    compile_for(model, spec, config, **route.compile_options())
    backup = _backup(config.callbacks, phase)
    initial_epoch = backup.restore(model) if backup else 0
    asked = make_callbacks(
        config.callbacks,
        has_validation=validation_data is not None,
        past=backup.history if backup else None,
    )
    seed = config.seed
    if seed is None and config.shuffle and route is not PLAIN:
        # A faster route cuts its own batches, so it shuffles through an order: a fresh one.
        seed = int(np.random.default_rng().integers(2**32))
    order = EpochOrder(seed) if config.shuffle and seed is not None else None
    data, follow = route.batches(route.inputs(x), y, config.batch_size, order)
    every = [c for c in (follow, *asked, *callbacks, backup) if c is not None]
    if model.steps_per_execution > 1 and any(map(acts_after_each_batch, every)):
        # Keras calls batch-level callbacks once per call of several steps: give them
        # every step (the results are the same either way).
        model.steps_per_execution = 1
    validation = None
    if validation_data is not None:
        x_val, y_val = validation_data
        validation = route.validation(route.inputs(x_val), y_val, config.batch_size)
    arrays = isinstance(data, tuple)
    try:
        history = route.fit(
            model,
            data,
            batch_size=config.batch_size if arrays else None,
            shuffle=config.shuffle and order is None,
            epochs=config.epochs,
            initial_epoch=min(initial_epoch, config.epochs),
            validation_data=validation,
            callbacks=every,
            verbose=config.verbose,
        )
    except RuntimeError as error:  # PyTorch fails on NaN predictions before the loss is NaN
        diverged = as_diverged_error(error)
        if diverged is None:
            raise
        raise diverged from None
    if backup is not None:
        history.history = backup.history
        backup.path.unlink(missing_ok=True)
    return history


def acts_after_each_batch(callback: keras.callbacks.Callback) -> bool:
    """Whether ``callback`` has its own batch-level method (not `keras.callbacks.Callback`'s).

    Example:
    >>> acts_after_each_batch(keras.callbacks.EarlyStopping())
    False
    >>> acts_after_each_batch(keras.callbacks.LambdaCallback(on_train_batch_end=print))
    True
    """
    base = keras.callbacks.Callback
    names = ("on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end",
             "on_test_batch_begin", "on_test_batch_end")  # fmt: skip
    for name in names:
        method = getattr(callback, name)  # a bound method, or a function set on the object
        if getattr(method, "__func__", method) is not getattr(base, name):
            return True
    return False


def _backup(callbacks: CallbackConfig, phase: str) -> PhaseBackup | None:
    if callbacks.backup_dir is None:
        return None
    return PhaseBackup(Path(callbacks.backup_dir) / f"{phase}.npz")


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
    initial_weights: list[np.ndarray] | None = None,
    model: keras.Model | None = None,
    *,
    route: Route = PLAIN,
) -> keras.Model:
    """Train a fresh model on ALL of ``x`` for ``config.epochs`` epochs (no validation).

    Args:
        spec: The model to build.
        style: One of `anykeras.STYLES`.
        x: All training inputs.
        y: All training targets.
        config: How to train; its ``validation_size`` is ignored, and of its
            callbacks only ``backup_dir`` applies (the backup ``retrain.npz``).
        initial_weights: Start from these weights instead of a seeded initialisation.
        model: The fresh model to train; when ``None``, ``route``'s model for the
            course's model built from ``spec``, ``style`` and ``config.seed``.
        route: How the data goes in.

    Returns:
        The trained model (``route``'s: `Route.deliver` gives the dense one).
    """
    if model is None:
        model = route.model(spec, style, new_model(spec, style, config.seed, initial_weights))
    elif initial_weights is not None:
        model.set_weights(initial_weights)
    # Logs, checkpoints and early stopping describe the validation run; the final
    # run only keeps its backup, so that it too resumes after a crash.
    callbacks = CallbackConfig(backup_dir=config.callbacks.backup_dir)
    final = config.replace(validation_size=None, callbacks=callbacks)
    fit(model, spec, x, y, final, route=route, phase="retrain")
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
        validation = (x[held], y[held])
        history = fit(model, spec, x_rest, y_rest, config, validation, phase=f"fold_{fold + 1}")
        histories.append(history.history)
    return histories
