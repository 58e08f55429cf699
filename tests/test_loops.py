"""anykeras.loops: the hand-written train step and the loop from scratch train as `fit` does.

Every test runs on the current backend (each nox session has its own). From the same
initial weights and the same batches (shuffle=False), the custom-step model's History
must equal built-in `fit`'s, and the loop from scratch must reach `fit`'s epoch losses
and weights. 100 samples in batches of 32 leave a last batch of 4, so a loop that
averaged the batch losses without weighting them by size would fail.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import keras
import numpy as np
import pytest

import anykeras.loops
from anykeras import ClassifierSpec, build
from anykeras.loops import (
    BACKENDS,
    build_custom_step_model,
    custom_step_model_class,
    train_from_scratch,
    with_custom_step,
)

ATOL = 1e-5
NUM_TRAIN, NUM_VAL, BATCH_SIZE, EPOCHS = 100, 40, 32, 3
SPECS = {
    "binary": ClassifierSpec(input_shape=(20,), hidden=(8, 8), task="binary"),
    # Dropout too: the custom steps must carry the dropout seeds' state as `fit` does.
    "multiclass-dropout": ClassifierSpec(
        input_shape=(20,), hidden=(8,), task="multiclass", num_classes=4, dropout=0.25
    ),
}


def make_data(spec: ClassifierSpec, num: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(num, *spec.input_shape)).astype("float32")
    if spec.task == "binary":
        y = (x[:, 0] + 0.5 * rng.normal(size=num) > 0).astype("float32")
    else:
        y = rng.integers(0, spec.num_classes, size=num)
    return x, y


def compile_like_the_spec(model: keras.Model, spec: ClassifierSpec) -> keras.Model:
    model.compile(optimizer=keras.optimizers.RMSprop(), loss=spec.loss, metrics=spec.metrics)
    return model


def max_difference(a, b) -> float:
    return max(
        float(np.max(np.abs(np.asarray(u) - np.asarray(v)))) for u, v in zip(a, b, strict=True)
    )


@dataclasses.dataclass
class Reference:
    """Built-in `fit` from known initial weights: what the custom ways must reproduce."""

    spec: ClassifierSpec
    train: tuple
    validation: tuple
    initial_weights: list
    history: dict
    final_weights: list


@pytest.fixture(scope="module", params=list(SPECS))
def reference(request) -> Reference:
    keras.utils.set_random_seed(0)
    spec = SPECS[request.param]
    train, validation = make_data(spec, NUM_TRAIN, 1), make_data(spec, NUM_VAL, 2)
    model = compile_like_the_spec(build(spec, "functional"), spec)
    initial = model.get_weights()
    history = model.fit(
        *train,
        batch_size=BATCH_SIZE,
        epochs=EPOCHS,
        shuffle=False,
        validation_data=validation,
        verbose=0,
    ).history
    return Reference(spec, train, validation, initial, history, model.get_weights())


def test_custom_step_fit_equals_builtin_fit(reference):
    model = compile_like_the_spec(build_custom_step_model(reference.spec), reference.spec)
    model.set_weights(reference.initial_weights)
    history = model.fit(
        *reference.train,
        batch_size=BATCH_SIZE,
        epochs=EPOCHS,
        shuffle=False,
        validation_data=reference.validation,
        verbose=0,
    ).history

    assert sorted(history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert sorted(history) == sorted(reference.history)
    for key, expected in reference.history.items():
        assert len(history[key]) == EPOCHS
        np.testing.assert_allclose(history[key], expected, atol=ATOL, err_msg=key)
    assert len(model.get_weights()) == len(reference.final_weights)
    for got, expected in zip(model.get_weights(), reference.final_weights, strict=True):
        np.testing.assert_allclose(got, expected, atol=ATOL)
    # Training moved the weights: the comparison above is not between two no-ops.
    assert max_difference(reference.final_weights, reference.initial_weights) > 1e-3


def test_loop_from_scratch_equals_builtin_fit(reference):
    model = build(reference.spec, "functional")
    model.set_weights(reference.initial_weights)
    losses = train_from_scratch(
        model,
        *reference.train,
        loss=reference.spec.loss,
        optimizer=keras.optimizers.RMSprop(),
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
    )

    assert len(losses) == EPOCHS
    assert all(isinstance(value, float) for value in losses)
    np.testing.assert_allclose(losses, reference.history["loss"], atol=ATOL)
    for got, expected in zip(model.get_weights(), reference.final_weights, strict=True):
        np.testing.assert_allclose(got, expected, atol=ATOL)


def test_custom_step_honours_sample_weight_and_weighted_metrics():
    spec = SPECS["binary"]
    x, y = make_data(spec, NUM_TRAIN, 3)
    weights = np.random.default_rng(4).uniform(0.0, 2.0, size=NUM_TRAIN).astype("float32")
    histories, finals = [], []
    builtin = build(spec, "functional")
    initial = builtin.get_weights()
    for model in (builtin, build_custom_step_model(spec)):
        model.set_weights(initial)
        model.compile(optimizer="rmsprop", loss=spec.loss, weighted_metrics=["accuracy"])
        history = model.fit(
            x, y, sample_weight=weights, batch_size=BATCH_SIZE, epochs=2, shuffle=False, verbose=0
        )
        histories.append(history.history)
        finals.append(model.get_weights())

    assert sorted(histories[1]) == sorted(histories[0]) == ["accuracy", "loss"]
    for key in histories[0]:
        np.testing.assert_allclose(histories[1][key], histories[0][key], atol=ATOL, err_msg=key)
    for got, expected in zip(*finals, strict=True):
        np.testing.assert_allclose(got, expected, atol=ATOL)


def _regularized_sequential() -> keras.Sequential:
    return keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(5, activation="tanh", kernel_regularizer="l2", name="hidden"),
            keras.layers.Dense(1, name="output"),
        ]
    )


def test_weight_regularization_is_part_of_every_loss():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(50, 6)).astype("float32")
    y = rng.normal(size=(50, 1)).astype("float32")
    builtin = _regularized_sequential()
    initial = builtin.get_weights()
    builtin.compile(optimizer="adam", loss="mse")
    expected = builtin.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history

    custom = with_custom_step(_regularized_sequential())
    assert isinstance(custom, custom_step_model_class())
    custom.set_weights(initial)
    custom.compile(optimizer="adam", loss="mse")
    history = custom.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    np.testing.assert_allclose(history["loss"], expected["loss"], atol=ATOL)

    scratch = _regularized_sequential()
    scratch.set_weights(initial)
    losses = train_from_scratch(
        scratch, x, y, loss="mse", optimizer="adam", epochs=2, batch_size=16
    )
    np.testing.assert_allclose(losses, expected["loss"], atol=ATOL)
    for model in (custom, scratch):
        for got, want in zip(model.get_weights(), builtin.get_weights(), strict=True):
            np.testing.assert_allclose(got, want, atol=ATOL)


def test_loss_names_functions_and_instances_train_alike():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(20, 3)).astype("float64")  # cast to floatx, as fit does
    y = rng.normal(size=(20, 1))
    initial = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)]).get_weights()

    def squared_error(y_true, y_pred):  # a plain function: one loss per sample
        return keras.ops.mean(keras.ops.square(y_true - y_pred), axis=-1)

    results = []
    for loss in ("mse", "mean_squared_error", keras.losses.MeanSquaredError(), squared_error):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.set_weights(initial)
        losses = train_from_scratch(model, x, y, loss=loss, optimizer="sgd", epochs=2, batch_size=8)
        results.append((losses, model.get_weights()))
    for losses, weights in results[1:]:
        np.testing.assert_allclose(losses, results[0][0], atol=1e-6)
        for got, want in zip(weights, results[0][1], strict=True):
            np.testing.assert_allclose(got, want, atol=1e-6)


def test_epoch_loss_is_the_batch_losses_mean_weighted_by_batch_size():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(20, 3)).astype("float32")
    y = rng.normal(size=(20, 1)).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    kernel, bias = model.get_weights()
    # A learning rate of 0 keeps the weights, so each epoch's loss is the MSE over all
    # 20 samples; batches of 8, 8 and 4 averaged without weights would give another number.
    losses = train_from_scratch(
        model, x, y, loss="mse", optimizer=keras.optimizers.SGD(0.0), epochs=2, batch_size=8
    )
    errors = (x @ kernel + bias - y) ** 2
    np.testing.assert_allclose(losses, [errors.mean()] * 2, rtol=1e-5)
    unweighted = np.mean([errors[:8].mean(), errors[8:16].mean(), errors[16:].mean()])
    assert abs(unweighted - errors.mean()) > 1e-3


def test_custom_step_model_has_the_functional_layout():
    spec = ClassifierSpec(input_shape=(12,), hidden=(6, 4), task="multiclass", num_classes=3)
    model = build_custom_step_model(spec)
    functional = build(spec, "functional")
    assert type(model).__name__ == "CustomStepModel"
    assert type(model).train_step is not keras.Model.train_step
    assert type(model).test_step is not keras.Model.test_step
    assert [layer.name for layer in model.layers] == [layer.name for layer in functional.layers]
    assert [tuple(w.shape) for w in model.weights] == [tuple(w.shape) for w in functional.weights]
    assert [w.path for w in model.weights] == [w.path for w in functional.weights]
    model.set_weights(functional.get_weights())
    x = np.random.default_rng(7).normal(size=(5, 12)).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(x)),
        keras.ops.convert_to_numpy(functional(x)),
        atol=1e-6,
    )


def test_with_custom_step_reuses_the_layers_and_refuses_models_without_a_graph():
    sequential = build(SPECS["binary"], "sequential")
    model = with_custom_step(sequential, name="wrapped")
    assert model.name == "wrapped"
    assert [id(w) for w in model.weights] == [id(w) for w in sequential.weights]
    with pytest.raises(TypeError, match=r"Functional or Sequential .* Received: a Classifier"):
        with_custom_step(build(SPECS["binary"], "subclassed"))
    with pytest.raises(TypeError, match=r"must be a keras.Model. Received: str"):
        with_custom_step("functional")
    with pytest.raises(TypeError, match=r"must be a ClassifierSpec. Received: dict"):
        build_custom_step_model({"input_shape": (3,)})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, r"epochs must be a positive integer. Received: epochs=0"),
        ({"epochs": True}, r"Received: epochs=True"),
        ({"batch_size": 2.5}, r"batch_size must be a positive integer. Received: batch_size=2.5"),
        ({"y": np.zeros(3)}, r"same, non-zero number of samples. Received: len\(x\)=4, len\(y\)=3"),
        ({"loss": 3}, r"loss must be a keras.losses.Loss, .* Received: loss=3"),
    ],
)
def test_train_from_scratch_refuses_bad_arguments(kwargs, message):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    arguments = {"x": np.zeros((4, 2)), "y": np.zeros(4), "loss": "mse", **kwargs}
    with pytest.raises(ValueError, match=message):
        train_from_scratch(model, **arguments)


def test_train_from_scratch_refuses_an_unbuilt_model():
    with pytest.raises(ValueError, match=r"model must be built .* Received: an unbuilt Sequential"):
        train_from_scratch(
            keras.Sequential([keras.layers.Dense(1)]), np.zeros((4, 2)), np.zeros(4), loss="mse"
        )


def test_an_unknown_backend_gets_a_clear_error(monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "numpy")
    with pytest.raises(NotImplementedError, match=r"Received: keras.backend.backend\(\)='numpy'"):
        anykeras.loops.backend_module()


def test_the_running_backend_has_its_own_module():
    assert keras.backend.backend() in BACKENDS
    module = anykeras.loops.backend_module()
    assert module.__name__ == f"anykeras.loops.{keras.backend.backend()}"
    assert custom_step_model_class() is module.CustomStepModel


def _imported_top_level_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_each_loops_module_imports_only_its_own_backend():
    package = Path(anykeras.loops.__file__).parent
    backends = {*BACKENDS, "jaxlib"}
    assert _imported_top_level_modules(package / "__init__.py") & backends == set()
    for name in BACKENDS:
        imported = _imported_top_level_modules(package / f"{name}.py")
        assert imported & backends == {name}, name
