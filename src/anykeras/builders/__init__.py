"""Build one `ClassifierSpec` as a Sequential, Functional or subclassed model."""

from __future__ import annotations

from collections.abc import Callable

import keras

from anykeras.builders.functional import build_functional
from anykeras.builders.sequential import build_sequential
from anykeras.builders.subclassed import Classifier, build_subclassed
from anykeras.spec import ClassifierSpec

STYLES = ("sequential", "functional", "subclassed")

_BUILDERS: dict[str, Callable[[ClassifierSpec], keras.Model]] = {
    "sequential": build_sequential,
    "functional": build_functional,
    "subclassed": build_subclassed,
}


def build(spec: ClassifierSpec, style: str = "functional") -> keras.Model:
    """Build ``spec`` in one of the three `STYLES`; all three are the same model.

    Same layer output shapes and parameter counts, same weight order, and so the
    same predictions and training once weights are copied from one to another.

    Args:
        spec: The classifier to build.
        style: ``"sequential"``, ``"functional"`` or ``"subclassed"``.

    Returns:
        A built, uncompiled `keras.Model`.

    Example:
    >>> spec = ClassifierSpec(input_shape=(10000,), hidden=(16, 16), task="binary")
    >>> [build(spec, style).count_params() for style in STYLES]
    [160305, 160305, 160305]
    """
    if not isinstance(spec, ClassifierSpec):
        raise TypeError(f"spec must be a ClassifierSpec. Received: {type(spec).__name__}")
    if style not in _BUILDERS:
        raise ValueError(f"style must be one of {STYLES}. Received: style={style!r}")
    return _BUILDERS[style](spec)


__all__ = [
    "STYLES",
    "Classifier",
    "build",
    "build_functional",
    "build_sequential",
    "build_subclassed",
]
