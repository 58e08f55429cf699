"""`ClassifierSpec`: one validated, frozen description of the course's classifier.

Every builder style reads the same spec, so the Sequential, Functional and
subclassed models cannot drift apart: the spec fixes the layers, the head, the
loss and the metrics once.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, Literal

TASKS = ("binary", "multiclass", "regression")
ACTIVATIONS = (
    "relu",
    "tanh",
    "sigmoid",
    "elu",
    "selu",
    "gelu",
    "silu",
    "softplus",
    "leaky_relu",
    "linear",
)

Task = Literal["binary", "multiclass", "regression"]


def _positive_int(value: Any) -> bool:
    # bool is an int subclass; `True` units would be a silent bug.
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


@dataclasses.dataclass(frozen=True)
class ClassifierSpec:
    """A densely connected classifier (or regressor), described once.

    The head follows from the task: ``"binary"`` ends in ``Dense(1, sigmoid)``,
    ``"multiclass"`` in ``Dense(num_classes, softmax)`` and ``"regression"`` in a
    linear ``Dense(1)``. `loss` and `metrics` give the matching defaults, so every
    style is compiled the same way.

    Args:
        input_shape: Shape of one sample, without the batch axis, e.g. ``(10000,)``
            for a multi-hot review. An int is read as a one-element shape.
        hidden: Units of each hidden ``Dense`` layer. The course's IMDB model has two
            layers of 16.
        activation: Activation of the hidden layers. ``relu`` is the course's choice;
            ``tanh`` is one of its "further experiments".
        task: ``"binary"``, ``"multiclass"`` or ``"regression"``.
        num_classes: Number of classes; required (and at least 2) for
            ``"multiclass"``, must stay ``None`` otherwise.
        dropout: Rate of a ``Dropout`` after each hidden layer, in ``[0, 1)``;
            0 adds no dropout layer at all.
        seed: Seed of each dropout layer's random stream, so the three styles drop
            the same units and train identically.

    Example:
    >>> spec = ClassifierSpec(input_shape=(10000,), hidden=(16, 16), task="binary")
    >>> spec.output_units, spec.output_activation, spec.loss
    (1, 'sigmoid', 'binary_crossentropy')
    >>> ClassifierSpec(input_shape=(8,), dropout=1.5)
    Traceback (most recent call last):
    ...
    ValueError: dropout must be a number in [0, 1). Received: dropout=1.5
    """

    input_shape: tuple[int, ...]
    # The course's IMDB network: two hidden layers of 16 units.
    hidden: tuple[int, ...] = (16, 16)
    # relu is the course's default; tanh is one of its further experiments.
    activation: str = "relu"
    # Binary is the IMDB review classifier, the course's running example.
    task: Task = "binary"
    # Only multiclass needs a class count; the other heads have one unit.
    num_classes: int | None = None
    # No dropout by default, as in the course's first model.
    dropout: float = 0.0
    # Fixed dropout seed so that the three styles see the same masks.
    seed: int = 1337

    def __post_init__(self) -> None:
        shape = (self.input_shape,) if isinstance(self.input_shape, int) else self.input_shape
        if (
            not isinstance(shape, Sequence)
            or isinstance(shape, str)
            or len(shape) == 0
            or not all(_positive_int(d) for d in shape)
        ):
            raise ValueError(
                "input_shape must be a non-empty tuple of positive integers "
                f"(one sample, no batch axis). Received: input_shape={self.input_shape!r}"
            )
        object.__setattr__(self, "input_shape", tuple(shape))

        if (
            not isinstance(self.hidden, Sequence)
            or isinstance(self.hidden, str)
            or not all(_positive_int(u) for u in self.hidden)
        ):
            raise ValueError(
                "hidden must be a sequence of positive integers (units per layer). "
                f"Received: hidden={self.hidden!r}"
            )
        object.__setattr__(self, "hidden", tuple(self.hidden))

        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {ACTIVATIONS}. Received: activation={self.activation!r}"
            )
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}. Received: task={self.task!r}")
        if self.task == "multiclass":
            if not (_positive_int(self.num_classes) and self.num_classes >= 2):
                raise ValueError(
                    "num_classes must be an integer >= 2 for task='multiclass'. "
                    f"Received: num_classes={self.num_classes!r}"
                )
        elif self.num_classes is not None:
            raise ValueError(
                f"num_classes only applies to task='multiclass'; leave it None for "
                f"task={self.task!r}. Received: num_classes={self.num_classes!r}"
            )
        if (
            isinstance(self.dropout, bool)
            or not isinstance(self.dropout, (int, float))
            or not 0 <= self.dropout < 1
        ):
            raise ValueError(
                f"dropout must be a number in [0, 1). Received: dropout={self.dropout!r}"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be an integer. Received: seed={self.seed!r}")

    @property
    def input_size(self) -> int:
        """Number of features in one sample: the Dense layers see it flattened."""
        return math.prod(self.input_shape)

    @property
    def output_units(self) -> int:
        """Units of the head: the class count for multiclass, else 1."""
        return self.num_classes if self.task == "multiclass" else 1  # type: ignore[return-value]

    @property
    def output_activation(self) -> str:
        """Activation of the head: sigmoid, softmax or linear."""
        return {"binary": "sigmoid", "multiclass": "softmax", "regression": "linear"}[self.task]

    @property
    def loss(self) -> str:
        """The loss that matches the head (labels as integers for multiclass)."""
        return {
            "binary": "binary_crossentropy",
            "multiclass": "sparse_categorical_crossentropy",
            "regression": "mse",
        }[self.task]

    @property
    def metrics(self) -> list[str]:
        """Metrics reported by `fit` and `evaluate`: accuracy, or MAE for regression."""
        return ["mae"] if self.task == "regression" else ["accuracy"]

    def replace(self, **changes: Any) -> ClassifierSpec:
        """Return a copy with some fields changed (and validated again).

        Example:
        >>> ClassifierSpec(input_shape=(8,)).replace(activation="tanh").activation
        'tanh'
        """
        return dataclasses.replace(self, **changes)

    def to_config(self) -> dict[str, Any]:
        """A JSON-friendly dict that `from_config` turns back into the same spec."""
        config = dataclasses.asdict(self)
        config["input_shape"] = list(self.input_shape)
        config["hidden"] = list(self.hidden)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ClassifierSpec:
        """Rebuild a spec from `to_config`'s dict.

        Example:
        >>> spec = ClassifierSpec(input_shape=(8,), task="multiclass", num_classes=3)
        >>> ClassifierSpec.from_config(spec.to_config()) == spec
        True
        """
        config = dict(config)
        config["input_shape"] = tuple(config["input_shape"])
        config["hidden"] = tuple(config["hidden"])
        return cls(**config)
