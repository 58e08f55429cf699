"""Callbacks from the book's chapter 7, switched on by one `CallbackConfig`."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path
from typing import Any

import keras

from anykeras.files import write_json_atomically


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
    ['EarlyStopping']
    """

    early_stopping_patience: int | None = None
    checkpoint_path: str | Path | None = None
    backup_dir: str | Path | None = None
    csv_log: str | Path | None = None
    tensorboard_dir: str | Path | None = None
    batch_loss_log: str | Path | None = None

    def __post_init__(self) -> None:
        patience = self.early_stopping_patience
        if patience is not None and (
            isinstance(patience, bool) or not isinstance(patience, int) or patience < 0
        ):
            raise ValueError(
                "early_stopping_patience must be None or an integer >= 0. "
                f"Received: early_stopping_patience={patience!r}"
            )
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


def tensorboard_available() -> bool:
    """Whether Keras's TensorBoard callback can write logs here.

    It writes through ``tf.summary`` on every backend, so it needs TensorFlow and
    the tensorboard package (TensorFlow no longer installs it).
    """
    return all(importlib.util.find_spec(m) is not None for m in ("tensorflow", "tensorboard"))


def make_callbacks(
    config: CallbackConfig, has_validation: bool = True
) -> list[keras.callbacks.Callback]:
    """The Keras callbacks that ``config`` asks for.

    Args:
        config: Which callbacks to make.
        has_validation: Whether the run has validation data; without it the
            callbacks watch the training loss instead of ``val_loss``.

    Returns:
        A list of callbacks for `keras.Model.fit`.
    """
    monitor = "val_loss" if has_validation else "loss"
    callbacks: list[keras.callbacks.Callback] = []
    if config.early_stopping_patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor, patience=config.early_stopping_patience, restore_best_weights=True
            )
        )
    if config.checkpoint_path is not None:
        Path(config.checkpoint_path).parent.mkdir(parents=True, exist_ok=True)
        callbacks.append(
            keras.callbacks.ModelCheckpoint(
                str(config.checkpoint_path), monitor=monitor, save_best_only=True
            )
        )
    if config.backup_dir is not None:
        callbacks.append(keras.callbacks.BackupAndRestore(str(config.backup_dir)))
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
