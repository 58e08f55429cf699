"""Functional topologies: two inputs, two outputs, parallel branches.

The course draws models as graphs of layers. These builders write such graphs once,
with `keras.layers`, so that they run on every backend:

- `two_branch`: two inputs (a multi-hot text vector and a few numeric features),
  one ``Dense`` branch each, merged with ``Concatenate``, then a head.
- `multi_head`: one input, a shared trunk, two outputs (a binary "sentiment" and a
  regression "rating"), compiled by `compile_multi_head` with one loss per head and
  ``loss_weights``.
- `inception_block` and `inception_classifier`: 1x1, 3x3, 5x5 and pooling branches
  side by side, concatenated on the channel axis, for 28x28x1 images.

Every builder returns a built, uncompiled Functional `keras.Model` (except
`inception_block`, which adds layers to a graph and returns its output tensor).
`stack`, layers one after another, lives with the Functional style
(`anykeras.builders.functional`) and is re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras

from anykeras.builders.functional import stack
from anykeras.spec import ACTIVATIONS, NUM_WORDS, check_choice, check_int


def _check_positive(**values: Any) -> None:
    for name, value in values.items():
        check_int(name, value)


def _check_activation(activation: str) -> None:
    check_choice("activation", activation, ACTIVATIONS)


def two_branch(
    text_size: int = NUM_WORDS,
    numeric_size: int = 8,
    text_units: int = 16,
    numeric_units: int = 8,
    head_units: int = 16,
    activation: str = "relu",
    name: str = "two_branch",
) -> keras.Model:
    """Two inputs, a ``Dense`` branch each, merged by ``Concatenate``, one binary head.

    The graph::

        text (text_size,)       -> Dense(text_units)    -+
                                                         +-> Concatenate -> Dense(head_units)
        numeric (numeric_size,) -> Dense(numeric_units) -+       -> Dense(1, sigmoid)

    Parameters: ``(text_size + 1) * text_units + (numeric_size + 1) * numeric_units
    + (text_units + numeric_units + 1) * head_units + head_units + 1``.

    Args:
        text_size: Width of the multi-hot text input (the course's IMDB vocabulary
            of 10,000 words by default).
        numeric_size: Number of numeric features (e.g. review length, year, ...).
        text_units: Units of the text branch's ``Dense`` layer.
        numeric_units: Units of the numeric branch's ``Dense`` layer.
        head_units: Units of the hidden ``Dense`` layer after the merge.
        activation: Activation of the branch and head hidden layers.
        name: Name of the model.

    Returns:
        A Functional model with inputs ``"text"`` and ``"numeric"`` (pass a list in
        that order, or a dict keyed by those names) and one output ``"output"`` of
        shape ``(batch, 1)``.

    Example:
    >>> model = two_branch(text_size=10_000, numeric_size=8)
    >>> [tuple(shape) for shape in model.input_shape], tuple(model.output_shape)
    ([(None, 10000), (None, 8)], (None, 1))
    >>> model.count_params()
    160505
    """
    _check_positive(
        text_size=text_size,
        numeric_size=numeric_size,
        text_units=text_units,
        numeric_units=numeric_units,
        head_units=head_units,
    )
    _check_activation(activation)
    text = keras.Input(shape=(text_size,), name="text")
    numeric = keras.Input(shape=(numeric_size,), name="numeric")
    text_features = keras.layers.Dense(text_units, activation=activation, name="text_dense")(text)
    numeric_features = keras.layers.Dense(
        numeric_units, activation=activation, name="numeric_dense"
    )(numeric)
    merged = keras.layers.Concatenate(name="concatenate")([text_features, numeric_features])
    hidden = keras.layers.Dense(head_units, activation=activation, name="head_dense")(merged)
    output = keras.layers.Dense(1, activation="sigmoid", name="output")(hidden)
    return keras.Model([text, numeric], output, name=name)


def multi_head(
    input_size: int = NUM_WORDS,
    trunk: Sequence[int] = (16, 16),
    activation: str = "relu",
    name: str = "multi_head",
) -> keras.Model:
    """One input, a shared ``Dense`` trunk, two heads: ``"sentiment"`` and ``"rating"``.

    The graph::

        features (input_size,) -> Dense(trunk[0]) -> ... -> Dense(trunk[-1]) -+-> sentiment
                                                                              +-> rating

    ``sentiment`` is ``Dense(1, sigmoid)`` (a binary label), ``rating`` a linear
    ``Dense(1)`` (a number). Compile it with `compile_multi_head`. Parameters: the
    trunk's ``(in + 1) * out`` per layer, plus ``2 * (trunk[-1] + 1)`` for the heads.

    Args:
        input_size: Width of the input vector (a multi-hot review by default).
        trunk: Units of each shared hidden ``Dense`` layer (at least one).
        activation: Activation of the trunk.
        name: Name of the model.

    Returns:
        A Functional model with one input ``"features"`` and a dict of two outputs,
        ``{"sentiment": (batch, 1), "rating": (batch, 1)}``.

    Example:
    >>> model = multi_head(input_size=10_000, trunk=(16, 16))
    >>> sorted(model.output_names), tuple(model.get_layer("rating").output.shape)
    (['rating', 'sentiment'], (None, 1))
    >>> model.count_params()
    160322
    """
    _check_positive(input_size=input_size)
    if isinstance(trunk, (str, bytes)) or not isinstance(trunk, Sequence) or len(trunk) == 0:
        raise ValueError(
            f"trunk must be a non-empty sequence of positive integers. Received: trunk={trunk!r}"
        )
    for units in trunk:
        _check_positive(trunk_units=units)
    _check_activation(activation)
    inputs = keras.Input(shape=(input_size,), name="features")
    x = inputs
    for i, units in enumerate(trunk, start=1):
        x = keras.layers.Dense(units, activation=activation, name=f"trunk_{i}")(x)
    outputs = {
        "sentiment": keras.layers.Dense(1, activation="sigmoid", name="sentiment")(x),
        "rating": keras.layers.Dense(1, name="rating")(x),
    }
    return keras.Model(inputs, outputs, name=name)


#: One loss per head of `multi_head`.
MULTI_HEAD_LOSSES = {"sentiment": "binary_crossentropy", "rating": "mse"}
#: One metric list per head of `multi_head`.
MULTI_HEAD_METRICS = {"sentiment": ["accuracy"], "rating": ["mae"]}


def compile_multi_head(
    model: keras.Model,
    loss_weights: Mapping[str, float] | None = None,
    optimizer: str | keras.optimizers.Optimizer = "rmsprop",
) -> keras.Model:
    """Compile a `multi_head` model: a loss per head, summed with ``loss_weights``.

    The loss Keras minimises (``history["loss"]``) is
    ``w_sentiment * sentiment_loss + w_rating * rating_loss``; the history also
    keeps each head's unweighted loss as ``sentiment_loss`` and ``rating_loss``.

    Args:
        model: A model from `multi_head`.
        loss_weights: Weight of each head's loss, keyed ``"sentiment"`` and
            ``"rating"``. By default the rating's mean squared error is scaled
            down by 10, so that it does not drown the crossentropy.
        optimizer: An optimizer name or instance.

    Returns:
        The same model, compiled.

    Example:
    >>> model = compile_multi_head(multi_head(input_size=20), {"sentiment": 1.0, "rating": 0.5})
    >>> model.loss == MULTI_HEAD_LOSSES
    True
    """
    weights = dict(loss_weights) if loss_weights is not None else {"sentiment": 1.0, "rating": 0.1}
    if set(weights) != set(MULTI_HEAD_LOSSES):
        raise ValueError(
            f"loss_weights must have exactly the keys {sorted(MULTI_HEAD_LOSSES)}. "
            f"Received: loss_weights={loss_weights!r}"
        )
    for key, value in weights.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(
                f"loss_weights[{key!r}] must be a non-negative number. Received: {value!r}"
            )
    model.compile(
        optimizer=optimizer,
        loss=dict(MULTI_HEAD_LOSSES),
        loss_weights={key: float(value) for key, value in weights.items()},
        metrics={key: list(value) for key, value in MULTI_HEAD_METRICS.items()},
    )
    return model


def inception_block(
    x: Any,
    filters_1x1: int = 16,
    filters_3x3_reduce: int = 16,
    filters_3x3: int = 24,
    filters_5x5_reduce: int = 4,
    filters_5x5: int = 8,
    filters_pool: int = 8,
    name: str = "inception",
) -> Any:
    """Add a GoogLeNet-style inception block to a Functional graph.

    Four branches see the same input and are concatenated on the channel axis
    (channels last)::

        x -> Conv 1x1(filters_1x1)                                    -+
        x -> Conv 1x1(filters_3x3_reduce) -> Conv 3x3(filters_3x3)     -+-> Concatenate
        x -> Conv 1x1(filters_5x5_reduce) -> Conv 5x5(filters_5x5)     -+
        x -> MaxPool 3x3 (stride 1)        -> Conv 1x1(filters_pool)   -+

    Every convolution uses ``"same"`` padding and ReLU, so height and width are
    kept and the output has ``filters_1x1 + filters_3x3 + filters_5x5 + filters_pool``
    channels. With ``c`` input channels, the block has ``(c + 1) * filters_1x1
    + (c + 1) * r3 + (9 * r3 + 1) * filters_3x3 + (c + 1) * r5 + (25 * r5 + 1) *
    filters_5x5 + (c + 1) * filters_pool`` parameters (``r3``, ``r5``: the reductions).

    Args:
        x: A 4D symbolic tensor ``(batch, height, width, channels)``.
        filters_1x1: Filters of the 1x1 branch.
        filters_3x3_reduce: Filters of the 1x1 convolution before the 3x3 one.
        filters_3x3: Filters of the 3x3 branch.
        filters_5x5_reduce: Filters of the 1x1 convolution before the 5x5 one.
        filters_5x5: Filters of the 5x5 branch.
        filters_pool: Filters of the 1x1 projection after the pooling.
        name: Prefix of the block's layer names.

    Returns:
        The concatenated output tensor.

    Example:
    >>> inputs = keras.Input(shape=(28, 28, 1))
    >>> tuple(inception_block(inputs).shape)
    (None, 28, 28, 56)
    """
    _check_positive(
        filters_1x1=filters_1x1,
        filters_3x3_reduce=filters_3x3_reduce,
        filters_3x3=filters_3x3,
        filters_5x5_reduce=filters_5x5_reduce,
        filters_5x5=filters_5x5,
        filters_pool=filters_pool,
    )
    if len(x.shape) != 4:
        raise ValueError(
            "inception_block expects a 4D (batch, height, width, channels) tensor. "
            f"Received: shape={tuple(x.shape)}"
        )

    def conv(filters: int, size: int, suffix: str) -> keras.layers.Conv2D:
        return keras.layers.Conv2D(
            filters, size, padding="same", activation="relu", name=f"{name}_{suffix}"
        )

    branch_1 = conv(filters_1x1, 1, "1x1")(x)
    branch_3 = conv(filters_3x3, 3, "3x3")(conv(filters_3x3_reduce, 1, "3x3_reduce")(x))
    branch_5 = conv(filters_5x5, 5, "5x5")(conv(filters_5x5_reduce, 1, "5x5_reduce")(x))
    pooled = keras.layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    branch_pool = conv(filters_pool, 1, "pool_proj")(pooled)
    return keras.layers.Concatenate(axis=-1, name=f"{name}_concat")(
        [branch_1, branch_3, branch_5, branch_pool]
    )


def inception_classifier(
    input_shape: Sequence[int] = (28, 28, 1),
    num_classes: int = 10,
    stem_filters: int = 16,
    block: Mapping[str, int] | None = None,
    name: str = "inception_classifier",
) -> keras.Model:
    """A small image classifier around one `inception_block` (MNIST-sized by default).

    The graph: ``Conv2D(stem_filters, 3x3, same, relu)`` -> ``MaxPooling2D(2)`` ->
    `inception_block` -> ``GlobalAveragePooling2D`` -> ``Dense(num_classes, softmax)``.
    Compile it with ``sparse_categorical_crossentropy`` for integer labels.

    Args:
        input_shape: ``(height, width, channels)`` of one image, channels last.
        num_classes: Number of classes (at least 2).
        stem_filters: Filters of the first convolution.
        block: Keyword arguments for `inception_block` (its filter counts).
        name: Name of the model.

    Returns:
        A Functional model from ``(batch, *input_shape)`` to ``(batch, num_classes)``.

    Example:
    >>> model = inception_classifier()
    >>> tuple(model.output_shape), model.count_params()
    ((None, 10), 5766)
    """
    if (
        isinstance(input_shape, (str, bytes))
        or not isinstance(input_shape, Sequence)
        or len(input_shape) != 3
    ):
        raise ValueError(
            f"input_shape must be (height, width, channels). Received: input_shape={input_shape!r}"
        )
    for size in input_shape:
        _check_positive(input_dimension=size)
    _check_positive(stem_filters=stem_filters)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(
            f"num_classes must be an integer >= 2. Received: num_classes={num_classes!r}"
        )
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = keras.layers.Conv2D(stem_filters, 3, padding="same", activation="relu", name="stem")(inputs)
    x = keras.layers.MaxPooling2D(2, name="stem_pool")(x)
    x = inception_block(x, **dict(block or {}))  # type: ignore[arg-type]
    x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name=name)


__all__ = [
    "MULTI_HEAD_LOSSES",
    "MULTI_HEAD_METRICS",
    "compile_multi_head",
    "inception_block",
    "inception_classifier",
    "multi_head",
    "stack",
    "two_branch",
]
