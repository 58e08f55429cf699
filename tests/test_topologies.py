"""Functional topologies: exact parameter counts, shapes, training and `.keras` round trips."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest

from anykeras.builders.topologies import (
    MULTI_HEAD_LOSSES,
    compile_multi_head,
    inception_block,
    inception_classifier,
    multi_head,
    two_branch,
)


def dense_params(units_in: int, units_out: int) -> int:
    return (units_in + 1) * units_out


def conv_params(kernel: int, channels_in: int, filters: int) -> int:
    return (kernel * kernel * channels_in + 1) * filters


def inception_params(c: int, f1: int, r3: int, f3: int, r5: int, f5: int, fp: int) -> int:
    return (
        conv_params(1, c, f1)
        + conv_params(1, c, r3)
        + conv_params(3, r3, f3)
        + conv_params(1, c, r5)
        + conv_params(5, r5, f5)
        + conv_params(1, c, fp)
    )


# --- two inputs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text_size", "numeric_size", "text_units", "numeric_units", "head_units"),
    [(10_000, 8, 16, 8, 16), (64, 3, 5, 2, 7)],
)
def test_two_branch_parameter_count_and_shapes(
    text_size, numeric_size, text_units, numeric_units, head_units
):
    model = two_branch(text_size, numeric_size, text_units, numeric_units, head_units)
    expected = (
        dense_params(text_size, text_units)
        + dense_params(numeric_size, numeric_units)
        + dense_params(text_units + numeric_units, head_units)
        + dense_params(head_units, 1)
    )
    assert model.count_params() == expected
    assert [tuple(s) for s in model.input_shape] == [(None, text_size), (None, numeric_size)]
    assert tuple(model.output_shape) == (None, 1)
    assert tuple(model.get_layer("concatenate").output.shape) == (
        None,
        text_units + numeric_units,
    )


def two_branch_data(rng, n=128, text_size=64, numeric_size=4):
    text = (rng.random((n, text_size)) < 0.2).astype("float32")
    numeric = rng.normal(size=(n, numeric_size)).astype("float32")
    # The label needs both inputs: words 0-7 push it up, words 8-15 down, and so
    # does the first numeric feature.
    score = text[:, :8].sum(1) - text[:, 8:16].sum(1) + 1.5 * numeric[:, 0]
    return text, numeric, (score > 0).astype("float32")[:, None]


def test_two_branch_trains_and_round_trips(rng, assert_save_reload):
    text, numeric, y = two_branch_data(rng)
    model = two_branch(text_size=64, numeric_size=4)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    history = model.fit([text, numeric], y, epochs=3, batch_size=32, shuffle=False, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 3
    assert losses[-1] < 0.9 * losses[0], losses
    # A dict keyed by input name is the same as the list in order.
    np.testing.assert_allclose(
        model.predict({"text": text, "numeric": numeric}, verbose=0),
        model.predict([text, numeric], verbose=0),
        atol=1e-6,
    )
    assert_save_reload(model, [text, numeric])


# --- two outputs ----------------------------------------------------------------------


@pytest.mark.parametrize(("input_size", "trunk"), [(10_000, (16, 16)), (30, (7,)), (12, (5, 4, 3))])
def test_multi_head_parameter_count_and_shapes(input_size, trunk):
    model = multi_head(input_size, trunk)
    sizes = [input_size, *trunk]
    expected = sum(dense_params(a, b) for a, b in itertools.pairwise(sizes))
    expected += 2 * dense_params(trunk[-1], 1)
    assert model.count_params() == expected
    assert sorted(model.output_names) == ["rating", "sentiment"]
    assert tuple(model.get_layer("sentiment").output.shape) == (None, 1)
    assert tuple(model.get_layer("rating").output.shape) == (None, 1)
    x = np.zeros((3, input_size), "float32")
    outputs = model.predict(x, verbose=0)
    assert {name: value.shape for name, value in outputs.items()} == {
        "sentiment": (3, 1),
        "rating": (3, 1),
    }


def multi_head_data(rng, n=128, size=40):
    x = (rng.random((n, size)) < 0.25).astype("float32")
    score = x[:, :10].sum(1) - x[:, 10:20].sum(1)
    sentiment = (score > 0).astype("float32")[:, None]
    rating = (0.5 * score + 0.1 * rng.normal(size=n)).astype("float32")[:, None]
    return x, {"sentiment": sentiment, "rating": rating}


def test_multi_head_honours_loss_weights_and_round_trips(rng, assert_save_reload):
    x, y = multi_head_data(rng)
    weights = {"sentiment": 1.0, "rating": 0.25}
    model = compile_multi_head(
        multi_head(40, (16, 8)), weights, optimizer=keras.optimizers.Adam(0.01)
    )
    assert model.loss == MULTI_HEAD_LOSSES
    history = model.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0).history
    assert {"loss", "sentiment_loss", "rating_loss", "sentiment_accuracy", "rating_mae"} <= set(
        history
    )
    # The minimised loss is the weighted sum of the unweighted head losses.
    weighted = [
        weights["sentiment"] * s + weights["rating"] * r
        for s, r in zip(history["sentiment_loss"], history["rating_loss"], strict=True)
    ]
    np.testing.assert_allclose(history["loss"], weighted, rtol=1e-5)
    # The weights matter: the unweighted sum is clearly different.
    unweighted = np.add(history["sentiment_loss"], history["rating_loss"])
    assert np.all(np.abs(unweighted - history["loss"]) > 1e-2)
    for key in ("loss", "sentiment_loss", "rating_loss"):
        assert history[key][-1] < history[key][0], (key, history[key])
    assert_save_reload(model, x)


def test_compile_multi_head_refuses_unknown_heads():
    model = multi_head(8, (4,))
    with pytest.raises(ValueError, match=r"exactly the keys \['rating', 'sentiment'\]"):
        compile_multi_head(model, {"sentiment": 1.0})
    with pytest.raises(ValueError, match=r"non-negative number. Received: -1"):
        compile_multi_head(model, {"sentiment": 1.0, "rating": -1})


# --- parallel branches ----------------------------------------------------------------


# JAX compiles each weight initializer once per shape (about 0.5 s of CPU each), so the
# inception tests share one architecture: the defaults, with 3 classes.
DEFAULT_BLOCK = {
    "filters_1x1": 16,
    "filters_3x3_reduce": 16,
    "filters_3x3": 24,
    "filters_5x5_reduce": 4,
    "filters_5x5": 8,
    "filters_pool": 8,
}


def test_inception_classifier_parameter_count_and_shapes():
    model = inception_classifier((28, 28, 1), num_classes=3, stem_filters=16, block=DEFAULT_BLOCK)
    channels = 16 + 24 + 8 + 8
    expected = (
        conv_params(3, 1, 16)
        + inception_params(16, 16, 16, 24, 4, 8, 8)
        + dense_params(channels, 3)
    )
    assert model.count_params() == expected == 5_367
    assert tuple(model.output_shape) == (None, 3)
    # The stem halves 28x28; the block keeps height and width and stacks the branches.
    assert tuple(model.get_layer("inception_concat").output.shape) == (None, 14, 14, channels)
    # Each branch keeps the spatial size, which is what makes the concatenation possible.
    widths = {"1x1": 16, "3x3": 24, "5x5": 8, "pool_proj": 8}
    for branch, width in widths.items():
        shape = tuple(model.get_layer(f"inception_{branch}").output.shape)
        assert shape == (None, 14, 14, width)


def test_inception_block_on_raw_images():
    inputs = keras.Input(shape=(28, 28, 1))
    outputs = inception_block(inputs, 2, 2, 3, 1, 2, 1, name="tiny")
    model = keras.Model(inputs, outputs)
    assert tuple(model.output_shape) == (None, 28, 28, 2 + 3 + 2 + 1)
    assert model.count_params() == inception_params(1, 2, 2, 3, 1, 2, 1)


def bar_images(rng, n=96):
    """Noisy 28x28x1 images of a horizontal (0), vertical (1) or diagonal (2) bar.

    The bar's position is random, so the class is in local patterns that
    convolutions find and global pooling keeps.
    """
    labels = np.arange(n) % 3
    images = 0.2 * rng.random((n, 28, 28, 1)).astype("float32")
    span = np.arange(2, 26)
    for i, label in enumerate(labels):
        row, col = rng.integers(4, 24, size=2)
        if label == 0:
            images[i, row, span, 0] += 1.0
        elif label == 1:
            images[i, span, col, 0] += 1.0
        else:
            images[i, span, span, 0] += 1.0
    return images, labels.astype("int32")


def test_inception_classifier_trains_and_round_trips(rng, assert_save_reload):
    images, labels = bar_images(rng)
    model = inception_classifier(num_classes=3)
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(images, labels, epochs=3, batch_size=16, shuffle=False, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.8 * losses[0], losses
    assert_save_reload(model, images[:16])


# --- clear errors ---------------------------------------------------------------------


def test_errors_say_what_was_expected_and_received():
    with pytest.raises(
        ValueError, match=r"text_size must be a positive integer. Received: text_size=0"
    ):
        two_branch(text_size=0)
    with pytest.raises(
        ValueError, match=r"activation must be one of .* Received: activation='nope'"
    ):
        two_branch(activation="nope")
    with pytest.raises(
        ValueError, match=r"trunk must be a non-empty sequence .* Received: trunk=\(\)"
    ):
        multi_head(trunk=())
    with pytest.raises(ValueError, match=r"expects a 4D .* Received: shape=\(None, 5\)"):
        inception_block(keras.Input(shape=(5,)))
    with pytest.raises(
        ValueError, match=r"num_classes must be an integer >= 2. Received: num_classes=1"
    ):
        inception_classifier(num_classes=1)
    with pytest.raises(ValueError, match=r"input_shape must be \(height, width, channels\)"):
        inception_classifier(input_shape=(28, 28))
