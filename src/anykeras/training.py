"""The course's workflow: compile, fit with validation, pick the best epoch, retrain, evaluate.

    spec, config = ClassifierSpec(input_shape=(10000,)), TrainConfig(epochs=20)
    (x_part, y_part), (x_val, y_val) = hold_out(x_train, y_train, 10_000)
    history = fit(build(spec), spec, x_part, y_part, config, validation_data=(x_val, y_val))
    epochs = best_epoch(history)                       # lowest val_loss, 1-based
    model = retrain(spec, "functional", x_train, y_train, config.replace(epochs=epochs))
    metrics = evaluate(model, x_test, y_test)          # {"loss": ..., "accuracy": ...}

`run_workflow` does all of it in one call; `k_fold` is the book's housing recipe.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from anykeras.builders import build
from anykeras.callbacks import CallbackConfig, make_callbacks
from anykeras.fastpath import KNOWN, fast_fit
from anykeras.spec import ClassifierSpec


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """How to train: the course's IMDB recipe by default.

    Args:
        epochs: Passes over the training data.
        batch_size: Samples per gradient step.
        optimizer: Optimizer name, as `keras.optimizers.get` knows it.
        learning_rate: Overrides the optimizer's default learning rate.
        loss: Overrides the loss the spec's task calls for (e.g. ``"mse"`` for a
            binary classifier, one of the course's further experiments).
        validation_size: Samples held out from the START of the training data for
            validation (an int), or a fraction of it (a float in (0, 1)); ``None``
            holds out nothing. Ignored when ``validation_data`` is given to `fit`.
        shuffle: Shuffle the training data each epoch.
        seed: Seeds Keras (weights, dropout, shuffling) before a model is built;
            ``None`` leaves the global seed alone.
        verbose: Keras's progress output: 0 silent, 1 progress bar, 2 a line per epoch.
        jit_compile: As for `keras.Model.compile`: ``True``, ``False`` or ``"auto"``.
        strategy: How the arrays go into ``fit``: ``"arrays"`` (as they are) or another
            input strategy of `anykeras.fastpath` (``"packed"`` for the word ids of a
            packed `anykeras.sparse` model).
        callbacks: The callbacks to attach (see `anykeras.callbacks.CallbackConfig`).

    Example:
    >>> TrainConfig().replace(epochs=4).epochs
    4
    """

    # 20 epochs: long enough to watch the IMDB model overfit after about 4.
    epochs: int = 20
    # 512 reviews per step, the course's batch size.
    batch_size: int = 512
    # rmsprop, the course's optimizer, at its default learning rate of 1e-3.
    optimizer: str = "rmsprop"
    learning_rate: float | None = None
    # None: the task's loss (binary crossentropy for IMDB).
    loss: str | None = None
    # The course holds out the first 10,000 of the 25,000 training reviews.
    validation_size: int | float | None = 10_000
    shuffle: bool = True
    # Fixed by default, so a run can be repeated; any seed must give the same quality.
    seed: int | None = 0
    verbose: int = 0
    # "auto": Keras's choice (XLA on JAX; off on a CPU-only TensorFlow).
    jit_compile: bool | str = "auto"
    # "arrays": the arrays go to model.fit as they are, Keras cuts the batches.
    strategy: str = "arrays"
    callbacks: CallbackConfig = dataclasses.field(default_factory=CallbackConfig)

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
        size = self.validation_size
        valid_size = size is None or (
            not isinstance(size, bool)
            and ((isinstance(size, int) and size > 0) or (isinstance(size, float) and 0 < size < 1))
        )
        if not valid_size:
            raise ValueError(
                "validation_size must be None, a positive number of samples or a fraction "
                f"in (0, 1). Received: validation_size={size!r}"
            )
        if self.jit_compile not in (True, False, "auto"):
            raise ValueError(
                f"jit_compile must be True, False or 'auto'. Received: {self.jit_compile!r}"
            )
        if self.strategy not in KNOWN:
            raise ValueError(f"strategy must be one of {KNOWN}. Received: {self.strategy!r}")
        if self.verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2. Received: verbose={self.verbose!r}")

    def replace(self, **changes: Any) -> TrainConfig:
        """Return a copy with some fields changed (and validated again)."""
        return dataclasses.replace(self, **changes)


@dataclasses.dataclass
class WorkflowResult:
    """What `run_workflow` produced.

    Attributes:
        history: ``History.history`` of the run with validation (lists per epoch).
        best_epoch: The epoch (1-based) with the lowest validation loss.
        model: The model retrained on all training data for ``best_epoch`` epochs.
        test_metrics: `evaluate`'s dict for the test data.
    """

    history: dict[str, list[float]]
    best_epoch: int
    model: keras.Model
    test_metrics: dict[str, float]


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


def compile_for(model: keras.Model, spec: ClassifierSpec, config: TrainConfig) -> keras.Model:
    """Compile ``model`` as ``config`` says: optimizer, learning rate, loss, XLA.

    Example:
    >>> from anykeras import build
    >>> spec = ClassifierSpec(input_shape=(4,))
    >>> compile_for(build(spec), spec, TrainConfig(loss="mse")).loss
    'mse'
    """
    extra = {} if config.loss is None else {"loss": config.loss}
    return compile_model(
        model,
        spec,
        config.optimizer,
        config.learning_rate,
        jit_compile=config.jit_compile,
        **extra,
    )


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
) -> keras.callbacks.History:
    """Compile ``model`` for ``spec`` and fit it, with validation.

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
    config = config or TrainConfig()
    if validation_data is None and config.validation_size is not None:
        (x, y), validation_data = hold_out(x, y, config.validation_size)
    compile_for(model, spec, config)
    callbacks = make_callbacks(config.callbacks, has_validation=validation_data is not None)
    kwargs = {
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "shuffle": config.shuffle,
        "validation_data": validation_data,
        "callbacks": callbacks,
        "verbose": config.verbose,
    }
    if config.strategy == "arrays":
        return model.fit(x, y, **kwargs)
    # XLA was settled by compile_for: keep it.
    return fast_fit(model, x, y, strategy=config.strategy, jit_compile=model.jit_compile, **kwargs)


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


def new_model(spec: ClassifierSpec, style: str, seed: int | None) -> keras.Model:
    """A freshly initialised model: seeds Keras first so the weights are repeatable."""
    if seed is not None:
        keras.utils.set_random_seed(seed)
    return build(spec, style)


def retrain(
    spec: ClassifierSpec,
    style: str,
    x: np.ndarray,
    y: np.ndarray,
    config: TrainConfig,
    initial_weights: list[np.ndarray] | None = None,
    model: keras.Model | None = None,
) -> keras.Model:
    """Train a fresh model on ALL of ``x`` for ``config.epochs`` epochs (no validation).

    Args:
        spec: The model to build.
        style: One of `anykeras.STYLES`.
        x: All training inputs.
        y: All training targets.
        config: How to train; its ``validation_size`` is ignored, and of its
            callbacks only ``backup_dir`` applies.
        initial_weights: Start from these weights instead of a seeded initialisation.
        model: The fresh model to train (e.g. `anykeras.paths.training_model`'s);
            built from ``spec``, ``style`` and ``config.seed`` when ``None``.

    Returns:
        The trained model.
    """
    if model is None:
        model = new_model(spec, style, config.seed)
    if initial_weights is not None:
        model.set_weights(initial_weights)
    # Logs, checkpoints and early stopping describe the validation run; the final
    # run only keeps its backup, so that it too resumes after a crash.
    callbacks = CallbackConfig(backup_dir=config.callbacks.backup_dir)
    fit(model, spec, x, y, config.replace(validation_size=None, callbacks=callbacks))
    return model


def evaluate(
    model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int = 512
) -> dict[str, float]:
    """`keras.Model.evaluate` as a dict of floats, e.g. ``{"loss": .., "accuracy": ..}``."""
    results = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
    return {name: float(value) for name, value in results.items()}


def run_workflow(
    spec: ClassifierSpec,
    style: str,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    config: TrainConfig | None = None,
    retrain_epochs: int | None = None,
) -> WorkflowResult:
    """The course's whole recipe: validate, pick the best epoch, retrain, evaluate.

    Args:
        spec: The model to build.
        style: One of `anykeras.STYLES`.
        train: ``(x_train, y_train)``; ``config.validation_size`` samples are held
            out from its start for the first run.
        test: ``(x_test, y_test)``, used once, at the end.
        config: How to train; ``epochs`` is the length of the validation run.
        retrain_epochs: Epochs of the final run; by default the best epoch by
            validation loss.

    Returns:
        A `WorkflowResult`.
    """
    config = config or TrainConfig()
    x_train, y_train = train
    history = fit(new_model(spec, style, config.seed), spec, x_train, y_train, config)
    chosen = best_epoch(history)
    model = retrain(spec, style, x_train, y_train, config.replace(epochs=retrain_epochs or chosen))
    return WorkflowResult(history.history, chosen, model, evaluate(model, *test))


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
    if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= len(x):
        raise ValueError(f"k must be an integer in [2, {len(x)}]. Received: k={k!r}")
    size = len(x) // k
    histories = []
    for fold in range(k):
        held = slice(fold * size, (fold + 1) * size)
        x_rest = np.concatenate([x[: held.start], x[held.stop :]])
        y_rest = np.concatenate([y[: held.start], y[held.stop :]])
        model = new_model(spec, style, config.seed)
        history = fit(model, spec, x_rest, y_rest, config, validation_data=(x[held], y[held]))
        histories.append(history.history)
    return histories
