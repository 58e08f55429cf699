"""anykeras: the course's Keras 3 classifier, written once, on any backend.

Names are imported lazily, so that ``import anykeras.cli`` does not import Keras:
the command line must set ``KERAS_BACKEND`` before Keras starts.

Example:
>>> from anykeras import ClassifierSpec, build, STYLES
>>> spec = ClassifierSpec(input_shape=(10000,), hidden=(16, 16), activation="relu")
>>> model = build(spec, style="functional")
>>> model.count_params()
160305
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "STYLES": "anykeras.builders",
    "Classifier": "anykeras.builders",
    "build": "anykeras.builders",
    "ConvSpec": "anykeras.builders",
    "ConvClassifier": "anykeras.builders",
    "SequenceSpec": "anykeras.builders",
    "SequenceClassifier": "anykeras.builders",
    "ClassifierSpec": "anykeras.spec",
    "MultiHot": "anykeras.layers",
    "SimpleDense": "anykeras.layers",
    "TrainConfig": "anykeras.training",
    "WorkflowResult": "anykeras.training",
    "compile_model": "anykeras.training",
    "fit": "anykeras.training",
    "best_epoch": "anykeras.training",
    "retrain": "anykeras.training",
    "evaluate": "anykeras.training",
    "run_workflow": "anykeras.training",
    "k_fold": "anykeras.training",
    "CallbackConfig": "anykeras.callbacks",
    "RootMeanSquaredError": "anykeras.metrics",
    "two_branch": "anykeras.builders.topologies",
    "multi_head": "anykeras.builders.topologies",
    "inception_classifier": "anykeras.builders.topologies",
    "data_parallel": "anykeras.distributed",
    "build_custom_step_model": "anykeras.loops",
    "train_from_scratch": "anykeras.loops",
    "DataNotFoundError": "anykeras.data",
    "UntrustedFileError": "anykeras.data",
    "Recipe": "anykeras.recipes",
    "get_recipe": "anykeras.recipes",
    "train_and_evaluate": "anykeras.recipes",
}

__all__ = [
    "STYLES",
    "CallbackConfig",
    "Classifier",
    "ClassifierSpec",
    "ConvClassifier",
    "ConvSpec",
    "DataNotFoundError",
    "MultiHot",
    "Recipe",
    "RootMeanSquaredError",
    "SequenceClassifier",
    "SequenceSpec",
    "SimpleDense",
    "TrainConfig",
    "UntrustedFileError",
    "WorkflowResult",
    "__version__",
    "best_epoch",
    "build",
    "build_custom_step_model",
    "compile_model",
    "data_parallel",
    "evaluate",
    "fit",
    "get_recipe",
    "inception_classifier",
    "k_fold",
    "multi_head",
    "retrain",
    "run_workflow",
    "train_and_evaluate",
    "train_from_scratch",
    "two_branch",
]

if TYPE_CHECKING:
    from anykeras.builders import (
        STYLES,
        Classifier,
        ConvClassifier,
        ConvSpec,
        SequenceClassifier,
        SequenceSpec,
        build,
    )
    from anykeras.builders.topologies import inception_classifier, multi_head, two_branch
    from anykeras.callbacks import CallbackConfig
    from anykeras.data import DataNotFoundError, UntrustedFileError
    from anykeras.distributed import data_parallel
    from anykeras.layers import MultiHot, SimpleDense
    from anykeras.loops import build_custom_step_model, train_from_scratch
    from anykeras.metrics import RootMeanSquaredError
    from anykeras.recipes import Recipe, get_recipe, train_and_evaluate
    from anykeras.spec import ClassifierSpec
    from anykeras.training import (
        TrainConfig,
        WorkflowResult,
        best_epoch,
        compile_model,
        evaluate,
        fit,
        k_fold,
        retrain,
        run_workflow,
    )


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'anykeras' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # import once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
