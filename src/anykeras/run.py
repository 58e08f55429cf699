"""`train_and_evaluate(config, workdir)`: one `RunConfig`, run by the one workflow.

The one library entry: ``anykeras train``, ``anykeras sweep``, the demo and your code
call it. It picks the run's route (`anykeras.speed` on one device, data-parallel
replicas with ``devices`` or ``processes``), checks the work folder, and only then
reads the data and trains (`anykeras.training.workflow.run`).

Example:
>>> from anykeras import RunConfig, train_and_evaluate
>>> result = train_and_evaluate(RunConfig(recipe="housing", quick=True, epochs=2, folds=2))
>>> sorted(result.test_metrics)
['loss', 'mae']
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import keras

from anykeras.training.callbacks import tensorboard_available
from anykeras.training.recipes import Recipe
from anykeras.training.route import Route
from anykeras.training.run_config import RunConfig
from anykeras.training.run_conflicts import RunConfigError
from anykeras.training.run_folder import check_writable_folder
from anykeras.training.workflow import WorkflowResult, run

#: Says what each run trains, where, and by which route (at INFO; the command line shows it).
LOG = logging.getLogger("anykeras")


def train_and_evaluate(
    config: RunConfig, workdir: str | Path | None = None, **legacy: Any
) -> WorkflowResult:
    """Run ``config``: validate, pick the best epoch, retrain on all the data, test.

    Args:
        config: The run (`anykeras.RunConfig`).
        workdir: Write the run folder here: ``metrics.json``, ``history.json``,
            ``log.csv``, ``model.keras``, the curves, and what the callbacks write;
            all at once, when the run has finished. ``None`` writes nothing.
        **legacy: 0.2's keywords, for 0.2's call with a `Recipe` (deprecated).

    Returns:
        A `WorkflowResult`: the history, the best epoch, the model retrained on all
        training data, its test metrics, and ``info`` (route, backend, device, ...).

    Raises:
        RunConfigError: One line, before any data is read: settings this backend or
            this environment cannot run.
        RunFolderError: ``workdir`` cannot hold the run (checked before the data too).
    """
    if isinstance(config, Recipe):  # 0.2: train_and_evaluate(recipe, style, data, route)
        warnings.warn(
            "train_and_evaluate(recipe, style, ...) is deprecated: use "
            "train_and_evaluate(RunConfig(recipe=name, style=style, ...), workdir)",
            DeprecationWarning,
            stacklevel=2,
        )
        from anykeras.training.workflow_0_2 import train_recipe

        style = () if workdir is None else (workdir,)
        return train_recipe(config, *style, **legacy)
    if legacy:
        raise TypeError(f"train_and_evaluate() takes a RunConfig. Received: {sorted(legacy)}")
    if not isinstance(config, RunConfig):
        raise TypeError(f"config must be an anykeras.RunConfig. Received: {type(config).__name__}")
    route, reason = choose_run_route(config)
    if workdir is not None:
        check_writable_folder(Path(workdir), config.overwrite)  # before saying what runs
    LOG.info("%s", describe(config, route, reason))
    notes = {"dataset": config.recipe if config.data is None else "your data",
             "synthetic": config.quick and config.data is None, "route_reason": reason,
             "settings": config.to_dict()}  # fmt: skip
    return run(config, route, workdir, notes)


def choose_run_route(config: RunConfig) -> tuple[Route, str]:
    """The route ``config`` takes on this backend, and why (checked, no data read).

    Example:
    >>> route, reason = choose_run_route(RunConfig(recipe="mnist"))
    >>> route.name
    'plain'
    """
    from anykeras.loops.launcher_env import refuse_under_launcher

    try:
        refuse_under_launcher()  # one of a cluster launcher's processes: not alone, not nested
        return _route_of(config)
    except ValueError as error:  # what this backend, this machine or its launcher cannot run
        raise RunConfigError(str(error)) from None


def _route_of(config: RunConfig) -> tuple[Route, str]:
    if isinstance(config.route, Route):
        return config.route, "given"
    if config.replicas > 1:
        from anykeras.loops.distributed import check_engine
        from anykeras.loops.distributed_route import DataParallelRoute

        engine = check_engine(keras.backend.backend(), config.devices, config.processes)
        route = DataParallelRoute(devices=config.devices, processes=config.processes)
        return route, f"data-parallel on {route.replicas} replicas: {engine}"
    if config.tensorboard and not tensorboard_available():
        raise ValueError("tensorboard needs the tensorboard package: pip install tensorboard")
    from anykeras.speed import choose_route, get_route

    if config.data is not None and config.route != "auto":  # its rows are checked when read
        return get_route(config.route), "asked for"
    multi_hot = config.base_recipe().multi_hot and config.data is None
    return choose_route(multi_hot, config.route, checkpoint=config.checkpoint)


def describe(config: RunConfig, route: Route, reason: str) -> str:
    """One line: what will train, where, and which route it takes."""
    from anykeras.training.devices import current_device

    data = "your data" if config.data is not None else config.recipe
    kind = "synthetic" if config.quick and config.data is None else "real"
    return (
        f"{data} ({kind} data), {config.style} model, {keras.backend.backend()} backend on "
        f"{current_device()}, {route.name} route ({reason})"
    )
