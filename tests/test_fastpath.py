"""The fast input path trains and predicts exactly what `model.fit` / `model.predict` do."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from anykeras import ClassifierSpec, build
from anykeras.data.encoding import multi_hot
from anykeras.data.synthetic import imdb_like
from anykeras.fastpath import (
    JIT_COMPILE,
    KNOWN,
    STRATEGIES,
    fast_fit,
    fast_predict,
    strategy_for,
    to_tensors,
)
from anykeras.sparse import build_sparse, unique_ids
from anykeras.training import compile_model

WORDS = 120
SPEC = ClassifierSpec(input_shape=(WORDS,), hidden=(16, 16))
DENSE = tuple(s for s in KNOWN if s != "packed")  # "packed" is for sparse models (test_packed)


@pytest.fixture(scope="module")
def data():
    (x, y), (x_val, y_val) = imdb_like(num_train=200, num_test=60, num_words=WORDS, seed=3)
    return (x, y.astype("float32")), (x_val, y_val.astype("float32"))


def twins(spec=SPEC, builder=build):
    """Two compiled models with the same initial weights."""
    first = builder(spec)
    second = builder(spec)
    second.set_weights(first.get_weights())
    return compile_model(first, spec), compile_model(second, spec)


@pytest.mark.parametrize("strategy", DENSE)
def test_history_and_weights_equal_fit_without_shuffle(data, strategy):
    (x, y), (x_val, y_val) = data
    x, x_val = multi_hot(x, WORDS), multi_hot(x_val, WORDS)
    reference, fast = twins()
    kwargs = {"epochs": 3, "batch_size": 64, "shuffle": False, "verbose": 0}
    expected = reference.fit(x, y, validation_data=(x_val, y_val), **kwargs).history
    got = fast_fit(fast, x, y, validation_data=(x_val, y_val), strategy=strategy, **kwargs)

    assert sorted(got.history) == sorted(expected)
    assert sorted(expected) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    for key, values in expected.items():
        assert len(got.history[key]) == 3
        np.testing.assert_allclose(got.history[key], values, atol=1e-5, err_msg=key)
    for got_w, expected_w in zip(fast.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(got_w, expected_w, atol=1e-5)


@pytest.mark.parametrize("style", ["functional", "sequential", "subclassed"])
def test_compact_uint8_multi_hot_trains_exactly_like_float32(data, style):
    """The fast path's compact input: the same 0/1 values, a quarter of the bytes."""
    (x, y), (x_val, y_val) = data
    floats, compact = multi_hot(x, WORDS), multi_hot(x, WORDS, dtype="uint8")
    val_floats, val_compact = multi_hot(x_val, WORDS), multi_hot(x_val, WORDS, dtype="uint8")
    reference, fast = twins(builder=lambda spec: build(spec, style))
    kwargs = {"epochs": 2, "batch_size": 64, "shuffle": False, "verbose": 0}
    expected = reference.fit(floats, y, validation_data=(val_floats, y_val), **kwargs).history
    got = fast_fit(fast, compact, y, validation_data=(val_compact, y_val), **kwargs).history
    for key, values in expected.items():
        np.testing.assert_allclose(got[key], values, atol=1e-5, err_msg=key)
    for got_w, expected_w in zip(fast.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(got_w, expected_w, atol=1e-5)
    np.testing.assert_allclose(
        fast_predict(fast, val_compact), reference.predict(val_floats, verbose=0), atol=1e-5
    )


def test_default_strategy_with_the_sparse_model_equals_dense_fit(data):
    (x, y), _ = data
    dense, _ = twins()
    sparse = build_sparse(SPEC, deduplicate=False)
    sparse.set_weights(dense.get_weights())
    compile_model(sparse, SPEC)
    kwargs = {"epochs": 2, "batch_size": 32, "shuffle": False, "verbose": 0}
    expected = dense.fit(multi_hot(x, WORDS), y, **kwargs).history
    got = fast_fit(sparse, unique_ids(x, WORDS), y, **kwargs).history
    for key, values in expected.items():
        np.testing.assert_allclose(got[key], values, atol=1e-5, err_msg=key)


@pytest.mark.parametrize("strategy", DENSE)
def test_shuffled_runs_train_every_batch_and_repeat_with_the_seed(data, strategy):
    (x, y), _ = data
    x = multi_hot(x, WORDS)

    class CountBatches(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.batches = 0

        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1

    histories = []
    for _ in range(2):
        keras.utils.set_random_seed(7)
        model = compile_model(build(SPEC), SPEC)
        counter = CountBatches()
        history = fast_fit(
            model, x, y, epochs=4, batch_size=48, verbose=0, callbacks=[counter], strategy=strategy
        )
        assert counter.batches == 4 * 5  # ceil(200 / 48) batches an epoch
        histories.append(history.history["loss"])
    assert histories[0][-1] < histories[0][0], "the loss must fall over 4 epochs"
    if strategy == "batches":  # shuffled by NumPy's generator, which the seed fixes
        np.testing.assert_allclose(histories[0], histories[1], atol=1e-6)


@pytest.mark.parametrize("strategy", DENSE)
def test_fast_predict_equals_predict(data, strategy):
    _, (x_val, _) = data
    x_val = multi_hot(x_val, WORDS)
    model = build(SPEC)
    expected = model.predict(x_val, batch_size=16, verbose=0)
    got = fast_predict(model, x_val, batch_size=16, strategy=strategy)
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_jit_compile_follows_the_backend_table_unless_given(data):
    (x, y), _ = data
    x = multi_hot(x, WORDS)
    model = compile_model(build(SPEC), SPEC)
    before = bool(model.jit_compile)
    fast_fit(model, x, y, batch_size=100, verbose=0)
    wanted = JIT_COMPILE.get(keras.backend.backend())
    assert bool(model.jit_compile) == (before if wanted is None else wanted)
    model = compile_model(build(SPEC), SPEC, jit_compile=False)
    fast_fit(model, x, y, batch_size=100, verbose=0, jit_compile=False)
    assert model.jit_compile is False


def test_strategy_table_covers_every_backend():
    assert set(STRATEGIES) == {"jax", "torch", "tensorflow"}
    for backend, tasks in STRATEGIES.items():
        assert set(tasks) == {"train", "predict"}
        assert strategy_for("train", backend) in KNOWN
        assert strategy_for("predict", backend) in KNOWN
    assert strategy_for("train", "numpy") == "arrays"
    with pytest.raises(ValueError, match=r"task must be 'train' or 'predict'\. Received: task='x'"):
        strategy_for("x")


def test_to_tensors_converts_once_and_keeps_integer_ids():
    floats, ids, nothing = to_tensors(np.zeros((2, 3), "float64"), np.ones((2, 4), "int32"), None)
    assert keras.backend.standardize_dtype(floats.dtype) == "float32"
    assert keras.backend.standardize_dtype(ids.dtype) == "int32"
    assert nothing is None
    (again,) = to_tensors(floats)
    assert again is floats


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y": np.zeros(3)}, "x and y must have the same number of samples. Received: 4 and 3"),
        ({"epochs": 0}, "epochs must be a positive integer. Received: epochs=0"),
        ({"batch_size": 2.5}, "batch_size must be a positive integer. Received: batch_size=2.5"),
        ({"strategy": "fastest"}, "strategy must be one of .*Received: strategy='fastest'"),
        ({"validation_data": (np.zeros((2, 3)),)}, "validation_data must be a pair"),
        ({"y": 3}, "y must be an array or tensor .* Received: y of type int"),
    ],
)
def test_fast_fit_errors_say_expected_and_received(kwargs, message):
    model = compile_model(build(ClassifierSpec(input_shape=(3,))), ClassifierSpec(input_shape=(3,)))
    arguments = {"x": np.zeros((4, 3), "float32"), "y": np.zeros(4, "float32"), "verbose": 0}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        fast_fit(model, **arguments)


def test_fast_predict_rejects_an_unknown_strategy():
    model = build(ClassifierSpec(input_shape=(3,)))
    with pytest.raises(ValueError, match="strategy must be one of"):
        fast_predict(model, np.zeros((2, 3), "float32"), strategy="gpu")
