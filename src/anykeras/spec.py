"""The package's specs, constants and validators: one place for each fact, no Keras.

`ClassifierSpec` (the course's Dense classifier), `ConvSpec` (the book's MNIST
convnet) and `SequenceSpec` (an Embedding + LSTM review classifier) each describe a
model once; every builder style reads the same spec, so the three styles cannot
drift apart.

The names the command line, the noxfile and the demo report need before (or
without) Keras live here too: `BACKENDS`, `STYLES`, `DATASETS`, `ROUTES`. The
package's argument checks (`check_int`, `check_number`, `check_choice`) word every
error as Keras does: ``"units must be a positive integer. Received: units=-3"``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Sequence
from typing import Any, ClassVar, Literal, get_args

#: The Keras backends anykeras runs on.
BACKENDS = ("jax", "torch", "tensorflow")
#: The three ways to write the same model (`anykeras.build`).
STYLES = ("sequential", "functional", "subclassed")
#: The book's four problems (`anykeras.training.recipes`).
DATASETS = ("imdb", "reuters", "housing", "mnist")
#: Ways of feeding a word model that give the same results, slowest first
#: (`anykeras.speed`); "plain" is the course's code.
ROUTES = ("plain", "compact", "sparse")
#: The course's vocabulary: the 10,000 most frequent words (``load_data(num_words=...)``).
NUM_WORDS = 10_000

Task = Literal["binary", "multiclass", "regression"]
TASKS: tuple[Task, ...] = get_args(Task)
ACTIVATIONS = (
    "relu", "tanh", "sigmoid", "elu", "selu", "gelu", "silu", "softplus", "leaky_relu", "linear",
)  # fmt: skip


def is_int(value: Any) -> bool:
    """An integer, NumPy's included, but not a bool (``True`` units would be a silent bug)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(name: str, value: Any, minimum: int = 1, allow_none: bool = False) -> Any:
    """``value`` as an int if it is an integer >= ``minimum``; else a `ValueError`.

    Example:
    >>> check_int("units", 3)
    3
    >>> check_int("units", -3)
    Traceback (most recent call last):
    ...
    ValueError: units must be a positive integer. Received: units=-3
    >>> check_int("seed", -1, minimum=0)
    Traceback (most recent call last):
    ...
    ValueError: seed must be an integer >= 0. Received: seed=-1
    """
    if value is None and allow_none:
        return None
    if not is_int(value) or int(value) < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        none = "None or " if allow_none else ""
        raise ValueError(f"{name} must be {none}{kind}. Received: {name}={value!r}")
    return int(value)


def check_number(
    name: str, value: Any, low: float = 0.0, high: float = math.inf, *, open_low: bool = True
) -> float:
    """``value`` as a float if it is a finite number in the range; else a `ValueError`.

    The range is ``(low, high)``, or ``[low, high)`` with ``open_low=False``.

    Example:
    >>> check_number("learning_rate", 1e-3)
    0.001
    >>> check_number("learning_rate", float("nan"))
    Traceback (most recent call last):
    ...
    ValueError: learning_rate must be a finite number > 0. Received: learning_rate=nan
    """
    number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    inside = number and math.isfinite(value) and value < high
    inside = inside and (value > low if open_low else value >= low)
    if not inside:
        bound = f"> {low:g}" if open_low else f">= {low:g}"
        upper = "" if high == math.inf else f" and < {high:g}"
        raise ValueError(
            f"{name} must be a finite number {bound}{upper}. Received: {name}={value!r}"
        )
    return float(value)


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    """``value`` if it is one of ``choices``; else a `ValueError` listing them.

    Example:
    >>> check_choice("task", "ranking", TASKS)
    Traceback (most recent call last):
    ...
    ValueError: task must be one of ('binary', 'multiclass', 'regression'). Received: task='ranking'
    """
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}. Received: {name}={value!r}")
    return value


class _Config:
    """``to_config`` / ``from_config`` for a frozen dataclass of JSON-friendly fields."""

    def _set_int_tuple(
        self, name: str, what: str, allow_empty: bool = False, scalar: bool = False, size: int = 0
    ) -> None:
        """Check field ``name`` (positive ints; ``size`` of them if set) and store it as a tuple."""
        value = getattr(self, name)
        items = (value,) if scalar and is_int(value) else value
        if (
            not isinstance(items, Sequence)
            or isinstance(items, str)
            or (not items and not allow_empty)
            or (size and len(items) != size)
            or not all(is_int(v) and int(v) > 0 for v in items)
        ):
            raise ValueError(f"{name} must be {what}. Received: {name}={value!r}")
        object.__setattr__(self, name, tuple(int(v) for v in items))

    def replace(self, **changes: Any) -> Any:
        """Return a copy with some fields changed (and validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def to_config(self) -> dict[str, Any]:
        """A JSON-friendly dict that `from_config` turns back into the same spec."""
        return {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in dataclasses.asdict(self).items()  # type: ignore[call-overload]
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Any:
        """Rebuild a spec from `to_config`'s dict."""
        return cls(**config)


@dataclasses.dataclass(frozen=True)
class ClassifierSpec(_Config):
    """A densely connected classifier (or regressor), described once.

    The head follows from the task: ``"binary"`` ends in ``Dense(1, sigmoid)``,
    ``"multiclass"`` in ``Dense(num_classes, softmax)`` and ``"regression"`` in a
    linear ``Dense(1)``. `loss` and `metrics` give the matching defaults, so every
    style is compiled the same way.

    Args:
        input_shape: Shape of one sample, without the batch axis, e.g. ``(10000,)``
            for a multi-hot review. An int is read as a one-element shape.
        hidden: Units of each hidden ``Dense`` layer (the course's IMDB model: two of 16).
        activation: Of the hidden layers; ``tanh`` is one of the course's "further experiments".
        task: ``"binary"`` (the course's IMDB reviews), ``"multiclass"`` or ``"regression"``.
        num_classes: Number of classes: at least 2 for ``"multiclass"``, else ``None``.
        dropout: Rate of a ``Dropout`` after each hidden layer, in ``[0, 1)``;
            0 (as in the course's first model) adds no dropout layer at all.
        seed: Seed of the dropout layers, so the three styles drop the same units and train alike.

    Example:
    >>> spec = ClassifierSpec(input_shape=(10000,), hidden=(16, 16), task="binary")
    >>> spec.output_units, spec.output_activation, spec.loss
    (1, 'sigmoid', 'binary_crossentropy')
    >>> ClassifierSpec(input_shape=(8,), dropout=1.5)
    Traceback (most recent call last):
    ...
    ValueError: dropout must be a finite number >= 0 and < 1. Received: dropout=1.5
    """

    input_shape: tuple[int, ...]
    hidden: tuple[int, ...] = (16, 16)
    activation: str = "relu"
    task: Task = "binary"
    num_classes: int | None = None
    dropout: float = 0.0
    seed: int = 1337

    def __post_init__(self) -> None:
        what = "a non-empty tuple of positive integers (one sample, no batch axis)"
        self._set_int_tuple("input_shape", what, scalar=True)
        what = "a sequence of positive integers (units per layer)"
        self._set_int_tuple("hidden", what, allow_empty=True)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("task", self.task, TASKS)
        if self.task == "multiclass":
            check_int("num_classes", self.num_classes, minimum=2)
        elif self.num_classes is not None:
            raise ValueError(
                f"num_classes only applies to task='multiclass'; leave it None for "
                f"task={self.task!r}. Received: num_classes={self.num_classes!r}"
            )
        check_number("dropout", self.dropout, 0, 1, open_low=False)
        if not is_int(self.seed):
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


class _FixedHead(_Config):
    """A spec whose head is fixed, and so its loss: ``_LOSS``; the metric is accuracy."""

    _LOSS: ClassVar[str]

    @property
    def loss(self) -> str:
        """The loss that matches the head: integer labels and softmax, or 0/1 and sigmoid."""
        return self._LOSS

    @property
    def metrics(self) -> list[str]:
        """Accuracy."""
        return ["accuracy"]


@dataclasses.dataclass(frozen=True)
class ConvSpec(_FixedHead):
    """A small image classifier: stacked 3x3 convolutions with max pooling between.

    Args:
        input_shape: ``(height, width, channels)`` of one image; MNIST's digits by default.
        filters: Filters of each convolution, a max pooling between two (the book's 32, 64, 128).
        kernel_size: Side of the square convolution kernels.
        pool_size: Side of the square max-pooling windows.
        num_classes: Classes of the softmax head (ten digits).
        activation: Activation of the convolutions.

    Example:
    >>> ConvSpec().loss
    'sparse_categorical_crossentropy'
    >>> ConvSpec(filters=(0,))
    Traceback (most recent call last):
    ...
    ValueError: filters must be a non-empty tuple of positive integers. Received: filters=(0,)
    """

    input_shape: tuple[int, int, int] = (28, 28, 1)
    filters: tuple[int, ...] = (32, 64, 128)
    kernel_size: int = 3
    pool_size: int = 2
    num_classes: int = 10
    activation: str = "relu"
    _LOSS: ClassVar[str] = "sparse_categorical_crossentropy"

    def __post_init__(self) -> None:
        self._set_int_tuple("input_shape", "(height, width, channels) of positive integers", size=3)
        self._set_int_tuple("filters", "a non-empty tuple of positive integers")
        check_int("kernel_size", self.kernel_size)
        check_int("pool_size", self.pool_size)
        check_int("num_classes", self.num_classes, minimum=2)
        side = min(self.input_shape[:2])
        for i in range(len(self.filters)):
            side = (side // self.pool_size if i else side) - (self.kernel_size - 1)
            if side < 1:
                raise ValueError(
                    f"the image is too small for {len(self.filters)} convolutions of size "
                    f"{self.kernel_size}: it shrinks to nothing at convolution {i + 1}. "
                    f"Received: input_shape={self.input_shape!r}"
                )


@dataclasses.dataclass(frozen=True)
class SequenceSpec(_FixedHead):
    """A binary sequence classifier: Embedding -> LSTM -> Dense(1, sigmoid).

    Args:
        num_words: Vocabulary size (ids are below it), as in ``load_data(num_words=...)``.
        maxlen: Ids per review after padding or truncating; most reviews fit in 200,
            longer ones keep their last ``maxlen``.
        embedding_dim: Size of each word vector.
        units: LSTM units. Both are small by default: it trains on a CPU in a minute or so.

    Example:
    >>> SequenceSpec().input_shape
    (200,)
    >>> SequenceSpec(units=0)
    Traceback (most recent call last):
    ...
    ValueError: units must be a positive integer. Received: units=0
    """

    num_words: int = NUM_WORDS
    maxlen: int = 200
    embedding_dim: int = 32
    units: int = 32
    _LOSS: ClassVar[str] = "binary_crossentropy"

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            check_int(field.name, getattr(self, field.name))

    @property
    def input_shape(self) -> tuple[int]:
        """``(maxlen,)``: one padded review."""
        return (self.maxlen,)

    def pad(self, sequences: Sequence[Sequence[int]]) -> Any:
        """Pad or truncate reviews at the front to ``maxlen`` ids (int32).

        Example:
        >>> SequenceSpec(maxlen=4).pad([[1, 5, 9], [1, 2, 3, 4, 5, 6]]).tolist()
        [[0, 1, 5, 9], [3, 4, 5, 6]]
        """
        import keras  # here, so that the specs stay importable without Keras

        return keras.utils.pad_sequences(sequences, maxlen=self.maxlen, dtype="int32")
