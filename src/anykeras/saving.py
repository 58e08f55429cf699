"""Saving that loses nothing: files written whole or not at all, models any backend loads.

`atomic_path`, `save_atomically` and `write_json_atomically` write through a temporary
file beside the target and rename it into place, so a crash never leaves half a file
in place of a good one (and never imports Keras: the demo's report uses them too).

Two things stand between a `.keras` file and another backend:

1. **Registered classes.** `keras.saving.load_model` finds anykeras's classes
   (``Classifier``, ``SparseDense``, ``RootMeanSquaredError``, ...) only once the
   modules that register them are imported. A plain ``import anykeras`` sees to
   that, before or after ``import keras`` (see the end of ``anykeras/__init__.py``).
2. **What Keras writes about the backend.** A compiled model saved under PyTorch
   records its optimizer as ``keras.src.backend.torch.optimizers.torch_rmsprop.RMSprop``,
   a class that exists only where torch is installed, so plain Keras cannot load it
   on JAX or TensorFlow. A model compiled under JAX records ``jit_compile=True``
   (what ``"auto"`` resolved to there), which under PyTorch switches on
   ``torch.compile``, off by Keras's default.

`save_model` writes neutral files: it saves with `keras.Model.save`, then rewrites
the archive's ``config.json``: each backend-specific optimizer class becomes its
public ``keras.optimizers`` class, and ``jit_compile`` becomes ``"auto"`` (each
backend then resolves its own default). The weights, optimizer state included, are
Keras's own bytes. The file appears atomically: whole, or not at all.

Plain ``model.save`` cannot be made neutral from outside Keras: Keras names an
optimizer by its class (``type(optimizer).__module__``), and under PyTorch
``keras.optimizers.RMSprop(...)`` constructs the torch-only subclass, which has no
public Keras name, no registration and no ``get_config`` hook that changes the name
recorded. So write files that another backend may read with `save_model`, as the
command line and the demo write their ``model.keras``.
`load_model` still reads files ``model.save`` wrote under PyTorch, by loading the
architecture and weights and compiling from the neutral compile config.

Example:
>>> import tempfile
>>> import keras
>>> from anykeras import ClassifierSpec, build
>>> model = build(ClassifierSpec(input_shape=(4,), hidden=(2,)), "subclassed")
>>> model.compile(optimizer="rmsprop", loss="binary_crossentropy")
>>> path = save_model(model, Path(tempfile.mkdtemp()) / "model.keras")
>>> keras.saving.load_model(path).count_params()
13
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import keras

__all__ = ["atomic_path", "load_model", "save_atomically", "save_model", "write_json_atomically"]


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only on success.

    Example:
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        # mkstemp makes the file private (0600); give it the mode any new file gets.
        tmp.chmod(0o666 & ~_umask())
        tmp.replace(path)  # atomic on POSIX: readers see the old file or the new one
    except OSError as error:
        if error.filename is not None or error.errno is None:
            raise
        # Written through a file object (Keras, NumPy): the error names no file. Say which.
        raise OSError(error.errno, error.strerror, str(path)) from error
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it: put it straight back
    os.umask(mask)
    return mask


def write_json_atomically(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented, strict JSON to ``path`` atomically; return the path.

    Strict: a NaN or infinity is an error (`ValueError`), never a ``NaN`` that JSON
    readers reject.
    """
    text = json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean",
              type(None): "null", int: "number", float: "number"}  # fmt: skip


def json_type(value: Any) -> str:
    """The JSON name of ``value``'s type: ``json_type([1]) == "array"``."""
    return JSON_TYPES.get(type(value), type(value).__name__)


def read_json(path: str | Path) -> Any:
    """The JSON in ``path``; `ValueError` saying what is wrong (``is not JSON (...)``).

    The message fits after the file's name: ``f"{path} {error}"``.
    """
    try:
        return json.loads(Path(path).read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("is not UTF-8 text") from None
    except ValueError as error:
        raise ValueError(f"is not JSON ({error})") from None
    except OSError as error:
        raise ValueError(f"cannot be read ({error.strerror or error})") from None


def save_atomically(path: str | Path, save: Callable[[Path], Any]) -> Path:
    """Call ``save(tmp_path)`` and move the result to ``path`` only if it succeeded.

    Example: ``save_atomically("model.keras", model.save)``.
    """
    with atomic_path(path) as tmp:
        save(tmp)
    return Path(path)


_CONFIG = "config.json"  # the member of a .keras archive that describes the model


def _is_backend_optimizer(node: dict[str, Any]) -> bool:
    """Whether ``node`` serializes a backend's subclass of a public Keras optimizer."""
    import keras

    module = str(node.get("module") or "")
    return (
        module.startswith("keras.src.backend.")
        and ".optimizers" in module
        and isinstance(getattr(keras.optimizers, str(node.get("class_name")), None), type)
    )


def _neutral_optimizers(node: Any) -> None:
    """Rename, in place, every backend-specific optimizer class below ``node``.

    Nested ones too, such as a ``LossScaleOptimizer``'s ``inner_optimizer``.
    """
    if isinstance(node, dict):
        if _is_backend_optimizer(node):
            node["module"] = "keras.optimizers"
            node["registered_name"] = None  # as Keras writes its public classes
        for value in node.values():
            _neutral_optimizers(value)
    elif isinstance(node, list):
        for value in node:
            _neutral_optimizers(value)


def _neutral(config: dict[str, Any]) -> dict[str, Any]:
    """A compile config made backend-neutral (``config`` is not changed).

    Backend-specific optimizer classes become their public ``keras.optimizers``
    class, and ``jit_compile`` becomes ``"auto"``.
    """
    config = json.loads(json.dumps(config))  # deep copy
    _neutral_optimizers(config)
    if "jit_compile" in config:
        config["jit_compile"] = "auto"
    return config


def _neutral_model_config(node: Any) -> Any:
    """``config.json``'s content with every compile config in it made neutral.

    A model's own, and that of any compiled model nested inside it.
    """
    if isinstance(node, dict):
        return {
            key: _neutral(value)
            if key == "compile_config" and isinstance(value, dict)
            else _neutral_model_config(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_neutral_model_config(value) for value in node]
    return node


def _copy_neutral(source: Path, target: Path) -> None:
    """Copy the `.keras` archive ``source`` to ``target`` with a neutral ``config.json``.

    A zip member cannot be rewritten in place, so every member is copied (streamed,
    so large weights files never sit in memory) and ``config.json`` is replaced.
    """
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            member.compress_type = info.compress_type
            member.external_attr = info.external_attr
            if info.filename == _CONFIG:
                config = _neutral_model_config(json.loads(old.read(info)))
                new.writestr(member, json.dumps(config))
                continue
            member.file_size = info.file_size  # lets zipfile pick ZIP64 for huge members
            with old.open(info) as reader, new.open(member, "w") as writer:
                shutil.copyfileobj(reader, writer, 1 << 20)


def save_model(model: keras.Model, path: str | Path) -> Path:
    """Save ``model`` to a `.keras` file that plain Keras loads on any backend.

    What `keras.Model.save` writes, with a backend-neutral compile config (see the
    module's docstring); written atomically: an existing file at ``path`` is replaced
    only once the new one is complete.

    Args:
        model: Any Keras model: built by anykeras or not, compiled or not.
        path: The file to write; it must end in ``.keras``.

    Returns:
        ``path``, as a `Path`.

    Raises:
        ValueError: ``path`` does not end in ``.keras``.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"path must end in .keras (a Keras model file). Received: path={path}")

    def save(tmp: Path) -> None:
        model.save(tmp)  # Keras writes its archive, then config.json is made neutral
        with atomic_path(tmp) as neutral:
            _copy_neutral(tmp, neutral)

    return save_atomically(path, save)


def _compile_config(path: Path) -> dict[str, Any] | None:
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read(_CONFIG))
    return config.get("compile_config")


def load_model(path: str | Path, compile: bool = True) -> keras.Model:
    """`keras.saving.load_model`, also for files plain ``model.save`` wrote on PyTorch.

    Files written by `save_model` load with plain `keras.saving.load_model`; this
    also reads a compiled model that ``model.save`` wrote under PyTorch (see the
    module's docstring), and gives a model compiled with ``jit_compile=True`` under
    JAX this backend's default instead.

    Args:
        path: A ``.keras`` file.
        compile: Restore the loss, metrics and optimizer settings (optimizer
            *state* is only restored when the saving backend's optimizer class
            loads here; a fresh optimizer is built otherwise).

    Returns:
        The model, with its weights.

    Example:
    >>> import tempfile
    >>> from anykeras import ClassifierSpec, build
    >>> path = Path(tempfile.mkdtemp()) / "m.keras"
    >>> build(ClassifierSpec(input_shape=(4,), hidden=(2,))).save(path)
    >>> load_model(path).count_params()
    13
    """
    import keras

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"expected a saved .keras model file; {path} does not exist")
    try:
        model = keras.saving.load_model(path, compile=compile)
    except TypeError as error:
        # Only the optimizer's backend-specific class is worked around; anything else
        # is a real problem with the file.
        if not compile or "optimizers" not in str(error):
            raise
        model = keras.saving.load_model(path, compile=False)
        compile_config = _compile_config(path)
        if compile_config:
            model.compile_from_config(_neutral(compile_config))
    if keras.backend.backend() == "torch" and getattr(model, "jit_compile", False):
        model.jit_compile = False  # "auto" on torch: no torch.compile
    return model
