"""`TrainConfig`: how to train, the course's IMDB recipe by default."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from anykeras.spec import check_int, check_number, is_int
from anykeras.training.callbacks import CallbackConfig

VERBOSITY = (0, 1, 2)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """How to train: the course's IMDB recipe by default.

    Args:
        epochs: Passes over the training data.
        batch_size: Samples per gradient step.
        optimizer: Optimizer name, as `keras.optimizers.get` knows it.
        learning_rate: Overrides the optimizer's default learning rate (finite, > 0).
        loss: Overrides the loss the spec's task calls for (e.g. ``"mse"`` for a
            binary classifier, one of the course's further experiments).
        validation_size: Samples held out from the START of the training data for
            validation (an int), or a fraction of it (a float in (0, 1)); ``None``
            holds out nothing. Ignored when ``validation_data`` is given to `fit`.
        shuffle: Shuffle the training data each epoch. With a ``seed``, epoch ``e``
            visits the samples in the order `EpochOrder(seed).permutation(n, e)`: the
            same on every backend, and the same after a resume.
        seed: Seeds Keras (weights, dropout) before a model is built, and the
            shuffling; ``None`` leaves the global seed and Keras's own shuffling alone.
        verbose: Keras's progress output: 0 silent, 1 progress bar, 2 a line per epoch.
        jit_compile: As for `keras.Model.compile`: ``True``, ``False`` or ``"auto"``.
        callbacks: The callbacks to attach (see `anykeras.training.CallbackConfig`).

    Example:
    >>> TrainConfig().replace(epochs=4).epochs
    4
    >>> TrainConfig(learning_rate=-1.0)
    Traceback (most recent call last):
    ...
    ValueError: learning_rate must be None or a finite number > 0. Received: learning_rate=-1.0
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
    # Fixed by default, so a run can be repeated (and resumed); any seed must give the
    # same quality.
    seed: int | None = 0
    verbose: int = 0
    # "auto": Keras's choice (XLA on JAX; off on a CPU-only TensorFlow).
    jit_compile: bool | str = "auto"
    callbacks: CallbackConfig = dataclasses.field(default_factory=CallbackConfig)

    def __post_init__(self) -> None:
        check_int("epochs", self.epochs)
        check_int("batch_size", self.batch_size)
        if self.learning_rate is not None:
            try:
                check_number("learning_rate", self.learning_rate)
            except ValueError:
                raise ValueError(
                    "learning_rate must be None or a finite number > 0. "
                    f"Received: learning_rate={self.learning_rate!r}"
                ) from None
        check_validation_size(self.validation_size)
        check_int("seed", self.seed, minimum=0, allow_none=True)
        if self.seed is not None and self.seed >= 2**32:
            raise ValueError(f"seed must be below 2**32. Received: seed={self.seed!r}")
        if self.jit_compile not in (True, False, "auto"):
            raise ValueError(
                f"jit_compile must be True, False or 'auto'. Received: {self.jit_compile!r}"
            )
        if self.verbose not in VERBOSITY or isinstance(self.verbose, bool):
            raise ValueError(f"verbose must be 0, 1 or 2. Received: verbose={self.verbose!r}")
        if not isinstance(self.shuffle, bool):
            raise ValueError(f"shuffle must be True or False. Received: shuffle={self.shuffle!r}")
        if not isinstance(self.callbacks, CallbackConfig):
            raise TypeError(
                "callbacks must be a CallbackConfig. "
                f"Received: callbacks of type {type(self.callbacks).__name__}"
            )

    def replace(self, **changes: Any) -> TrainConfig:
        """Return a copy with some fields changed (and validated again)."""
        return dataclasses.replace(self, **changes)

    def for_retraining(self) -> TrainConfig:
        """This config for the final run: no hold-out, and of the callbacks only the backup.

        Logs, checkpoints and early stopping describe the validation run; the final run
        only keeps its backup, so that it too resumes after a crash.
        """
        callbacks = CallbackConfig(backup_dir=self.callbacks.backup_dir)
        return self.replace(validation_size=None, callbacks=callbacks)


def check_validation_size(size: Any) -> None:
    """Raise a `ValueError` unless ``size`` is ``None``, a count > 0 or a fraction in (0, 1)."""
    whole = is_int(size) and size > 0
    fraction = isinstance(size, float) and math.isfinite(size) and 0 < size < 1
    if not (size is None or whole or fraction):
        raise ValueError(
            "validation_size must be None, a positive number of samples or a fraction "
            f"in (0, 1). Received: validation_size={size!r}"
        )
