"""Build one spec as a Sequential, Functional or subclassed model: `build`.

Read `dense` first (the Dense stack every style shares), then `sequential`,
`functional` and `subclassed`: the same model written three ways. `sparse` is the same
model reading word ids; `convnet`, `recurrent`, `topologies` and `ctc` are the book's
later models (CTC sequence labelling sits here, with the other models).
"""

from __future__ import annotations

from collections.abc import Callable

import keras

from anykeras.builders import convnet, recurrent
from anykeras.builders.convnet import ConvClassifier
from anykeras.builders.functional import build_functional
from anykeras.builders.recurrent import SequenceClassifier
from anykeras.builders.sequential import build_sequential
from anykeras.builders.subclassed import Classifier, build_subclassed
from anykeras.spec import STYLES, ClassifierSpec, ConvSpec, SequenceSpec, check_choice

AnySpec = ClassifierSpec | ConvSpec | SequenceSpec

# spec type -> style -> builder
_BUILDERS: dict[type, dict[str, Callable[..., keras.Model]]] = {
    ClassifierSpec: {
        "sequential": build_sequential,
        "functional": build_functional,
        "subclassed": build_subclassed,
    },
    ConvSpec: convnet.BUILDERS,
    SequenceSpec: recurrent.BUILDERS,
}


def build(spec: AnySpec, style: str = "functional") -> keras.Model:
    """Build ``spec`` in one of the three `STYLES`; all three are the same model.

    Same layer output shapes and parameter counts, same weight order, and so the
    same predictions and training once weights are copied from one to another.

    Args:
        spec: The model to build: a `ClassifierSpec` (the course's Dense classifier),
            a `ConvSpec` (the book's MNIST convnet) or a `SequenceSpec` (an
            Embedding + LSTM review classifier).
        style: ``"sequential"``, ``"functional"`` or ``"subclassed"``.

    Returns:
        A built, uncompiled `keras.Model`.

    Example:
    >>> spec = ClassifierSpec(input_shape=(10000,), hidden=(16, 16), task="binary")
    >>> [build(spec, style).count_params() for style in STYLES]
    [160305, 160305, 160305]
    """
    if type(spec) not in _BUILDERS:
        raise TypeError(
            "spec must be a ClassifierSpec, ConvSpec or SequenceSpec. "
            f"Received: {type(spec).__name__}"
        )
    check_choice("style", style, STYLES)
    return _BUILDERS[type(spec)][style](spec)


__all__ = [
    "STYLES",
    "AnySpec",
    "Classifier",
    "ConvClassifier",
    "ConvSpec",
    "SequenceClassifier",
    "SequenceSpec",
    "build",
    "build_functional",
    "build_sequential",
    "build_subclassed",
]
