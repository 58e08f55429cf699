"""Callbacks from the book's chapter 7, switched on by one `CallbackConfig`.

Besides Keras's own, two of anykeras's: `EpochTimer` (the wall time of each epoch) and
`StopOnNonFinite`, which every anykeras run gets: a loss that turns NaN or infinite
is an error (`DivergedError`), never a result.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras

from anykeras.saving import write_json_atomically
from anykeras.spec import check_int


@dataclasses.dataclass(frozen=True)
class CallbackConfig:
    """Which callbacks a training run gets. All off by default.

    Args:
        early_stopping_patience: Stop after this many epochs without a better
            validation loss, and restore the best weights.
        checkpoint_path: Keep the model with the best validation loss in this
            ``.keras`` file.
        backup_dir: Back up the training state here each epoch, so a run that was
            killed resumes where it stopped when started again.
        csv_log: Append each epoch's metrics to this CSV file.
        tensorboard_dir: Write TensorBoard logs here (needs the ``tensorboard``
            package, which TensorFlow installs).
        batch_loss_log: Record the loss of every batch and write them to this JSON
            file when training ends (see `BatchLossHistory`).

    Example:
    >>> [type(c).__name__ for c in make_callbacks(CallbackConfig(early_stopping_patience=2))]
    ['StopOnNonFinite', '_ResumedEarlyStopping']
    """

    early_stopping_patience: int | None = None
    checkpoint_path: str | Path | None = None
    backup_dir: str | Path | None = None
    csv_log: str | Path | None = None
    tensorboard_dir: str | Path | None = None
    batch_loss_log: str | Path | None = None

    def __post_init__(self) -> None:
        check_int("early_stopping_patience", self.early_stopping_patience, 0, allow_none=True)
        if self.checkpoint_path is not None and not str(self.checkpoint_path).endswith(".keras"):
            raise ValueError(
                "checkpoint_path must end in .keras (the model is saved whole). "
                f"Received: checkpoint_path={str(self.checkpoint_path)!r}"
            )


class BatchLossHistory(keras.callbacks.Callback):
    """Records the running loss after every training batch (the book's custom callback).

    Args:
        path: Where to write the losses as JSON when training ends; ``None`` keeps
            them in memory only.

    Attributes:
        losses: One list per epoch of the loss Keras reported after each batch.

    Example:
    >>> BatchLossHistory().losses
    []
    """

    def __init__(self, path: str | Path | None = None) -> None:
        super().__init__()
        self.path = None if path is None else Path(path)
        self.losses: list[list[float]] = []

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Start a new list for this epoch."""
        self.losses.append([])

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Keep the loss Keras reports after this batch."""
        if logs and "loss" in logs:
            self.losses[-1].append(float(logs["loss"]))

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Write the losses to ``path``, if one was given."""
        if self.path is not None:
            write_json_atomically(self.path, {"batch_losses": self.losses})


class DivergedError(RuntimeError):
    """Training produced a loss that is not a finite number."""


# PyTorch's binary cross-entropy refuses predictions outside [0, 1]. Keras clips every
# number into that range first, so only NaN predictions (weights no longer finite) get there.
_TORCH_NAN_PREDICTIONS = "all elements of input should be between 0 and 1"


def as_diverged_error(error: BaseException) -> DivergedError | None:
    """The `DivergedError` that ``error``, raised while training, stands for; else ``None``.

    On PyTorch a binary model whose weights stopped being finite fails inside its loss,
    on NaN predictions, before `StopOnNonFinite` can see a NaN loss.

    Example:
    >>> as_diverged_error(RuntimeError("all elements of input should be between 0 and 1"))
    DivergedError('the predictions are nan: training diverged. Try a lower learning rate.')
    >>> as_diverged_error(RuntimeError("out of memory")) is None
    True
    """
    if isinstance(error, RuntimeError) and _TORCH_NAN_PREDICTIONS in str(error):
        return DivergedError(
            "the predictions are nan: training diverged. Try a lower learning rate."
        )
    return None


@contextlib.contextmanager
def diverged_as_error() -> Iterator[None]:
    """Inside: a PyTorch error that means "training diverged" raises `DivergedError`.

    Example:
    >>> with diverged_as_error():
    ...     raise RuntimeError("all elements of input should be between 0 and 1")
    Traceback (most recent call last):
    ...
    anykeras.training.callbacks.DivergedError: the predictions are nan: ...
    """
    try:
        yield
    except RuntimeError as error:  # PyTorch fails on NaN predictions before the loss is NaN
        diverged = as_diverged_error(error)
        if diverged is None:
            raise
        raise diverged from None


class StopOnNonFinite(keras.callbacks.Callback):
    """Raise `DivergedError` at the end of an epoch whose losses are not finite.

    Keras's `TerminateOnNaN` stops quietly and ``fit`` returns as if all went well;
    here the run fails, saying which epoch and what to try.

    Example:
    >>> StopOnNonFinite().on_epoch_end(2, {"loss": float("nan")})
    Traceback (most recent call last):
    ...
    anykeras.training.callbacks.DivergedError: the loss is nan after epoch 3: ...
    """

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Check every loss of the epoch."""
        for name, value in (logs or {}).items():
            if name.endswith("loss") and not math.isfinite(float(value)):
                raise DivergedError(
                    f"the {name} is {float(value)} after epoch {epoch + 1}: training "
                    "diverged. Try a lower learning rate."
                )


class EpochTimer(keras.callbacks.Callback):
    """Wall time of each training epoch, in seconds.

    Example:
    >>> EpochTimer().seconds
    []
    """

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Start the clock."""
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Stop the clock."""
        self.seconds.append(time.perf_counter() - self._start)


class _ResumedEarlyStopping(keras.callbacks.EarlyStopping):
    """`EarlyStopping` that, on a resumed run, counts patience from the epochs before."""

    wait: int
    best: float

    def __init__(self, past: list[float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.past = past

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        super().on_train_begin(logs)
        wait, best = self.wait, self.best
        for epoch, value in enumerate(self.past):  # replay on_epoch_end's bookkeeping
            wait += 1
            if self._is_improvement(value, best):
                best, self.best_epoch, wait = value, epoch, 0
        self.wait, self.best = wait, best


class _ResumedCheckpoint(keras.callbacks.ModelCheckpoint):
    """`ModelCheckpoint` that writes atomically and, resumed, remembers the best before."""

    def __init__(self, past: list[float], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.past = past

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        super().on_train_begin(logs)
        if self.past:
            self.best = min(self.past)

    def _get_file_path(self, epoch: int, batch: int | None, logs: dict[str, Any] | None) -> str:
        # Keras writes the file in place: save beside it, then move it over the old one.
        final = Path(super()._get_file_path(epoch, batch, logs))
        self._final: Path | None = final
        return str(final.with_name(f".{final.stem}.partial{final.suffix}"))

    def _save_model(self, epoch: int, batch: int | None, logs: dict[str, Any]) -> None:
        self._final = None
        super()._save_model(epoch, batch, logs)
        if self._final is not None:
            partial = self._final.with_name(f".{self._final.stem}.partial{self._final.suffix}")
            if partial.exists():
                partial.replace(self._final)


def tensorboard_available() -> bool:
    """Whether Keras's TensorBoard callback can write logs here.

    It writes through ``tf.summary`` on every backend, so it needs TensorFlow and
    the tensorboard package (TensorFlow no longer installs it).
    """
    return all(importlib.util.find_spec(m) is not None for m in ("tensorflow", "tensorboard"))


def make_callbacks(
    config: CallbackConfig,
    has_validation: bool = True,
    past: dict[str, list[float]] | None = None,
) -> list[keras.callbacks.Callback]:
    """The Keras callbacks that ``config`` asks for, and `StopOnNonFinite`.

    ``backup_dir`` is not among them: `anykeras.training.fit` backs up each phase
    itself (`anykeras.training.resume`).

    Args:
        config: Which callbacks to make.
        has_validation: Whether the run has validation data; without it the
            callbacks watch the training loss instead of ``val_loss``.
        past: The history before a resume, so that early stopping and the best
            checkpoint carry on from it.

    Returns:
        A list of callbacks for `keras.Model.fit`.
    """
    monitor = "val_loss" if has_validation else "loss"
    before = (past or {}).get(monitor, [])
    callbacks: list[keras.callbacks.Callback] = [StopOnNonFinite()]
    if config.early_stopping_patience is not None:
        callbacks.append(
            _ResumedEarlyStopping(
                before,
                monitor=monitor,
                patience=config.early_stopping_patience,
                restore_best_weights=True,
            )
        )
    if config.checkpoint_path is not None:
        Path(config.checkpoint_path).parent.mkdir(parents=True, exist_ok=True)
        callbacks.append(
            _ResumedCheckpoint(
                before, str(config.checkpoint_path), monitor=monitor, save_best_only=True
            )
        )
    if config.csv_log is not None:
        Path(config.csv_log).parent.mkdir(parents=True, exist_ok=True)
        callbacks.append(keras.callbacks.CSVLogger(str(config.csv_log), append=True))
    if config.tensorboard_dir is not None:
        if not tensorboard_available():
            raise RuntimeError(
                "TensorBoard logging needs the tensorflow and tensorboard packages, which are "
                "not both installed in this environment. Install them (pip install "
                "tensorflow tensorboard) or leave tensorboard_dir unset."
            )
        callbacks.append(keras.callbacks.TensorBoard(str(config.tensorboard_dir)))
    if config.batch_loss_log is not None:
        callbacks.append(BatchLossHistory(config.batch_loss_log))
    return callbacks


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


def every_step_to_batch_callbacks(model: keras.Model, callbacks: list[Any]) -> None:
    """One step per call where a callback acts after each batch.

    Keras calls batch-level callbacks once per call of several steps; this gives them
    every step (the results are the same either way).
    """
    if model.steps_per_execution > 1 and any(map(acts_after_each_batch, callbacks)):
        model.steps_per_execution = 1
