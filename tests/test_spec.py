"""ClassifierSpec: validation, derived head/loss/metrics, config round trip."""

from __future__ import annotations

import pytest

from anykeras import ClassifierSpec


@pytest.mark.parametrize(
    ("task", "num_classes", "units", "activation", "loss", "metrics"),
    [
        ("binary", None, 1, "sigmoid", "binary_crossentropy", ["accuracy"]),
        ("multiclass", 46, 46, "softmax", "sparse_categorical_crossentropy", ["accuracy"]),
        ("regression", None, 1, "linear", "mse", ["mae"]),
    ],
)
def test_head_loss_and_metrics_follow_from_the_task(
    task, num_classes, units, activation, loss, metrics
):
    spec = ClassifierSpec(input_shape=(10,), task=task, num_classes=num_classes)
    assert spec.output_units == units
    assert spec.output_activation == activation
    assert spec.loss == loss
    assert spec.metrics == metrics


def test_defaults_are_the_course_model():
    spec = ClassifierSpec(input_shape=(10000,))
    assert spec.hidden == (16, 16)
    assert spec.activation == "relu"
    assert spec.task == "binary"
    assert spec.dropout == 0.0


def test_sequences_are_normalised_to_tuples_and_the_spec_is_frozen_and_hashable():
    spec = ClassifierSpec(input_shape=[28, 28], hidden=[64])
    assert spec.input_shape == (28, 28)
    assert spec.hidden == (64,)
    assert ClassifierSpec(input_shape=7).input_shape == (7,)
    assert hash(spec) == hash(ClassifierSpec(input_shape=(28, 28), hidden=(64,)))
    with pytest.raises(AttributeError):
        spec.hidden = (1,)  # type: ignore[misc]


def test_no_hidden_layer_is_a_valid_spec():
    assert ClassifierSpec(input_shape=(4,), hidden=()).hidden == ()


def test_config_round_trip_and_replace():
    spec = ClassifierSpec(
        input_shape=(5, 3), hidden=(4, 2), task="multiclass", num_classes=3, dropout=0.5
    )
    assert ClassifierSpec.from_config(spec.to_config()) == spec
    assert spec.to_config()["hidden"] == [4, 2]
    assert spec.replace(activation="tanh").activation == "tanh"
    with pytest.raises(ValueError, match="dropout"):
        spec.replace(dropout=1.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"input_shape": ()},
            r"input_shape must be a non-empty tuple .* Received: input_shape=\(\)",
        ),
        ({"input_shape": (10, 0)}, r"Received: input_shape=\(10, 0\)"),
        ({"input_shape": (2.5,)}, r"Received: input_shape=\(2.5,\)"),
        ({"input_shape": "10"}, r"Received: input_shape='10'"),
        ({"input_shape": (True,)}, r"Received: input_shape=\(True,\)"),
        ({"hidden": (16, -3)}, r"hidden must be a sequence of positive integers.*\(16, -3\)"),
        ({"hidden": (16, 0)}, r"Received: hidden=\(16, 0\)"),
        ({"hidden": 16}, r"Received: hidden=16"),
        ({"activation": "relux"}, r"activation must be one of .* Received: activation='relux'"),
        ({"task": "ranking"}, r"task must be one of .* Received: task='ranking'"),
        ({"task": "multiclass"}, r"num_classes must be an integer >= 2\. Received: num_cl"),
        ({"task": "multiclass", "num_classes": 1}, r"Received: num_classes=1"),
        ({"task": "binary", "num_classes": 3}, r"only applies to task='multiclass'"),
        ({"dropout": 1.0}, r"dropout must be a finite number >= 0 and < 1\. Received: dropout=1.0"),
        ({"dropout": -0.1}, r"Received: dropout=-0.1"),
        ({"dropout": "0.5"}, r"Received: dropout='0.5'"),
        ({"seed": 1.5}, r"seed must be an integer. Received: seed=1.5"),
    ],
)
def test_invalid_specs_raise_value_error_naming_expected_and_received(kwargs, message):
    kwargs = {"input_shape": (10,), **kwargs}
    with pytest.raises(ValueError, match=message):
        ClassifierSpec(**kwargs)
