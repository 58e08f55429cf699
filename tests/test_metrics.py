"""anykeras.metrics: the ops-written RMSE metric and binary crossentropy equal Keras's own."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from anykeras.metrics import BinaryCrossentropy, RootMeanSquaredError


def to_numpy(value):
    return keras.ops.convert_to_numpy(value)


# (y_true shape, y_pred shape, sample_weight shape or None); a trailing axis of 1 may differ.
RMSE_CASES = [
    ((8, 3), (8, 3), None),
    ((8, 3), (8, 3), (8,)),
    ((8, 3), (8, 3), (8, 3)),
    ((8, 3), (8, 3), ()),
    ((8,), (8, 1), None),
    ((8,), (8, 1), (8,)),
    ((8, 1), (8,), (8, 1)),
    ((8, 2, 3), (8, 2, 3), (8, 2)),
    ((8,), (8,), None),
]


@pytest.mark.parametrize(("true_shape", "pred_shape", "weight_shape"), RMSE_CASES)
def test_rmse_equals_keras_over_several_updates(rng, true_shape, pred_shape, weight_shape):
    ours, theirs = RootMeanSquaredError(), keras.metrics.RootMeanSquaredError()
    for _ in range(3):
        y_true = rng.normal(size=true_shape).astype("float32")
        y_pred = rng.normal(size=pred_shape).astype("float32")
        weight = None if weight_shape is None else rng.uniform(0, 2, size=weight_shape)
        ours.update_state(y_true, y_pred, sample_weight=weight)
        theirs.update_state(y_true, y_pred, sample_weight=weight)
        np.testing.assert_allclose(to_numpy(ours.result()), to_numpy(theirs.result()), atol=1e-6)
    # The state itself matches, not only its square root.
    np.testing.assert_allclose(
        [to_numpy(v) for v in ours.variables], [to_numpy(v) for v in theirs.variables], rtol=1e-6
    )


def test_rmse_state_accumulates_and_resets():
    metric = RootMeanSquaredError()
    assert [v.name for v in metric.variables] == ["total", "count"]
    assert float(to_numpy(metric.result())) == 0.0
    metric.update_state(np.array([[1.0], [3.0]]), np.array([[0.0], [0.0]]))  # squares 1, 9
    np.testing.assert_allclose(to_numpy(metric.result()), np.sqrt(5.0), rtol=1e-6)
    metric.update_state(np.array([[2.0]]), np.array([[0.0]]), sample_weight=np.array([3.0]))
    np.testing.assert_allclose(to_numpy(metric.result()), np.sqrt((1 + 9 + 3 * 4) / 5), rtol=1e-6)
    metric.reset_state()
    assert [float(to_numpy(v)) for v in metric.variables] == [0.0, 0.0]
    assert float(to_numpy(metric.result())) == 0.0


def test_rmse_refuses_weights_of_higher_rank_than_the_errors():
    with pytest.raises(
        ValueError, match=r"sample_weight must broadcast .* Received: sample_weight"
    ):
        RootMeanSquaredError().update_state(np.zeros(4), np.zeros(4), np.ones((4, 2, 2)))


def test_rmse_config_round_trips():
    metric = RootMeanSquaredError(name="rmse", dtype="float16")
    config = metric.get_config()
    assert config == {"name": "rmse", "dtype": "float16"}
    clone = RootMeanSquaredError.from_config(config)
    assert (clone.name, clone.dtype) == ("rmse", "float16")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(metric))
    assert isinstance(restored, RootMeanSquaredError)
    assert restored.name == "rmse"


@pytest.mark.parametrize(
    ("kwargs", "true_shape", "pred_shape", "weight_shape"),
    [
        ({}, (16, 1), (16, 1), None),
        ({}, (16,), (16, 1), (16,)),
        ({}, (16, 4), (16, 4), (16,)),
        ({"from_logits": True}, (16, 4), (16, 4), (16,)),
        ({"label_smoothing": 0.2}, (16, 1), (16, 1), (16,)),
        ({"from_logits": True, "label_smoothing": 0.1}, (16, 3), (16, 3), None),
        ({"reduction": "sum"}, (16, 2), (16, 2), (16,)),
        ({"reduction": None}, (16, 2), (16, 2), None),
    ],
)
def test_binary_crossentropy_equals_keras(rng, kwargs, true_shape, pred_shape, weight_shape):
    y_true = rng.integers(0, 2, size=true_shape).astype("float32")
    if kwargs.get("from_logits"):
        y_pred = rng.normal(scale=3.0, size=pred_shape).astype("float32")
    else:  # probabilities, including a few saturated ones that must be clipped
        y_pred = rng.uniform(size=pred_shape).astype("float32")
        y_pred.flat[:2] = [0.0, 1.0]
    weight = None if weight_shape is None else rng.uniform(0, 2, size=weight_shape)
    ours = BinaryCrossentropy(**kwargs)(y_true, y_pred, sample_weight=weight)
    theirs = keras.losses.BinaryCrossentropy(**kwargs)(y_true, y_pred, sample_weight=weight)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), atol=1e-6)


def test_binary_crossentropy_config_round_trips_and_validates():
    loss = BinaryCrossentropy(from_logits=True, label_smoothing=0.1, name="bce")
    config = loss.get_config()
    assert config == {
        "name": "bce",
        "reduction": "sum_over_batch_size",
        "from_logits": True,
        "label_smoothing": 0.1,
    }
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(restored, BinaryCrossentropy)
    assert restored.get_config() == config
    with pytest.raises(ValueError, match=r"in \[0, 1\]. Received: label_smoothing=1.5"):
        BinaryCrossentropy(label_smoothing=1.5)


def _regressor():
    inputs = keras.Input((5,))
    hidden = keras.layers.Dense(4, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(1)(hidden))


def test_rmse_in_compile_gives_the_same_history_as_keras_rmse(rng):
    x = rng.normal(size=(50, 5)).astype("float32")
    y = (x @ rng.normal(size=(5, 1))).astype("float32")
    model = _regressor()
    model.compile(
        optimizer="rmsprop",
        loss="mse",
        metrics=[RootMeanSquaredError(name="ours"), keras.metrics.RootMeanSquaredError()],
    )
    history = model.fit(
        x, y, batch_size=16, epochs=3, validation_data=(x[:20], y[:20]), verbose=0
    ).history
    for prefix in ("", "val_"):
        np.testing.assert_allclose(
            history[f"{prefix}ours"], history[f"{prefix}root_mean_squared_error"], atol=1e-6
        )
    # An independent check: with fixed weights (the validation pass) the RMSE is the
    # root of the mean squared error, i.e. of the MSE loss weighted by batch size.
    np.testing.assert_allclose(history["val_ours"], np.sqrt(history["val_loss"]), rtol=1e-5)


def test_a_model_using_both_saves_and_loads_as_keras(rng, assert_save_reload):
    x = rng.normal(size=(40, 5)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    inputs = keras.Input((5,))
    outputs = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Dense(4)(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="rmsprop", loss=BinaryCrossentropy(), metrics=[RootMeanSquaredError()])
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)

    loaded = assert_save_reload(model, x)  # no custom_objects: both are registered

    assert isinstance(loaded.loss, BinaryCrossentropy)
    ours = model.evaluate(x, y, verbose=0, return_dict=True)
    theirs = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(theirs) == ["loss", "root_mean_squared_error"]
    np.testing.assert_allclose([theirs[k] for k in sorted(theirs)], [ours[k] for k in sorted(ours)])
