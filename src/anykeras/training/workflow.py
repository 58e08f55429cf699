"""The course's workflow, sequenced once: validate, pick the best epoch, retrain, test.

    result = run(RunConfig(recipe="imdb"), workdir="runs/imdb")
    result.best_epoch, result.retrain_epochs, result.test_metrics

`anykeras.train_and_evaluate` chooses the route and calls `run`. With a ``workdir`` it
writes the run folder (`anykeras.training.run_folder`): ``history.json``, the curves,
``model.keras``, ``log.csv`` and ``metrics.json``, all at once, and with
``RunConfig(backup=True)`` an interrupted run resumes. Any `Route` plugs in.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from anykeras.saving import save_atomically, save_model, write_json_atomically
from anykeras.spec import ClassifierSpec
from anykeras.training.callbacks import EpochTimer
from anykeras.training.config import TrainConfig
from anykeras.training.progress import LOG, SAMPLE_NOUNS, count, duration, phase
from anykeras.training.recipes import Dataset
from anykeras.training.route import PLAIN, Route
from anykeras.training.run_config import RunConfig
from anykeras.training.run_conflicts import RunConfigError, uneven_last_batch
from anykeras.training.run_folder import RunFolder
from anykeras.training.steps import (
    Phase,
    best_epoch,
    compile_model,
    evaluate,
    fit_phase,
    k_fold,
    new_model,
)
from anykeras.training.work_repair import read_history


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
        info: Where and how it ran (style, backend, device, seconds, ...), for
            ``metrics.json``.
    """

    history: dict[str, list[float]]
    best_epoch: int
    model: keras.Model
    test_metrics: dict[str, float]
    retrain_epochs: int = 0
    route: str = "plain"
    epoch_seconds: list[float] = dataclasses.field(default_factory=list)
    info: dict[str, Any] = dataclasses.field(default_factory=dict)

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


@dataclasses.dataclass(frozen=True)
class Plan:
    """What one workflow trains, resolved: the model, its settings, its route.

    `run` makes it from a `RunConfig` and a route; the steps below read it.
    """

    spec: ClassifierSpec
    style: str
    config: TrainConfig
    retrain_epochs: int | None = None
    folds: int | None = None
    route: Route = PLAIN
    initial_weights: list[np.ndarray] | None = None
    samples: str = "samples"  # what one sample is, for the progress lines: "reviews"

    @classmethod
    def of(
        cls,
        config: RunConfig,
        route: Route = PLAIN,
        folder: Path | None = None,
        backup: Path | None = None,
    ) -> Plan:
        """The plan of ``config`` on ``route``; the callbacks' files in ``folder``.

        Example:
        >>> Plan.of(RunConfig(recipe="housing")).folds
        4
        """
        retrain_epochs, folds = config.workflow_settings()
        train = config.train_config(folder, backup)
        noun = SAMPLE_NOUNS.get(config.recipe, "samples") if config.data is None else "samples"
        return cls(config.model_spec(), config.style, train, retrain_epochs, folds, route,
                   config.initial_weights, noun)  # fmt: skip

    def fresh_model(self) -> keras.Model:
        """The route's model, made from a freshly initialised model of the course."""
        model = new_model(self.spec, self.style, self.config.seed, self.initial_weights)
        return self.route.model(self.spec, self.style, model)


def run(
    config: RunConfig,
    route: Route = PLAIN,
    workdir: str | Path | None = None,
    notes: dict[str, Any] | None = None,
) -> WorkflowResult:
    """The course's whole recipe for ``config``: validate, pick the best epoch, retrain, test.

    `anykeras.train_and_evaluate` chooses the route and calls this; any `Route`
    plugs in here. The data (``config.data``, else the recipe's) is read only once the
    settings and the work folder have been checked.

    Args:
        config: The run.
        route: How the data goes in; the course's plain route by default.
        workdir: Write the run folder here (see the module); ``None`` writes nothing.
            With ``config.backup``, an interrupted run of the same settings into
            ``workdir`` carries on from its backups, to the result of a run never
            interrupted.
        notes: More entries for ``metrics.json`` (the route's reason, say).

    Returns:
        A `WorkflowResult`; its ``info`` is what ``metrics.json`` holds besides the
        metrics.

    Example:
    >>> x, y = np.ones((20, 4), "float32"), np.ones((20, 1), "float32")
    >>> result = run(RunConfig(spec=ClassifierSpec(input_shape=(4,), hidden=(3,)),
    ...     data=Dataset(x, y, x, y), epochs=2, validation_size=5, retrain_epochs=1))
    >>> result.retrain_epochs, sorted(result.test_metrics)
    (1, ['accuracy', 'loss'])
    """
    if workdir is None:
        _refuse_files_without_folder(config)
        return _run(Plan.of(config, route), _data(config), notes or {}, None)
    settings = {**config.resume_settings(), "route": route.name}
    with RunFolder(workdir, config.overwrite, config.backup, settings) as folder:
        backup = folder.backup if config.backup else None
        plan = Plan.of(config, route, folder.stage, backup)
        result = _run(plan, _data(config), notes or {}, folder.work if config.backup else None)
        write_run_files(result, folder.stage)
        folder.publish()
    files = ", ".join(sorted(path.name for path in Path(workdir).iterdir()))
    LOG.info("finished in %s; the run folder %s holds %s", duration(result.info["seconds"]),
             workdir, files)  # fmt: skip
    return result


def _refuse_files_without_folder(config: RunConfig) -> None:
    asked = [name for name in ("checkpoint", "tensorboard", "batch_losses", "backup")
             if getattr(config, name)]  # fmt: skip
    if asked:
        raise RunConfigError(
            f"{', '.join(asked)} write files into the run's folder; give a workdir. "
            "Received: workdir=None"
        )


def _data(config: RunConfig) -> Dataset:
    return config.data if config.data is not None else config.base_recipe().dataset()


def _run(plan: Plan, data: Any, notes: dict[str, Any], work: Path | None) -> WorkflowResult:
    started = time.perf_counter()
    plan.route.check(plan.spec, data.x_train)
    _check_last_batches(plan, len(data.y_train))
    timer = EpochTimer()
    done = None if work is None else work / "validation.json"
    history = None if done is None else read_history(done)  # None if absent or damaged
    if history is not None:  # a resumed run: the validation run is over
        LOG.info("validation run: finished before the interruption (%s)", done)
    else:
        history = validation_history(plan, data.train, callbacks=[timer])
        if done is not None:
            write_json_atomically(done, history)
    chosen = best_epoch(history)
    epochs = plan.retrain_epochs or chosen
    final = plan.config.replace(epochs=epochs)
    trained = plan.fresh_model()
    why = "as set" if plan.retrain_epochs else f"the best epoch of {len(history['loss'])}"
    samples = count(len(data.y_train), plan.samples)
    with phase("retraining", f"{epochs} epochs ({why}) on {samples}"):
        fit_phase(trained, plan.spec, data.train, final.for_retraining(),
                  Phase("retrain", plan.route))  # fmt: skip
    model = plan.route.deliver(trained, plan.spec, plan.style,
                               lambda dense: compile_model(dense, plan.spec, final))  # fmt: skip
    tested = time.perf_counter()
    metrics = evaluate(model, plan.route.inputs(data.x_test, training=False), data.y_test)
    scores = ", ".join(f"{name} {value:.4f}" for name, value in metrics.items())
    LOG.info("test: %s on %s (%s)", scores, count(len(data.y_test), plan.samples),
             duration(time.perf_counter() - tested))  # fmt: skip
    result = WorkflowResult(history, chosen, model, metrics, epochs, plan.route.name, timer.seconds)
    seconds = round(time.perf_counter() - started, 2)
    result.info = {**_describe(plan), **notes, "used": _used(plan, model, epochs),
                   "seconds": seconds}  # fmt: skip
    return result


def _used(plan: Plan, model: keras.Model, retrain_epochs: int) -> dict[str, Any]:
    """The settings the run trained with, each a typed value (the recipe's where not given)."""
    train = plan.config
    rate = keras.ops.convert_to_numpy(model.optimizer.learning_rate)
    return {"epochs": train.epochs, "retrain_epochs": retrain_epochs, "folds": plan.folds,
            "batch_size": train.batch_size, "optimizer": train.optimizer,
            "learning_rate": float(f"{float(rate):.7g}"), "loss": model.loss,
            "validation_size": None if plan.folds else train.validation_size,
            "seed": train.seed, "shuffle": train.shuffle}  # fmt: skip


def _describe(plan: Plan) -> dict[str, Any]:
    """Where and how the run trained, for ``metrics.json``."""
    from anykeras.training.devices import current_device

    return {"style": plan.style, "backend": keras.backend.backend(), "device": current_device()}


def validation_history(
    plan: Plan,
    train: tuple[np.ndarray, np.ndarray],
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> dict[str, list[float]]:
    """The validation run's per-epoch curves: a hold-out run, or the mean over k folds.

    Example:
    >>> spec = ClassifierSpec(input_shape=(3,), hidden=(2,), task="regression")
    >>> x, y = np.ones((8, 3), "float32"), np.ones((8,), "float32")
    >>> plan = Plan(spec, "sequential", TrainConfig(epochs=2, batch_size=2,
    ...     validation_size=None), folds=2)
    >>> curves = validation_history(plan, (x, y))
    >>> sorted(curves), len(curves["val_mae"])
    (['loss', 'mae', 'val_loss', 'val_mae'], 2)
    """
    n, epochs = len(train[1]), plan.config.epochs
    samples = count(n, plan.samples)
    if plan.folds:
        if plan.route is not PLAIN:
            raise ValueError(
                f"k-fold validation takes the plain route. Received: {plan.route.name!r}"
            )
        with phase("validation run", f"{plan.folds} folds of {samples}, {epochs} epochs each"):
            runs = k_fold(plan.spec, plan.style, *train, plan.config, k=plan.folds)
        return {key: np.mean([run[key] for run in runs], axis=0).tolist() for key in runs[0]}
    size = plan.config.validation_size
    held = 0 if size is None else _held_out(size, n)
    what = f"{epochs} epochs on {count(n - held, plan.samples)}, {held:,} held out to validate"
    with phase("validation run", what):
        fitted = fit_phase(plan.fresh_model(), plan.spec, train, plan.config,
                           Phase("validation", plan.route, callbacks=tuple(callbacks)))  # fmt: skip
    return fitted.history


def _check_last_batches(plan: Plan, n: int) -> None:
    """Raise `RunConfigError` before training if a phase's last batch cannot split over replicas.

    The sizes are known only once the data is read; every other setting was checked before.
    """
    replicas = getattr(plan.route, "replicas", 1)
    if replicas == 1 or plan.folds:
        return
    held = 0 if plan.config.validation_size is None else _held_out(plan.config.validation_size, n)
    sizes = {"training samples": n - held, "held-out samples": held, "samples to retrain on": n}
    layout = "devices" if getattr(plan.route, "devices", 1) > 1 else "processes"
    problem = uneven_last_batch(sizes, plan.config.batch_size, replicas, layout)
    if problem:
        raise RunConfigError(problem)


def _held_out(size: int | float, n: int) -> int:
    """How many of ``n`` samples a ``validation_size`` holds out (a count or a fraction)."""
    return size if isinstance(size, int) else round(size * n)


def write_run_files(result: WorkflowResult, folder: Path) -> None:
    """Write a run's files into ``folder``; ``metrics.json`` last (it marks a finished run).

    The curves (``loss.png``, ...) are drawn where matplotlib is installed.
    """
    from anykeras.training.plots import plot_history, plotting_available

    write_json_atomically(folder / "history.json", result.history)
    _write_log(result.history, folder / "log.csv")
    if plotting_available():  # the curves need the ``plot`` extra; the rest does not
        plot_history(result.history, folder)
    save_model(result.model, folder / "model.keras")
    write_json_atomically(folder / "metrics.json", {**result.metrics(), **result.info})


def _write_log(history: dict[str, list[float]], path: Path) -> None:
    """The validation run's epochs as CSV, as Keras's `CSVLogger` writes them."""
    keys = sorted(history)
    rows = [",".join(["epoch", *keys])]
    for epoch in range(len(history.get("loss", []))):
        rows.append(",".join([str(epoch), *(repr(history[k][epoch]) for k in keys)]))
    save_atomically(path, lambda tmp: tmp.write_text("\n".join(rows) + "\n", encoding="utf-8"))


#: 0.2's calls, now in `anykeras.training.workflow_0_2`: still importable from here.
_MOVED = ("run_workflow", "train_recipe", "recipe_validation_history")


def __getattr__(name: str) -> Any:
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from anykeras.training import workflow_0_2

    return getattr(workflow_0_2, name)
