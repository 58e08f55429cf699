"""Name a function that builds a model, so that another process can call it too.

A backend is fixed for the life of a process, so a check that compares backends runs
the user's model-building function in several processes. It is named by a string:
``"package.module:function"`` (an importable module) or ``"path/to/file.py:function"``
(a file). `resolve` turns the string into the function; `import_roots` says which
folders a child process needs on its ``sys.path`` to do the same.

Example:
>>> resolve("anykeras.spec:check_int")("units", 3)
3
>>> describe(resolve("anykeras.spec:check_int"))
'anykeras.spec:check_int'
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import keras

__all__ = [
    "ModelBuildError",
    "ModelFnError",
    "build_model",
    "describe",
    "expect_model",
    "import_module",
    "import_roots",
    "resolve",
]

_SITE_DIRS = ("site-packages", "dist-packages")
_EXPECTED_FN = "expected a function returning a Keras model, or 'module:function'"


class ModelFnError(ValueError):
    """``model_fn`` names no function here: no such module or name, or not a function."""


class ModelBuildError(RuntimeError):
    """The function ``model_fn`` names failed, or returned what is not a Keras model."""


def expect_model(value: Any, what: str = "") -> keras.Model:
    """``value`` if it is a Keras model; else `TypeError` naming what it is.

    The kit's functions call this first, so a string or a function passed for a
    model says so instead of failing inside Keras.

    Example:
    >>> expect_model("model.keras", "model 0")
    Traceback (most recent call last):
    ...
    TypeError: expected a Keras model, received str (model 0)
    """
    if not _is_model(value):
        where = f" ({what})" if what else ""
        raise TypeError(f"expected a Keras model, received {type(value).__name__}{where}")
    return value


def build_model(model_fn: str | Callable[..., Any]) -> keras.Model:
    """Call the function ``model_fn`` names; its model, or `ModelBuildError` in one line.

    Example:
    >>> build_model("anykeras.testing.golden:_example_model").count_params()
    4
    >>> build_model("anykeras.spec:_nothing_here")
    Traceback (most recent call last):
    ...
    anykeras.testing.model_fn.ModelFnError: model_fn anykeras.spec:_nothing_here: \
anykeras.spec has no '_nothing_here'

    Raises:
        ModelFnError: ``model_fn`` names no function (`resolve`).
        ModelBuildError: The function raised, or returned what is not a Keras model.
    """
    function = resolve(model_fn)
    label = model_fn if isinstance(model_fn, str) else getattr(model_fn, "__qualname__", "")
    try:
        model = function()
    except Exception as error:
        raise ModelBuildError(f"{label} failed: {type(error).__name__}: {error}") from error
    if not _is_model(model):
        raise ModelBuildError(
            "expected a function returning a Keras model, received "
            f"{type(model).__name__} from {label}"
        )
    return model


def _split(model_fn: Any) -> tuple[str, str]:
    if not isinstance(model_fn, str):
        raise TypeError(f"{_EXPECTED_FN}, received {type(model_fn).__name__}")
    module, sep, name = model_fn.rpartition(":")
    if not sep or not module or not name or not all(p.isidentifier() for p in name.split(".")):
        raise ModelFnError(
            "model_fn must name a function as 'package.module:function' or "
            f"'path/to/file.py:function'. Received: model_fn={model_fn!r}"
        )
    return module, name


def _is_file(module: str) -> bool:
    return module.endswith(".py") or "/" in module or "\\" in module


def import_module(module: str) -> ModuleType:
    """Import ``module``: a dotted module name, or the path of a ``.py`` file.

    A file is imported once per process, under its stem (``models.py`` -> ``models``),
    so that classes it registers with Keras are registered once.
    """
    if not _is_file(module):
        return importlib.import_module(module)
    path = Path(module).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"model_fn names the file {module}, which does not exist")
    loaded = sys.modules.get(path.stem)
    if loaded is not None and Path(getattr(loaded, "__file__", "") or "").resolve() == path:
        return loaded
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path} as a Python module")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = loaded
    try:
        spec.loader.exec_module(loaded)
    except BaseException:
        del sys.modules[path.stem]
        raise
    return loaded


def resolve(model_fn: str | Callable[..., Any]) -> Callable[..., Any]:
    """The function ``model_fn`` names (a callable is returned as it is).

    Raises:
        ModelFnError: No such module, file or name, or the name is no function.
        ModelBuildError: The module raised as it was imported.
    """
    if callable(model_fn) and not _is_model(model_fn):
        return model_fn
    module, name = _split(model_fn)
    try:
        value: Any = import_module(module)
    except (ModuleNotFoundError, FileNotFoundError) as error:
        raise ModelFnError(f"model_fn {model_fn}: {error}") from None
    except Exception as error:  # the module itself fails as it is imported
        raise ModelBuildError(
            f"importing {module} for model_fn {model_fn} failed: {type(error).__name__}: {error}"
        ) from error
    for part in name.split("."):
        if not hasattr(value, part):
            raise ModelFnError(f"model_fn {model_fn}: {module} has no {part!r}")
        value = getattr(value, part)
    if not callable(value):
        raise ModelFnError(f"model_fn {model_fn} is a {type(value).__name__}, not a function")
    return value


def describe(model_fn: str | Callable[..., Any]) -> str:
    """``model_fn`` as a string another process can `resolve` (files made absolute)."""
    if isinstance(model_fn, str):
        module, name = _split(model_fn)
        return f"{Path(module).resolve()}:{name}" if _is_file(module) else model_fn
    if not callable(model_fn) or _is_model(model_fn):
        raise TypeError(f"{_EXPECTED_FN}, received {type(model_fn).__name__}")
    owner = getattr(model_fn, "__module__", None)
    name = getattr(model_fn, "__qualname__", "")
    if not owner or owner == "__main__" or "<" in name:
        raise ValueError(
            "model_fn must be importable by another process: pass 'module:function' or "
            f"'file.py:function', or a function defined at the top of a module. Received: {name}"
        )
    return f"{owner}:{name}"


def _is_model(value: Any) -> bool:
    """Whether ``value`` is a Keras model, without importing Keras.

    Whatever made a model imported Keras, so without Keras loaded nothing is one.
    """
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(value, keras.Model)


def import_roots(model_fn: str) -> list[str]:
    """Folders to put on a child process's ``sys.path`` so it can `resolve` ``model_fn``.

    The folder that holds the function's top-level package and anykeras's own, unless
    they are installed (a ``site-packages`` folder belongs to one environment only).
    """
    roots = [_root_of("anykeras")]
    module, _ = _split(model_fn)
    if not _is_file(module):
        roots.append(_root_of(module))
    return [r for r in dict.fromkeys(roots) if r and Path(r).name not in _SITE_DIRS]


def _root_of(module: str) -> str:
    top = module.split(".", maxsplit=1)[0]
    spec = importlib.util.find_spec(top)
    if spec is None:
        raise ModuleNotFoundError(f"no module named {top!r} here, so no process can import it")
    if spec.submodule_search_locations:  # a package: its parent folder
        return str(Path(next(iter(spec.submodule_search_locations))).parent)
    return str(Path(spec.origin).parent) if spec.origin else ""
