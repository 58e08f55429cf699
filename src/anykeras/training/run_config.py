"""`RunConfig`: everything one run is, validated once, before any data is read.

A run is a recipe (or your own spec and arrays), a style, a route, the replicas, the
callbacks and the training settings. `RunConfig` holds them all, checks every field
and every conflict between fields at construction (one table,
`anykeras.training.run_conflicts.CONFLICTS`), and goes
to and from JSON with its real values: that JSON is what a resumed run compares.
`anykeras.train_and_evaluate` runs it; ``anykeras train`` only maps its options to
these fields.

Example:
>>> config = RunConfig(recipe="imdb", quick=True, epochs=2)
>>> RunConfig.from_json(config.to_json()) == config
True
>>> RunConfig(processes=2, checkpoint=True)
Traceback (most recent call last):
...
anykeras.training.run_conflicts.RunConfigError: data-parallel training runs in worker processes, \
where checkpoint cannot run; \
drop it, or train on one device. Received: processes=2, checkpoint=True
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anykeras.spec import DATASETS, ROUTES, STYLES, ClassifierSpec, check_choice, check_int
from anykeras.training.callbacks import CallbackConfig
from anykeras.training.config import VERBOSITY, TrainConfig, check_validation_size
from anykeras.training.recipes import Dataset, Recipe, get_recipe, quick
from anykeras.training.route import Route
from anykeras.training.run_conflicts import CONFLICTS, RunConfigError, non_numeric_arrays

if TYPE_CHECKING:
    import numpy as np


_ARRAYS = ("x_train", "y_train", "x_test", "y_test")

#: Not part of what a run computes: a resumed run may change them.
NOT_COMPARED_ON_RESUME = ("overwrite", "backup", "verbose")


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """One run of the course's workflow: what to train, how, and with what.

    Every ``None`` means "the recipe's value" (the recipe's epochs, batch size, ...).

    Args:
        recipe: One of `anykeras.DATASETS`: the data and the default settings.
        quick: The recipe's quick settings (at most 8 epochs, a quarter held out) and,
            unless ``data`` is given, small synthetic data in the recipe's format.
        spec: Your model instead of the recipe's (same input shape, unless ``data``).
        data: Your arrays (an `anykeras.training.recipes.Dataset`) instead of the
            recipe's; not written to JSON.
        training: A whole `TrainConfig` instead of the recipe's (its optimizer, say);
            the fields below still change it. Its callbacks are this config's.
        style: One of `anykeras.STYLES`.
        route: ``"auto"``, one of `anykeras.ROUTES`, or a `Route` instance.
        devices: Data-parallel on this many devices of one worker process.
        processes: Data-parallel in this many worker processes, one device each.
        epochs: Epochs of the validation run.
        retrain_epochs: Epochs of the final run; the recipe's (by default the
            epoch with the lowest validation loss).
        batch_size: Samples per gradient step.
        learning_rate: The optimizer's learning rate.
        loss: Another loss than the task's (``"mse"``, one of the course's experiments).
        validation_size: Samples (or a fraction) held out for validation.
        folds: K-fold validation with this many folds.
        seed: Weights and sample order; ``None`` for fresh ones each run.
        shuffle: Shuffle the training samples every epoch.
        early_stopping: Stop after this many epochs without a better validation loss.
        checkpoint: Keep the model of the best epoch (``checkpoint/best.keras``).
        tensorboard: Write TensorBoard logs (``tensorboard/``).
        batch_losses: Record every batch's loss (``batch_losses.json``).
        backup: Back up every epoch; the same run started again resumes exactly.
        overwrite: Replace a finished run in the work folder.
        verbose: Keras's progress output: 0, 1 or 2.
        initial_weights: Start every model from these weights; not written to JSON.
    """

    recipe: str = "imdb"
    quick: bool = False
    spec: ClassifierSpec | None = None
    data: Dataset | None = dataclasses.field(default=None, compare=False, repr=False)
    training: TrainConfig | None = None
    style: str = "functional"
    route: str | Route = "auto"
    devices: int = 1
    processes: int = 1
    epochs: int | None = None
    retrain_epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    loss: str | None = None
    validation_size: int | float | None = None
    folds: int | None = None
    seed: int | None = 0
    shuffle: bool = True
    early_stopping: int | None = None
    checkpoint: bool = False
    tensorboard: bool = False
    batch_losses: bool = False
    backup: bool = False
    overwrite: bool = False
    verbose: int = 0
    initial_weights: list[np.ndarray] | None = dataclasses.field(
        default=None, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        check_choice("recipe", self.recipe, DATASETS)
        check_choice("style", self.style, STYLES)
        if not isinstance(self.route, Route):
            check_choice("route", self.route, ("auto", *ROUTES))
        if self.training is not None and not isinstance(self.training, TrainConfig):
            raise TypeError(
                "training must be a TrainConfig. "
                f"Received: training of type {type(self.training).__name__}"
            )
        if self.spec is not None and not isinstance(self.spec, ClassifierSpec):
            raise TypeError(
                f"spec must be a ClassifierSpec. Received: spec of type {type(self.spec).__name__}"
            )
        if self.data is not None and not isinstance(self.data, Dataset):
            raise TypeError(
                "data must be a Dataset (x_train, y_train, x_test, y_test). "
                f"Received: data of type {type(self.data).__name__}"
            )
        self._check_arrays()
        for name in ("devices", "processes"):
            check_int(name, getattr(self, name))
        for name in ("epochs", "retrain_epochs", "batch_size"):
            check_int(name, getattr(self, name), allow_none=True)
        check_int("folds", self.folds, minimum=2, allow_none=True)
        check_int("early_stopping", self.early_stopping, minimum=0, allow_none=True)
        for name in (
            "quick",
            "shuffle",
            "checkpoint",
            "tensorboard",
            "batch_losses",
            "backup",
            "overwrite",
        ):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(
                    f"{name} must be True or False. Received: {name}={getattr(self, name)!r}"
                )
        if self.verbose not in VERBOSITY or isinstance(self.verbose, bool):
            raise ValueError(f"verbose must be 0, 1 or 2. Received: verbose={self.verbose!r}")
        check_validation_size(self.validation_size)
        # The training settings check their own values (seed, learning rate, loss, ...).
        self.train_config()
        for applies, message in CONFLICTS:
            if applies(self):
                raise RunConfigError(message(self))

    def _check_arrays(self) -> None:
        """Arrays that cannot be trained are refused here, not in a worker or the first step."""
        if self.data is None:
            return
        arrays = {f.name: getattr(self.data, f.name) for f in dataclasses.fields(self.data)}
        problem = non_numeric_arrays(arrays)
        if problem:
            raise ValueError(problem)

    @property
    def replicas(self) -> int:
        """Replicas that share each global batch (``devices`` x ``processes``)."""
        return self.devices * self.processes

    @property
    def route_name(self) -> str:
        """The route's name (``"auto"`` until a route is chosen)."""
        return self.route.name if isinstance(self.route, Route) else self.route

    def base_recipe(self) -> Recipe:
        """The recipe as the book gives it (small and synthetic with ``quick``)."""
        recipe = get_recipe(self.recipe)
        return quick(recipe) if self.quick else recipe

    def model_spec(self) -> ClassifierSpec:
        """The model to train: ``spec``, or the recipe's."""
        return self.spec if self.spec is not None else self.base_recipe().spec

    def train_config(self, folder: Path | None = None, backup: Path | None = None) -> TrainConfig:
        """The recipe's `TrainConfig` with this run's settings.

        Args:
            folder: Where the callbacks' files go (a run folder's stage); without
                it, a run asks for no callback that writes a file.
            backup: The backup folder, for a run that resumes.
        """
        recipe = self.base_recipe()
        changes = {
            name: getattr(self, name)
            for name in ("epochs", "batch_size", "learning_rate", "loss", "validation_size")
            if getattr(self, name) is not None
        }
        if self.folds is not None or recipe.folds is not None:
            changes["validation_size"] = None  # the folds are the validation
        base = self.training if self.training is not None else recipe.config
        return base.replace(
            **changes,
            seed=self.seed,
            shuffle=self.shuffle,
            verbose=self.verbose,
            callbacks=self.callbacks(folder, backup),
        )

    def callbacks(self, folder: Path | None, backup: Path | None = None) -> CallbackConfig:
        """The callbacks this run asks for, their files in ``folder``."""

        def inside(wanted: bool, name: str) -> Path | None:
            return folder / name if wanted and folder is not None else None

        return CallbackConfig(
            early_stopping_patience=self.early_stopping,
            checkpoint_path=inside(self.checkpoint, "checkpoint/best.keras"),
            backup_dir=backup,
            tensorboard_dir=inside(self.tensorboard, "tensorboard"),
            batch_loss_log=inside(self.batch_losses, "batch_losses.json"),
        )

    def workflow_settings(self) -> tuple[int | None, int | None]:
        """``(retrain_epochs, folds)``, this run's or else the recipe's."""
        recipe = self.base_recipe()
        retrain = self.retrain_epochs if self.retrain_epochs is not None else recipe.retrain_epochs
        return retrain, self.folds if self.folds is not None else recipe.folds

    def replace(self, **changes: Any) -> RunConfig:
        """Return a copy with some fields changed (and validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON values (``data`` and ``initial_weights`` left out)."""
        values = {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if field.name not in ("data", "initial_weights")
        }
        values["spec"] = None if self.spec is None else self.spec.to_config()
        if self.training is not None:  # its callbacks are this config's fields
            training = dataclasses.asdict(self.training)
            training.pop("callbacks")
            values["training"] = training
        values["route"] = self.route_name
        return values

    def to_json(self) -> str:
        """`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict[str, Any], **arrays: Any) -> RunConfig:
        """The config `to_dict` wrote; ``data=`` and ``initial_weights=`` give the arrays."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown RunConfig fields. Received: {unknown}")
        values = dict(values)
        if values.get("spec") is not None:
            values["spec"] = ClassifierSpec.from_config(values["spec"])
        if values.get("training") is not None:
            values["training"] = TrainConfig(**values["training"])
        return cls(**values, **arrays)

    @classmethod
    def from_json(cls, text: str, **arrays: Any) -> RunConfig:
        """`from_dict` of JSON text."""
        return cls.from_dict(json.loads(text), **arrays)

    def resume_settings(self) -> dict[str, Any]:
        """What an interrupted run must share with the one that resumes it."""
        values = self.to_dict()
        for name in NOT_COMPARED_ON_RESUME:
            values.pop(name)
        if self.data is not None:  # your arrays: their sizes, at least, must match
            values["data"] = {name: list(getattr(self.data, name).shape) for name in _ARRAYS}
        return values
