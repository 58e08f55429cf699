"""Custom layers written with keras.ops: SimpleDense (stateful) and MultiHot (stateless)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from anykeras import MultiHot, SimpleDense


@pytest.mark.parametrize("activation", [None, "relu", "tanh", "sigmoid"])
def test_simple_dense_equals_keras_dense_with_the_same_weights(rng, activation):
    x = rng.normal(size=(7, 5)).astype("float32")
    ours = SimpleDense(3, activation=activation)
    theirs = keras.layers.Dense(3, activation=activation)
    ours.build(x.shape)
    theirs.build(x.shape)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    ours.set_weights([rng.normal(size=(5, 3)), rng.normal(size=(3,))])
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(ours(x)), keras.ops.convert_to_numpy(theirs(x)), atol=1e-6
    )


def test_simple_dense_is_stateful_and_trainable():
    layer = SimpleDense(4)
    assert layer.weights == []
    layer.build((None, 6))
    assert [tuple(w.shape) for w in layer.trainable_weights] == [(6, 4), (4,)]
    assert layer.compute_output_shape((None, 6)) == (None, 4)


def test_multi_hot_is_stateless_and_matches_numpy(rng):
    ids = rng.integers(0, 12, size=(5, 9))
    ids[:, 6:] = 0  # padding
    layer = MultiHot(num_tokens=12)
    assert layer.weights == []
    expected = np.zeros((5, 12), dtype="float32")
    for row, sequence in enumerate(ids):
        for token in sequence:
            if token != 0:
                expected[row, token] = 1.0
    got = keras.ops.convert_to_numpy(layer(ids))
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.float32


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        (lambda: SimpleDense(-3), r"units must be a positive integer. Received: units=-3"),
        (lambda: SimpleDense(2.0), r"Received: units=2.0"),
        (lambda: MultiHot(0), r"num_tokens must be a positive integer. Received: num_tokens=0"),
    ],
)
def test_bad_arguments_are_refused(layer, message):
    with pytest.raises(ValueError, match=message):
        layer()


def test_layers_serialize_and_round_trip_in_a_keras_file(assert_save_reload, rng):
    inputs = keras.Input(shape=(4,), dtype="int32")
    x = MultiHot(num_tokens=10, pad_id=0)(inputs)
    outputs = SimpleDense(2, activation="tanh", name="dense")(x)
    model = keras.Model(inputs, outputs)
    loaded = assert_save_reload(model, rng.integers(0, 10, size=(3, 4)).astype("int32"))
    assert loaded.get_layer("dense").get_config() == model.get_layer("dense").get_config()
