"""The course's classifier reading word ids instead of multi-hot rows: the same model.

`build_sparse` makes the Functional model of a `ClassifierSpec` whose first layer is a
`anykeras.layers.SparseDense`: the same weights, in the same order, so weights copy
between it and any style `anykeras.build` makes, and both predict the same on
``multi_hot(ids)`` and ``ids``.

    ids = unique_ids(x_train, num_tokens=10000)            # (n, maxlen) int32, pad 0
    model = build_sparse(ClassifierSpec(input_shape=(10000,)))
    model.set_weights(dense_model.get_weights())           # either way round

Example:
>>> from anykeras.data.encoding import unique_ids
>>> from anykeras.spec import ClassifierSpec
>>> ids = unique_ids([[1, 5, 5, 3], [4]], num_tokens=8)
>>> ids.tolist()
[[1, 3, 5], [4, 0, 0]]
>>> model = build_sparse(ClassifierSpec(input_shape=(8,), hidden=(4,)))
>>> [layer.name for layer in model.layers]
['word_ids', 'hidden_1', 'output']
>>> tuple(model.predict(ids, verbose=0).shape)
(2, 1)
"""

from __future__ import annotations

import keras

from anykeras.builders.dense import head_layer, hidden_layers
from anykeras.layers import SparseDense
from anykeras.spec import ClassifierSpec, check_choice

#: How a sparse model takes its word ids (see `build_sparse`).
LAYOUTS = ("padded", "packed")


def build_sparse(
    spec: ClassifierSpec, pad_id: int = 0, deduplicate: bool = True, layout: str = "padded"
) -> keras.Model:
    """``spec`` as a Functional model that reads padded word ids instead of multi-hot rows.

    The first layer is a `SparseDense` named like the Dense it replaces (``hidden_1``,
    or ``output`` for a spec without hidden layers); every other layer is the one
    `anykeras.builders.build_functional` makes, in the same order. So
    ``sparse.set_weights(dense.get_weights())`` (and the reverse) copies the model, and
    both predict the same on ``multi_hot(ids)`` and ``ids``.

    Args:
        spec: A classifier with a 1-D ``input_shape`` of ``(num_tokens,)``.
        pad_id: The id that fills short rows.
        deduplicate: See `SparseDense`; ``False`` only for inputs made by `unique_ids`
            (and always ``False`` for ``layout="packed"``).
        layout: ``"padded"``: one row of ids per sample, ``(batch, length)``, as
            `unique_ids` makes them. ``"packed"``: batches of ``(batch, 2, width)``,
            every id of the batch and the row it belongs to, as
            `anykeras.speed.packed.PackedBatches` makes them: no work on padding.

    Returns:
        A built, uncompiled Functional model with one int32 input ``word_ids`` of shape
        ``(batch, length)`` (or ``(batch, 2, width)`` when packed); any length works.

    Copy weights with ``get_weights`` / ``set_weights`` (or through a ``.keras`` file of
    either model and ``get_weights``): a ``.weights.h5`` file names each layer by its
    class, so a dense model's file does not load into a sparse model.

    Raises:
        ValueError: ``spec``'s input is not one vector per sample.

    Example:
    >>> spec = ClassifierSpec(input_shape=(10000,), hidden=(16, 16))
    >>> build_sparse(spec).count_params()
    160305
    """
    if not isinstance(spec, ClassifierSpec):
        raise TypeError(f"spec must be a ClassifierSpec. Received: {type(spec).__name__}")
    if len(spec.input_shape) != 1:
        raise ValueError(
            "build_sparse needs a spec whose input is one multi-hot vector per sample, "
            f"input_shape=(num_tokens,). Received: input_shape={spec.input_shape}"
        )
    check_choice("layout", layout, LAYOUTS)
    layers = [*hidden_layers(spec), head_layer(spec)]
    first = layers[0]
    layers[0] = SparseDense(
        first.units,
        num_tokens=spec.input_shape[0],
        activation=first.activation,
        pad_id=pad_id,
        deduplicate=deduplicate and layout == "padded",
        name=first.name,
    )
    shape = (None,) if layout == "padded" else (2, None)
    inputs = keras.Input(shape=shape, dtype="int32", name="word_ids")
    x = inputs
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs, x, name="sparse_classifier")


__all__ = ["LAYOUTS", "build_sparse"]
