"""Loading `.keras` files on any backend, whichever backend saved them.

A compiled model saved under PyTorch records its optimizer as
``keras.src.backend.torch.optimizers.torch_rmsprop.RMSprop``, a class that exists
only where torch is installed, so `keras.saving.load_model` fails on JAX and
TensorFlow. `load_model` here falls back to loading the architecture and weights
and compiling with the same optimizer settings, loss and metrics from Keras's
backend-neutral optimizer classes.

A model compiled under JAX also records ``jit_compile=True`` (what ``"auto"`` means
there); under PyTorch that would switch on ``torch.compile``, which Keras leaves
off by default. The loaded model gets this backend's default instead.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import keras

# Imported for their registrations: the subclassed model and the custom layers.
import anykeras.builders  # noqa: F401


def _compile_config(path: Path) -> dict[str, Any] | None:
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    return config.get("compile_config")


def _neutral(config: dict[str, Any]) -> dict[str, Any]:
    """The compile config with a backend-specific optimizer class made backend-neutral."""
    config = json.loads(json.dumps(config))  # deep copy
    optimizer = config.get("optimizer")
    if isinstance(optimizer, dict) and ".backend." in str(optimizer.get("module", "")):
        optimizer["module"] = "keras.optimizers"
    return config


def load_model(path: str | Path, compile: bool = True) -> keras.Model:
    """`keras.saving.load_model`, portable across the backend that saved the file.

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
