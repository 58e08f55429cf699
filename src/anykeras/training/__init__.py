"""Training: the course's workflow, and the steps it is made of.

Read in this order: `config` (`TrainConfig`), `steps` (compile, hold out, fit, best
epoch, retrain, evaluate, k-fold), `recipes` (the book's four problems), `run_config`
(`RunConfig`: one run, checked), `workflow` (`run`: the steps in the course's order,
and the run folder), `sweep` (the course's further experiments). `route` is the one
interface through which `anykeras.speed` plugs in faster ways of feeding data; nothing
here imports it.

Example:
>>> from anykeras.training import TrainConfig
>>> TrainConfig().epochs, TrainConfig().batch_size
(20, 512)
"""

from typing import TYPE_CHECKING

from anykeras import lazy_facade

if TYPE_CHECKING:
    from anykeras.training.batches import EpochOrder
    from anykeras.training.callbacks import CallbackConfig, DivergedError, EpochTimer
    from anykeras.training.config import TrainConfig
    from anykeras.training.recipes import Dataset, Recipe
    from anykeras.training.route import PLAIN, Route
    from anykeras.training.run_config import RunConfig
    from anykeras.training.run_folder import RunFolder, RunFolderError
    from anykeras.training.steps import (
        Phase,
        best_epoch,
        compile_for,
        compile_model,
        evaluate,
        fit,
        fit_phase,
        hold_out,
        k_fold,
        new_model,
        retrain,
    )
    from anykeras.training.workflow import Plan, WorkflowResult, run
    from anykeras.training.workflow_0_2 import run_workflow


# The names of the imports above, each listed once, imported on first use.
_EXPORTS, __getattr__, __dir__ = lazy_facade(__name__, __file__)
__all__ = sorted(_EXPORTS)
