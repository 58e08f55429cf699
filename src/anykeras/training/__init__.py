"""Training: the course's workflow, and the steps it is made of.

Read in this order: `config` (`TrainConfig`), `steps` (compile, hold out, fit, best
epoch, retrain, evaluate, k-fold), `workflow` (`run_workflow`: the steps in the
course's order, and the run folder), `recipes` (the book's four problems), `sweep`
(the course's further experiments). `route` is the one interface through which
`anykeras.speed` plugs in faster ways of feeding data; nothing here imports it.

Example:
>>> from anykeras.training import TrainConfig
>>> TrainConfig().epochs, TrainConfig().batch_size
(20, 512)
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from anykeras.training.batches import EpochOrder
    from anykeras.training.callbacks import CallbackConfig, DivergedError, EpochTimer
    from anykeras.training.config import TrainConfig
    from anykeras.training.route import PLAIN, Route
    from anykeras.training.run_folder import RunFolder, RunFolderError
    from anykeras.training.steps import (
        best_epoch,
        compile_for,
        compile_model,
        evaluate,
        fit,
        hold_out,
        k_fold,
        new_model,
        retrain,
    )
    from anykeras.training.workflow import WorkflowResult, run_workflow

# public name -> the module that defines it; imported on first use, so that
# `anykeras.training.plots` (which needs no Keras) can be imported without Keras.
_EXPORTS = {
    "EpochOrder": "anykeras.training.batches",
    "CallbackConfig": "anykeras.training.callbacks",
    "DivergedError": "anykeras.training.callbacks",
    "EpochTimer": "anykeras.training.callbacks",
    "TrainConfig": "anykeras.training.config",
    "PLAIN": "anykeras.training.route",
    "Route": "anykeras.training.route",
    "RunFolder": "anykeras.training.run_folder",
    "RunFolderError": "anykeras.training.run_folder",
    "best_epoch": "anykeras.training.steps",
    "compile_for": "anykeras.training.steps",
    "compile_model": "anykeras.training.steps",
    "evaluate": "anykeras.training.steps",
    "fit": "anykeras.training.steps",
    "hold_out": "anykeras.training.steps",
    "k_fold": "anykeras.training.steps",
    "new_model": "anykeras.training.steps",
    "retrain": "anykeras.training.steps",
    "WorkflowResult": "anykeras.training.workflow",
    "run_workflow": "anykeras.training.workflow",
}

__all__ = [
    "PLAIN",
    "CallbackConfig",
    "DivergedError",
    "EpochOrder",
    "EpochTimer",
    "Route",
    "RunFolder",
    "RunFolderError",
    "TrainConfig",
    "WorkflowResult",
    "best_epoch",
    "compile_for",
    "compile_model",
    "evaluate",
    "fit",
    "hold_out",
    "k_fold",
    "new_model",
    "retrain",
    "run_workflow",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'anykeras.training' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
