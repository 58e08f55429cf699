"""The same model, three ways: shapes, parameters, predictions, training and files agree."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest

from anykeras import STYLES, ClassifierSpec, build
from anykeras.builders import Classifier
from anykeras.testing import assert_same_model
from anykeras.training import compile_model

SPECS = {
    "binary": ClassifierSpec(input_shape=(30,)),
    "multiclass": ClassifierSpec(input_shape=(30,), hidden=(12,), task="multiclass", num_classes=5),
    "regression": ClassifierSpec(input_shape=(13,), hidden=(8, 8, 8), task="regression"),
    "dropout": ClassifierSpec(input_shape=(30,), hidden=(16, 16), dropout=0.3),
    "tanh-one-layer": ClassifierSpec(input_shape=(30,), hidden=(32,), activation="tanh"),
    "no-hidden": ClassifierSpec(input_shape=(6, 5), hidden=(), task="multiclass", num_classes=3),
}


def random_specs(count: int, seed: int = 7) -> list[ClassifierSpec]:
    """Valid specs drawn at random: any of them must give three identical models."""
    rng = np.random.default_rng(seed)
    specs = []
    for _ in range(count):
        task = str(rng.choice(["binary", "multiclass", "regression"]))
        specs.append(
            ClassifierSpec(
                input_shape=tuple(int(d) for d in rng.integers(1, 9, size=rng.integers(1, 3))),
                hidden=tuple(int(u) for u in rng.integers(1, 40, size=rng.integers(0, 4))),
                activation=str(rng.choice(["relu", "tanh", "elu", "gelu"])),
                task=task,
                num_classes=int(rng.integers(2, 9)) if task == "multiclass" else None,
                dropout=float(rng.choice([0.0, 0.25])),
            )
        )
    return specs


def sample_data(spec: ClassifierSpec, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, *spec.input_shape)).astype("float32")
    if spec.task == "binary":
        y = rng.integers(0, 2, size=(n, 1)).astype("float32")
    elif spec.task == "multiclass":
        y = rng.integers(0, spec.num_classes, size=(n,))
    else:
        y = rng.normal(size=(n, 1)).astype("float32")
    return x, y


def same_three_models(spec: ClassifierSpec, x: np.ndarray) -> dict[str, keras.Model]:
    """The three styles, checked to be the same model; all three then hold one set of weights.

    `assert_same_model` checks the weights' order and shapes and, with the Sequential
    model's weights copied into the other two, the predictions on ``x``.
    """
    models = {style: build(spec, style) for style in STYLES}
    assert_same_model(*models.values(), x=x)
    return models


def layer_output_shapes(model: keras.Model, spec: ClassifierSpec) -> list[tuple]:
    """Output shape of each named hidden layer and of the head."""
    names = [f"hidden_{i}" for i in range(1, len(spec.hidden) + 1)] + ["output"]
    if isinstance(model, Classifier):
        layers = {layer.name: layer for layer in (*model.hidden_layers, model.head)}
        shapes, shape = [], (None, spec.input_size)
        for name in names:
            shape = layers[name].compute_output_shape(shape)
            shapes.append(tuple(shape))
        return shapes
    return [tuple(model.get_layer(name).output.shape) for name in names]


@pytest.mark.parametrize("spec", [*SPECS.values(), *random_specs(6)], ids=str)
def test_the_three_styles_are_the_same_model(spec):
    x, _ = sample_data(spec, 64)
    models = same_three_models(spec, x)
    widths = (spec.input_size, *spec.hidden, spec.output_units)
    expected_params = sum((fan_in + 1) * units for fan_in, units in itertools.pairwise(widths))
    expected_shapes = [(None, units) for units in widths[1:]]
    for model in models.values():
        assert model.count_params() == expected_params
        assert layer_output_shapes(model, spec) == expected_shapes
    predictions = models["functional"].predict(x, verbose=0)
    assert predictions.shape == (64, spec.output_units)
    if spec.task == "multiclass":
        np.testing.assert_allclose(predictions.sum(axis=-1), 1.0, atol=1e-5)


@pytest.mark.parametrize("spec", list(SPECS.values()), ids=list(SPECS))
def test_same_weights_and_data_order_give_the_same_training_history(spec):
    x, y = sample_data(spec, 96)
    x_val, y_val = sample_data(spec, 32, seed=1)
    histories, weights = {}, {}
    # Keras's fit, with validation and the spec's seeded dropout on (the kit's own
    # training steps switch dropout off), from the same weights.
    for style, model in same_three_models(spec, x).items():
        compile_model(model, spec, optimizer="rmsprop")
        history = model.fit(
            x, y, epochs=2, batch_size=32, shuffle=False, validation_data=(x_val, y_val), verbose=0
        )
        histories[style], weights[style] = history.history, model.get_weights()
    reference = histories["sequential"]
    assert set(reference) == {"loss", spec.metrics[0], "val_loss", f"val_{spec.metrics[0]}"}
    assert reference["loss"][1] != reference["loss"][0]  # it trained
    for style in STYLES:
        assert set(histories[style]) == set(reference)
        for key in reference:
            np.testing.assert_allclose(histories[style][key], reference[key], atol=1e-5)
        for got, want in zip(weights[style], weights["sequential"], strict=True):
            np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "spec", [SPECS["multiclass"], SPECS["dropout"]], ids=["multiclass", "dropout"]
)
def test_keras_file_round_trip_gives_identical_predictions(assert_save_reload, style, spec):
    model = build(spec, style)
    compile_model(model, spec)
    x, y = sample_data(spec, 32)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    loaded = assert_save_reload(model, x)
    assert loaded.count_params() == model.count_params()
    if style == "subclassed":
        assert loaded.spec == spec
    # The optimizer state comes back too, so training can go on from the file.
    assert loaded.optimizer.iterations.numpy() == model.optimizer.iterations.numpy() == 2


def test_unknown_style_and_wrong_spec_type_are_refused():
    spec = SPECS["binary"]
    with pytest.raises(ValueError, match=r"style must be one of .* Received: style='graph'"):
        build(spec, "graph")
    with pytest.raises(
        TypeError, match=r"spec must be a ClassifierSpec, ConvSpec or SequenceSpec\. Received: dict"
    ):
        build(spec.to_config(), "functional")


def test_subclassed_model_accepts_a_config_dict_and_round_trips_its_config():
    spec = SPECS["regression"]
    model = Classifier(spec.to_config())
    assert model.spec == spec
    clone = Classifier.from_config(model.get_config())
    assert clone.spec == spec
    assert clone.name == model.name
