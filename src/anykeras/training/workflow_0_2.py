"""0.2's workflow calls, kept working with a `DeprecationWarning` each.

Each builds the `anykeras.RunConfig` of its loose values and runs it through
`anykeras.training.workflow.run`, so a 0.2 call gives exactly the 0.3 result:

    train_and_evaluate(RunConfig(recipe="imdb", style="functional"), "runs/imdb")
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from anykeras.spec import ClassifierSpec
from anykeras.training.config import TrainConfig
from anykeras.training.recipes import Dataset, Recipe
from anykeras.training.route import PLAIN, Route
from anykeras.training.run_config import RunConfig
from anykeras.training.workflow import Plan, WorkflowResult, run, validation_history


def run_workflow(
    spec: ClassifierSpec,
    style: str,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    config: TrainConfig | None = None,
    **options: Any,
) -> WorkflowResult:
    """0.2's workflow call; use `anykeras.train_and_evaluate` with a `RunConfig`.

    ``options`` are 0.2's keywords (``retrain_epochs``, ``folds``, ``route``,
    ``initial_weights``, ``out``, ``overwrite``, ``resume``, ``info``).
    """
    warnings.warn(
        "run_workflow(spec, style, train, test, config, ...) is deprecated: build an "
        "anykeras.RunConfig(spec=..., data=Dataset(...), ...) and call "
        "anykeras.train_and_evaluate(config, workdir)",
        DeprecationWarning,
        stacklevel=2,
    )
    config = config or TrainConfig()
    route = options.pop("route", PLAIN)
    out, info = options.pop("out", None), options.pop("info", None) or {}
    retrain_epochs, folds = options.pop("retrain_epochs", None), options.pop("folds", None)
    run_config = _from_0_2(spec, style, Dataset(*train, *test), config, options)
    run_config = run_config.replace(retrain_epochs=retrain_epochs, folds=folds)
    return run(run_config, route, out, info)


def _from_0_2(
    spec: ClassifierSpec,
    style: str,
    data: Dataset,
    config: TrainConfig,
    options: dict[str, Any],
) -> RunConfig:
    """The `RunConfig` of 0.2's loose values (``options``: its remaining keywords)."""
    run_config = RunConfig(
        spec=spec, style=style, data=data, training=config, seed=config.seed,
        shuffle=config.shuffle, verbose=config.verbose,
        initial_weights=options.pop("initial_weights", None),
        overwrite=options.pop("overwrite", False), backup=options.pop("resume", False),
    )  # fmt: skip
    if options:
        raise TypeError(f"0.2's workflow call got unknown keywords. Received: {sorted(options)}")
    return run_config


def recipe_validation_history(
    recipe: Recipe, style: str, data: Dataset, route: Route = PLAIN
) -> dict[str, list[float]]:
    """The recipe's validation curves; 0.2's ``recipes.validation_history``, deprecated."""
    warnings.warn(
        "anykeras.training.recipes.validation_history is deprecated: use "
        "anykeras.training.workflow.validation_history(Plan(...), data.train)",
        DeprecationWarning,
        stacklevel=2,
    )
    plan = Plan(recipe.spec, style, recipe.config, recipe.retrain_epochs, recipe.folds, route)
    return validation_history(plan, data.train)


def train_recipe(
    recipe: Recipe,
    style: str = "functional",
    data: Dataset | None = None,
    route: Route = PLAIN,
    **workflow: Any,
) -> WorkflowResult:
    """0.2's call for a recipe; use `anykeras.train_and_evaluate` with a `RunConfig`.

    ``workflow`` takes 0.2's keywords (``out``, ``resume``, ``overwrite``,
    ``initial_weights``, ``info``).
    """
    warnings.warn(
        "anykeras.training.recipes.train_and_evaluate(recipe, ...) is deprecated: use "
        "anykeras.train_and_evaluate(anykeras.RunConfig(recipe=name, ...), workdir)",
        DeprecationWarning,
        stacklevel=2,
    )
    data = data if data is not None else recipe.dataset()
    out, info = workflow.pop("out", None), workflow.pop("info", None)
    run_config = _from_0_2(recipe.spec, style, data, recipe.config, workflow)
    run_config = run_config.replace(retrain_epochs=recipe.retrain_epochs, folds=recipe.folds)
    return run(run_config, route, out, info)
