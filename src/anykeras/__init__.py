"""anykeras: the course's Keras 3 classifier, written once, on any backend.

Names are imported lazily, so that ``import anykeras.cli`` does not import Keras:
the command line must set ``KERAS_BACKEND`` before Keras starts. Yet after a plain
``import anykeras``, in either order with ``import keras``, `keras.saving.load_model`
finds every class anykeras registers (see the end of this file).

Example:
>>> from anykeras import ClassifierSpec, build, STYLES
>>> spec = ClassifierSpec(input_shape=(10000,), hidden=(16, 16), activation="relu")
>>> model = build(spec, style="functional")
>>> model.count_params()
160305
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

__version__ = "0.3.0.dev0"

# The public names, listed once: type checkers read these imports, and at run time
# `lazy_exports` reads them from this file, so that each is imported on first use.
if TYPE_CHECKING:
    from anykeras.builders import Classifier, ConvClassifier, SequenceClassifier, build
    from anykeras.builders.sparse import build_sparse
    from anykeras.builders.topologies import inception_classifier, multi_head, two_branch
    from anykeras.data import DataFileError, DataNotFoundError, UntrustedFileError
    from anykeras.layers import MultiHot, SimpleDense, SparseDense
    from anykeras.loops import build_custom_step_model, train_from_scratch
    from anykeras.loops.distributed import data_parallel
    from anykeras.metrics import RootMeanSquaredError
    from anykeras.run import train_and_evaluate
    from anykeras.saving import load_model, save_model
    from anykeras.spec import (
        BACKENDS,
        DATASETS,
        ROUTES,
        STYLES,
        ClassifierSpec,
        ConvSpec,
        SequenceSpec,
    )
    from anykeras.speed import choose_route, get_route
    from anykeras.training.batches import EpochOrder
    from anykeras.training.callbacks import CallbackConfig, DivergedError
    from anykeras.training.config import TrainConfig
    from anykeras.training.recipes import Dataset, Recipe, get_recipe
    from anykeras.training.run_config import RunConfig
    from anykeras.training.steps import best_epoch, compile_model, evaluate, fit, k_fold, retrain
    from anykeras.training.workflow import WorkflowResult
    from anykeras.training.workflow_0_2 import run_workflow


def lazy_exports(path: str) -> dict[str, str]:
    """``{name: module}`` of the ``if TYPE_CHECKING:`` imports of the facade at ``path``.

    A facade (``anykeras``, ``anykeras.training``, ``anykeras.testing``) lists each
    public name once, as such an import; its ``__getattr__`` imports them from there.

    Example:
    >>> lazy_exports(__file__)["build"]
    'anykeras.builders'
    """
    import ast
    from pathlib import Path

    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    guarded = (n for n in tree.body if isinstance(n, ast.If))
    blocks = [n.body for n in guarded if getattr(n.test, "id", "") == "TYPE_CHECKING"]
    return {
        alias.asname or alias.name: str(node.module)
        for node in (statement for block in blocks for statement in block)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def lazy_facade(name: str, path: str) -> tuple[dict[str, str], Any, Any]:
    """``(exports, __getattr__, __dir__)`` for the facade module ``name`` at ``path``.

    ``__getattr__`` imports a public name (`lazy_exports`) on first use and keeps it.
    """
    exports = lazy_exports(path)

    def getattr_(attr: str) -> Any:
        if attr not in exports:
            raise AttributeError(f"module {name!r} has no attribute {attr!r}")
        value = getattr(importlib.import_module(exports[attr]), attr)
        setattr(sys.modules[name], attr, value)  # import once
        return value

    def dir_() -> list[str]:
        return sorted(set(vars(sys.modules[name])) | set(exports))

    return exports, getattr_, dir_


_EXPORTS, __getattr__, __dir__ = lazy_facade(__name__, __file__)
__all__ = ["__version__", *sorted(_EXPORTS)]


# --- Registration with Keras ---------------------------------------------------------
# `keras.saving.load_model` finds a custom class only if the module that decorates it
# with `keras.saving.register_keras_serializable` has been imported. These are those
# modules; importing them imports Keras and nothing heavier.
_REGISTERING_MODULES = ("anykeras.layers", "anykeras.metrics", "anykeras.builders")


def _register_with_keras() -> None:
    """Import `_REGISTERING_MODULES`, so their classes are registered with Keras."""
    for name in _REGISTERING_MODULES:
        importlib.import_module(name)


class _AfterImport:
    """A one-shot import hook: call ``then()`` once module ``name`` has been imported.

    It sits first in `sys.meta_path` and answers only for ``name``: it asks the other
    finders for the real spec and wraps its loader, so that right after the module's
    code has run (the module complete, before the ``import`` statement returns) the
    hook gives the module its own loader back, leaves `sys.meta_path`, and calls
    ``then()``. A lookup that does not load (`importlib.util.find_spec`) changes
    nothing. A failing ``then()`` is a warning: the import itself still succeeds.
    """

    def __init__(self, name: str, then: Callable[[], None]) -> None:
        self.name = name
        self.then = then

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        """The spec the other finders give for ``name``, its loader wrapped; else None."""
        if name != self.name:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue  # skipping itself is what keeps the hook from recursing
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _ThenLoader(spec.loader, self)  # type: ignore[assignment]
                return spec
        return None

    def done(self, module: Any, loader: Any) -> None:
        """Restore ``module``'s own loader, remove the hook, then call ``then()``."""
        module.__loader__ = module.__spec__.loader = loader
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        try:
            self.then()
        except Exception as error:  # never break the user's `import`
            warnings.warn(
                f"anykeras could not register its classes with {self.name}: {error!r}",
                RuntimeWarning,
                stacklevel=2,
            )


class _ThenLoader:
    """The real loader, with `_AfterImport.done` run after the module's code."""

    def __init__(self, loader: Any, hook: _AfterImport) -> None:
        self.loader = loader
        self.hook = hook

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self.loader.exec_module(module)
        self.hook.done(module, self.loader)

    def __getattr__(self, name: str) -> Any:
        loader = self.__dict__.get("loader")  # everything else: the real loader's
        if loader is None:
            raise AttributeError(name)
        return getattr(loader, name)


# --- Modules that moved --------------------------------------------------------------
# Imports of the 0.1 layout, and of the modules 0.3 renamed, keep working, with a
# DeprecationWarning that names the new home: old name -> the modules whose names it
# offers, looked up in order.
_MOVED = {
    "anykeras.callbacks": ("anykeras.training.callbacks",),
    "anykeras.ctc": ("anykeras.builders.ctc",),
    "anykeras.devices": ("anykeras.training.devices",),
    "anykeras.distributed": ("anykeras.loops.distributed",),
    "anykeras.experiments": ("anykeras.training.sweep",),
    "anykeras.files": ("anykeras.saving",),
    "anykeras.packed": ("anykeras.speed.packed",),
    "anykeras.plotting": ("anykeras.training.plots",),
    "anykeras.recipes": ("anykeras.training.recipes",),
    "anykeras.report": ("anykeras.demo.report",),
    "anykeras.sparse": ("anykeras.layers", "anykeras.builders.sparse", "anykeras.data.encoding"),
    # 0.3: one module name per idea (training/steps.py and demo/report.py keep theirs)
    "anykeras.testing.report": ("anykeras.testing.portability_report",),
    "anykeras.testing.steps": ("anykeras.testing.optimizer_steps",),
}


class _MovedModules:
    """A finder that answers an old module name with a module forwarding to the new ones."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in _MOVED:
            return None
        return importlib.util.spec_from_loader(name, self)  # type: ignore[arg-type]

    def create_module(self, spec: Any) -> Any:
        return None  # the default module object

    def get_code(self, name: str) -> Any:
        """For ``python -m <old name>``: run the new module as ``__main__``."""
        home = _MOVED[name][0]
        warnings.warn(f"{name} moved to {home}; run python -m {home}", DeprecationWarning, 2)
        return compile(
            f"import runpy; runpy.run_module({home!r}, run_name='__main__')", name, "exec"
        )

    def exec_module(self, module: Any) -> None:
        homes = [importlib.import_module(home) for home in _MOVED[module.__name__]]
        warnings.warn(
            f"{module.__name__} moved to {' and '.join(h.__name__ for h in homes)}; "
            "import from there",
            DeprecationWarning,
            stacklevel=2,
        )

        def forward(attribute: str) -> Any:
            for home in homes:
                if hasattr(home, attribute):
                    return getattr(home, attribute)
            raise AttributeError(f"module {module.__name__!r} has no attribute {attribute!r}")

        module.__getattr__ = forward


sys.meta_path.append(_MovedModules())

if "keras" in sys.modules:
    _register_with_keras()
else:
    sys.meta_path.insert(0, _AfterImport("keras", then=_register_with_keras))
