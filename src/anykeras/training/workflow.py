"""The course's workflow, sequenced once: validate, pick the best epoch, retrain, test.

    result = run_workflow(spec, "functional", (x_train, y_train), (x_test, y_test))
    result.best_epoch          # the epoch with the lowest validation loss
    result.retrain_epochs      # how many epochs the final model trained
    result.test_metrics        # {"loss": ..., "accuracy": ...}

Everything else calls this one function: the recipes, the command line (``anykeras
train`` is `run_workflow` with ``out=``), the demo and the sweep. With ``out`` it
also writes the run folder (`anykeras.training.run_folder`): ``history.json``, the
curves, ``model.keras``, ``log.csv`` and ``metrics.json``, all at once, resumable with
``resume=True``. A faster way of feeding the data plugs in as ``route``
(`anykeras.training.route`); the course's way is the default.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from anykeras.saving import save_atomically, save_model, write_json_atomically
from anykeras.spec import ClassifierSpec, check_int
from anykeras.training.callbacks import CallbackConfig, EpochTimer
from anykeras.training.config import TrainConfig
from anykeras.training.route import PLAIN, Route
from anykeras.training.run_folder import RunFolder
from anykeras.training.steps import best_epoch, compile_for, evaluate, fit, k_fold, new_model
from anykeras.training.steps import retrain as retrain_model


@dataclasses.dataclass
class WorkflowResult:
    """What `run_workflow` produced; each field means one thing.

    Attributes:
        history: The validation run's ``History.history`` (per-epoch lists); for
            k-fold validation, the mean over the folds.
        best_epoch: The epoch (1-based) with the lowest validation loss.
        model: The course's dense model, retrained on all training data.
        test_metrics: `evaluate`'s dict for the test data.
        retrain_epochs: How many epochs the final model trained.
        route: The route the data took (`anykeras.training.route.Route.name`).
        epoch_seconds: Wall time of each validation epoch this process ran.
    """

    history: dict[str, list[float]]
    best_epoch: int
    model: keras.Model
    test_metrics: dict[str, float]
    retrain_epochs: int = 0
    route: str = "plain"
    epoch_seconds: list[float] = dataclasses.field(default_factory=list)

    def metrics(self) -> dict[str, Any]:
        """The numbers ``metrics.json`` holds: test metrics, epochs, parameters, route."""
        return {
            **{f"test_{name}": value for name, value in self.test_metrics.items()},
            "validation_epochs": len(self.history.get("loss", [])),
            "best_epoch": self.best_epoch,
            "retrain_epochs": self.retrain_epochs,
            "params": self.model.count_params(),
            "route": self.route,
        }


def run_workflow(
    spec: ClassifierSpec,
    style: str,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    config: TrainConfig | None = None,
    retrain_epochs: int | None = None,
    *,
    folds: int | None = None,
    route: Route = PLAIN,
    initial_weights: list[np.ndarray] | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
    resume: bool = False,
    info: dict[str, Any] | None = None,
) -> WorkflowResult:
    """The course's whole recipe: validate, pick the best epoch, retrain, evaluate.

    Args:
        spec: The model to build.
        style: One of `anykeras.STYLES`.
        train: ``(x_train, y_train)``; ``config.validation_size`` samples are held
            out from its start for the validation run.
        test: ``(x_test, y_test)``, used once, at the end.
        config: How to train; ``epochs`` is the length of the validation run.
        retrain_epochs: Epochs of the final run; by default the best epoch.
        folds: Validate with this many folds (the book's housing recipe) instead of
            a hold-out; the history is the mean over the folds.
        route: How the data goes in; the course's plain route by default.
        initial_weights: Start both runs from these weights instead of seeded ones.
        out: Write the run folder here (see the module); ``None`` writes nothing.
        overwrite: Replace a finished run in ``out``.
        resume: Back up each phase after every epoch and, if an earlier run of the
            same settings into ``out`` was interrupted, carry on from its backups: the
            result equals that of a run never interrupted.
        info: More entries for ``metrics.json`` (dataset, backend, ...), and the
            settings a resumed run must share.

    Returns:
        A `WorkflowResult`.

    Example:
    >>> spec = ClassifierSpec(input_shape=(4,), hidden=(3,))
    >>> x, y = np.ones((20, 4), "float32"), np.ones((20, 1), "float32")
    >>> result = run_workflow(spec, "functional", (x, y), (x, y), TrainConfig(
    ...     epochs=2, validation_size=5), retrain_epochs=1)
    >>> result.retrain_epochs, sorted(result.test_metrics)
    (1, ['accuracy', 'loss'])
    """
    config = config or TrainConfig()
    check_int("retrain_epochs", retrain_epochs, allow_none=True)
    if out is None:
        return _run(spec, style, train, test, config, retrain_epochs, folds, route,
                    initial_weights, None)  # fmt: skip
    settings = {"spec": spec.to_config(), "style": style, "route": route.name, **(info or {})}
    started = time.perf_counter()
    with RunFolder(out, overwrite=overwrite, resume=resume, settings=settings) as run:
        if resume:
            callbacks = dataclasses.replace(config.callbacks, backup_dir=run.backup)
            config = config.replace(callbacks=callbacks)
        config = _into_stage(config, run.stage)
        result = _run(spec, style, train, test, config, retrain_epochs, folds, route,
                      initial_weights, run.work if resume else None)  # fmt: skip
        seconds = round(time.perf_counter() - started, 2)
        write_results(result, run.stage, {**(info or {}), "seconds": seconds})
        run.publish()
    return result


def _run(
    spec: ClassifierSpec,
    style: str,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    config: TrainConfig,
    retrain_epochs: int | None,
    folds: int | None,
    route: Route,
    initial_weights: list[np.ndarray] | None,
    work: Path | None,
) -> WorkflowResult:
    route.check(spec, train[0])
    timer = EpochTimer()
    done = None if work is None else work / "validation.json"
    if done is not None and done.is_file():  # a resumed run: the validation run is over
        history = json.loads(done.read_text(encoding="utf-8"))
    else:
        history = validation_history(
            spec, style, train, config, folds, route, initial_weights, callbacks=[timer]
        )
        if done is not None:
            write_json_atomically(done, history)
    chosen = best_epoch(history)
    epochs = retrain_epochs or chosen
    final = config.replace(epochs=epochs)
    trained = retrain_model(spec, style, *train, final, initial_weights, route=route)
    model = route.deliver(trained, spec, style, lambda dense: compile_for(dense, spec, final))
    metrics = evaluate(model, route.inputs(test[0], training=False), test[1])
    return WorkflowResult(history, chosen, model, metrics, epochs, route.name, timer.seconds)


def validation_history(
    spec: ClassifierSpec,
    style: str,
    train: tuple[np.ndarray, np.ndarray],
    config: TrainConfig,
    folds: int | None = None,
    route: Route = PLAIN,
    initial_weights: list[np.ndarray] | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> dict[str, list[float]]:
    """The validation run's per-epoch curves: a hold-out run, or the mean over k folds.

    Example:
    >>> spec = ClassifierSpec(input_shape=(3,), hidden=(2,), task="regression")
    >>> x, y = np.ones((8, 3), "float32"), np.ones((8,), "float32")
    >>> curves = validation_history(spec, "sequential", (x, y), TrainConfig(
    ...     epochs=2, batch_size=2, validation_size=None), folds=2)
    >>> sorted(curves), len(curves["val_mae"])
    (['loss', 'mae', 'val_loss', 'val_mae'], 2)
    """
    if folds:
        if route is not PLAIN:
            raise ValueError(f"k-fold validation takes the plain route. Received: {route.name!r}")
        runs = k_fold(spec, style, *train, config, k=folds)
        return {key: np.mean([run[key] for run in runs], axis=0).tolist() for key in runs[0]}
    model = route.model(spec, style, new_model(spec, style, config.seed, initial_weights))
    run = fit(model, spec, *train, config, route=route, phase="validation", callbacks=callbacks)
    return run.history


def _into_stage(config: TrainConfig, stage: Path) -> TrainConfig:
    """The callbacks' files (checkpoint, logs) written into the stage, published with it."""
    asked = config.callbacks
    callbacks = CallbackConfig(
        early_stopping_patience=asked.early_stopping_patience,
        checkpoint_path=stage / "checkpoint" / "best.keras" if asked.checkpoint_path else None,
        backup_dir=asked.backup_dir,
        tensorboard_dir=stage / "tensorboard" if asked.tensorboard_dir else None,
        batch_loss_log=stage / "batch_losses.json" if asked.batch_loss_log else None,
    )
    return config.replace(callbacks=callbacks)


def write_results(result: WorkflowResult, folder: Path, info: dict[str, Any]) -> None:
    """Write a run's files into ``folder``; ``metrics.json`` last (it marks a finished run).

    The curves (``loss.png``, ...) are drawn where matplotlib is installed.
    """
    from anykeras.training.plots import plot_history, plotting_available

    write_json_atomically(folder / "history.json", result.history)
    _write_log(result.history, folder / "log.csv")
    if plotting_available():  # the curves need the ``plot`` extra; the rest does not
        plot_history(result.history, folder)
    save_model(result.model, folder / "model.keras")
    write_json_atomically(folder / "metrics.json", {**result.metrics(), **info})


def _write_log(history: dict[str, list[float]], path: Path) -> None:
    """The validation run's epochs as CSV, as Keras's `CSVLogger` writes them."""
    keys = sorted(history)
    rows = [",".join(["epoch", *keys])]
    for epoch in range(len(history.get("loss", []))):
        rows.append(",".join([str(epoch), *(repr(history[k][epoch]) for k in keys)]))
    save_atomically(path, lambda tmp: tmp.write_text("\n".join(rows) + "\n", encoding="utf-8"))
