"""The training paths give the course's results: compact bit for bit, sparse to rounding."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from anykeras.fastpath import fast_predict
from anykeras.paths import (
    FASTEST,
    PATHS,
    choose_path,
    deliver,
    encode_words,
    sparse_layout,
    train_config,
    training_model,
)
from anykeras.recipes import get_recipe, quick, train_and_evaluate
from anykeras.spec import ClassifierSpec
from anykeras.training import TrainConfig

BACKEND = keras.backend.backend()


@pytest.fixture(scope="module")
def recipe():
    """Quick IMDB: 2,000 synthetic reviews, 10,000 words, 3 epochs, a quarter held out."""
    imdb = quick(get_recipe("imdb"))
    return imdb.replace(config=imdb.config.replace(epochs=3))


@pytest.fixture(scope="module")
def plain(recipe):
    return train_and_evaluate(recipe, "functional", path="plain")


def assert_same_weights(got, expected, atol):
    assert len(got) == len(expected)
    for got_w, expected_w in zip(got, expected, strict=True):
        assert got_w.shape == expected_w.shape
        np.testing.assert_allclose(got_w, expected_w, rtol=0, atol=atol)


def test_compact_path_gives_the_plain_results_bit_for_bit(recipe, plain):
    compact = train_and_evaluate(recipe, "functional", path="compact")
    assert compact.history == plain.history
    assert compact.best_epoch == plain.best_epoch
    assert compact.test_metrics == plain.test_metrics
    assert_same_weights(compact.model.get_weights(), plain.model.get_weights(), atol=0)


@pytest.mark.parametrize("style", ["functional", "subclassed"])
def test_sparse_path_gives_the_plain_results_and_a_dense_model(recipe, plain, style):
    sparse = train_and_evaluate(recipe, style, path="sparse")
    assert sorted(sparse.history) == sorted(plain.history)
    for key, values in plain.history.items():
        assert len(sparse.history[key]) == 3
        np.testing.assert_allclose(sparse.history[key], values, rtol=0, atol=1e-5, err_msg=key)
    assert sparse.best_epoch == plain.best_epoch
    for key, value in plain.test_metrics.items():
        assert sparse.test_metrics[key] == pytest.approx(value, abs=1e-5), key
    assert_same_weights(sparse.model.get_weights(), plain.model.get_weights(), atol=1e-5)
    # What comes back is the course's dense model, in the style asked for.
    assert sparse.model.get_weights()[0].shape == (10_000, 16)
    assert (style == "subclassed") == (type(sparse.model).__name__ == "Classifier")
    x = get_recipe("imdb").spec.input_shape
    assert sparse.model.compute_output_shape((5, *x)) == (5, 1)


@pytest.mark.parametrize("path", ["compact", "sparse"])
def test_reuters_paths_give_the_plain_results(path):
    """46 classes, integer labels, 64-unit layers: the same agreement as IMDB's."""
    reuters = quick(get_recipe("reuters"))
    reuters = reuters.replace(config=reuters.config.replace(epochs=2), retrain_epochs=1)
    plain = train_and_evaluate(reuters, "sequential", path="plain")
    fast = train_and_evaluate(reuters, "sequential", path=path)
    atol = 0 if path == "compact" else 1e-5
    for key, values in plain.history.items():
        np.testing.assert_allclose(fast.history[key], values, rtol=0, atol=atol, err_msg=key)
    for key, value in plain.test_metrics.items():
        assert fast.test_metrics[key] == pytest.approx(value, abs=atol), key
    assert_same_weights(fast.model.get_weights(), plain.model.get_weights(), atol=atol)


def test_each_path_gets_its_own_inputs(recipe):
    compact, sparse = recipe.dataset("compact"), recipe.dataset("sparse")
    assert compact.x_train.dtype == np.uint8
    assert compact.x_train.shape == (2000, 10_000)
    assert sparse.x_train.dtype == np.int32
    assert sparse.x_train.shape[0] == 2000
    # The sparse ids hold the same words as the multi-hot rows.
    rebuilt = np.zeros_like(compact.x_train)
    rebuilt[np.arange(2000)[:, None], sparse.x_train] = 1
    rebuilt[:, 0] = 0  # the pad id, never a word
    np.testing.assert_array_equal(rebuilt, compact.x_train)
    # The model a sparse run hands back is dense: it is tested on multi-hot rows.
    np.testing.assert_array_equal(sparse.x_test, compact.x_test)
    np.testing.assert_array_equal(sparse.y_train, compact.y_train)


def test_recipes_that_are_not_words_take_only_the_plain_path():
    housing = quick(get_recipe("housing"))
    assert housing.dataset("plain").x_train.dtype == np.float32
    with pytest.raises(ValueError, match=r"needs multi-hot word inputs.*Received: path='compact'"):
        housing.dataset("compact")
    with pytest.raises(ValueError, match="k-fold recipes train on path 'plain'"):
        train_and_evaluate(housing, path="sparse", data=housing.dataset())


def test_auto_takes_the_fastest_path_measured_for_the_backend():
    assert set(FASTEST) == {"jax", "torch", "tensorflow"}
    assert set(FASTEST.values()) <= set(PATHS)
    path, reason = choose_path(words=True)
    assert path == FASTEST[BACKEND]
    assert reason == f"the fastest on {BACKEND} with the same results"
    assert choose_path(words=False) == ("plain", "the only path for inputs that are not words")


def test_auto_avoids_the_sparse_path_when_checkpoints_must_be_dense():
    path, reason = choose_path(words=True, backend="jax", checkpoint=True)
    assert path == "compact"
    assert "checkpoints a dense model" in reason
    assert choose_path(True, "compact", checkpoint=True) == ("compact", "asked for")


@pytest.mark.parametrize(
    ("words", "requested", "checkpoint", "message"),
    [
        (
            True,
            "fast",
            False,
            r"path must be one of \('plain', 'compact', 'sparse'\)\. "
            r"Received: path='fast'",
        ),
        (False, "sparse", False, r"needs multi-hot word inputs.*Received: path='sparse'"),
        (True, "sparse", True, "use path 'compact' with checkpoints"),
    ],
)
def test_choose_path_refuses_what_cannot_run(words, requested, checkpoint, message):
    with pytest.raises(ValueError, match=message):
        choose_path(words, requested, checkpoint=checkpoint)


def test_encode_words_refuses_an_unknown_path():
    with pytest.raises(ValueError, match="Received: path='dense'"):
        encode_words([[1]], 4, "dense")


def test_sparse_training_model_starts_from_the_plain_weights_and_delivers_them():
    spec = ClassifierSpec(input_shape=(30,), hidden=(4, 3))
    dense = training_model(spec, "sequential", 5, "plain")
    sparse = training_model(spec, "sequential", 5, "sparse")
    assert sparse.input_shape == ((None, 2, None) if BACKEND == "jax" else (None, None))
    assert_same_weights(sparse.get_weights(), dense.get_weights(), atol=0)
    delivered = deliver(sparse, spec, "sequential", "sparse", TrainConfig(loss="mse"))
    assert delivered.input_shape == (None, 30)
    assert delivered.loss == "mse"
    assert_same_weights(delivered.get_weights(), dense.get_weights(), atol=0)
    x = encode_words([[1, 7, 7], [29]], 30, "plain")
    ids = encode_words([[1, 7, 7], [29]], 30, "sparse")
    strategy = "packed" if sparse_layout() == "packed" else "arrays"
    np.testing.assert_allclose(
        delivered.predict(x, verbose=0),
        fast_predict(sparse, ids, strategy=strategy),
        rtol=0,
        atol=1e-6,
    )


def test_only_the_sparse_path_changes_the_training_config():
    config = TrainConfig(epochs=3)
    for backend in ("jax", "torch", "tensorflow"):
        assert train_config("plain", config, backend) == config
        assert train_config("compact", config, backend) == config
    assert train_config("sparse", config, "tensorflow") == config.replace(jit_compile=True)
    assert train_config("sparse", config, "torch") == config
    assert train_config("sparse", config, "jax") == config.replace(strategy="packed")
    assert sparse_layout() == ("packed" if BACKEND == "jax" else "padded")
