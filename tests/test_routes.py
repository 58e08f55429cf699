"""The routes give the course's results: compact bit for bit, sparse to rounding."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from anykeras import RunConfig, train_and_evaluate
from anykeras.builders import build
from anykeras.data.encoding import unique_ids
from anykeras.spec import ROUTES, ClassifierSpec
from anykeras.speed import FASTEST, SPARSE_LAYOUTS, choose_route, get_route, ids_from_rows
from anykeras.training import PLAIN, TrainConfig, compile_model
from anykeras.training.recipes import get_recipe, quick

BACKEND = keras.backend.backend()


@pytest.fixture(scope="module")
def data():
    return quick(get_recipe("imdb")).dataset()


@pytest.fixture(scope="module")
def recipe(data):
    """Quick IMDB: 2,000 synthetic reviews, 10,000 words, 3 epochs, a quarter held out."""
    return RunConfig(recipe="imdb", quick=True, epochs=3, data=data, route="plain")


@pytest.fixture(scope="module")
def plain(recipe):
    return train_and_evaluate(recipe)


def assert_same_weights(got, expected, atol):
    assert len(got) == len(expected)
    for got_w, expected_w in zip(got, expected, strict=True):
        assert got_w.shape == expected_w.shape
        np.testing.assert_allclose(got_w, expected_w, rtol=0, atol=atol)


def test_compact_route_gives_the_plain_results_bit_for_bit(recipe, data, plain):
    compact = train_and_evaluate(recipe.replace(route="compact"))
    assert compact.route == "compact"
    assert compact.history == plain.history
    assert compact.best_epoch == plain.best_epoch
    assert compact.test_metrics == plain.test_metrics
    assert_same_weights(compact.model.get_weights(), plain.model.get_weights(), atol=0)


@pytest.mark.parametrize(("style", "layout"), [("functional", "packed"), ("subclassed", "padded")])
def test_sparse_route_gives_the_plain_results_and_a_dense_model(recipe, data, plain, style, layout):
    """Both layouts, on every backend: the seeded order makes packed batches exact everywhere."""
    recipe = recipe.replace(style=style)
    plain_style = plain if style == "functional" else train_and_evaluate(recipe)
    sparse = train_and_evaluate(recipe.replace(route=get_route("sparse").__class__(layout)))
    assert sorted(sparse.history) == sorted(plain_style.history)
    for key, values in plain_style.history.items():
        assert len(sparse.history[key]) == 3
        np.testing.assert_allclose(sparse.history[key], values, rtol=0, atol=1e-5, err_msg=key)
    assert sparse.best_epoch == plain_style.best_epoch
    for key, value in plain_style.test_metrics.items():
        assert sparse.test_metrics[key] == pytest.approx(value, abs=1e-5), key
    assert_same_weights(sparse.model.get_weights(), plain_style.model.get_weights(), atol=1e-5)
    # What comes back is the course's dense model, in the style asked for.
    assert sparse.model.get_weights()[0].shape == (10_000, 16)
    assert (style == "subclassed") == (type(sparse.model).__name__ == "Classifier")


@pytest.mark.parametrize("route", ["compact", "sparse"])
def test_reuters_routes_give_the_plain_results(route):
    """46 classes, integer labels, 64-unit layers: the same agreement as IMDB's."""
    reuters = RunConfig(recipe="reuters", quick=True, style="sequential", epochs=2,
                        retrain_epochs=1, route="plain")  # fmt: skip
    reuters = reuters.replace(data=reuters.base_recipe().dataset())
    plain = train_and_evaluate(reuters)
    fast = train_and_evaluate(reuters.replace(route=route))
    atol = 0 if route == "compact" else 1e-5
    for key, values in plain.history.items():
        np.testing.assert_allclose(fast.history[key], values, rtol=0, atol=atol, err_msg=key)
    for key, value in plain.test_metrics.items():
        assert fast.test_metrics[key] == pytest.approx(value, abs=atol), key
    assert_same_weights(fast.model.get_weights(), plain.model.get_weights(), atol=atol)


def test_each_route_gets_its_own_inputs(data):
    rows = data.x_train
    assert rows.dtype == np.uint8
    assert rows.shape == (2000, 10_000)
    assert PLAIN.inputs(rows).dtype == np.float32
    assert get_route("compact").inputs(rows) is rows
    ids = get_route("sparse").inputs(rows)
    assert ids.dtype == np.int32
    assert ids.shape[0] == 2000
    # The sparse ids hold the same words as the multi-hot rows.
    rebuilt = np.zeros_like(rows)
    rebuilt[np.arange(2000)[:, None], ids] = 1
    rebuilt[:, 0] = 0  # the pad id, never a word
    np.testing.assert_array_equal(rebuilt, rows)
    # Test data goes to the dense model the route hands back: rows stay rows.
    assert get_route("sparse").inputs(rows, training=False) is rows


def test_ids_from_rows_equal_unique_ids():
    sequences = [[3, 1, 3, 7], [], [2, 0, 5]]
    rows = np.zeros((3, 8), dtype="uint8")
    for i, seq in enumerate(sequences):
        rows[i, seq] = 1
    np.testing.assert_array_equal(ids_from_rows(rows), unique_ids(sequences, 8))


def test_recipes_that_are_not_words_take_only_the_plain_route():
    housing = RunConfig(recipe="housing", quick=True, folds=None)
    data = housing.base_recipe().dataset()
    assert data.x_train.dtype == np.float32
    with pytest.raises(ValueError, match=r"the compact route reads multi-hot word rows"):
        housing.replace(route="compact")  # the recipe's rows: refused before they are read
    mine = RunConfig(spec=housing.model_spec(), data=data, validation_size=0.25)
    with pytest.raises(ValueError, match=r"needs multi-hot word rows.*dtype float32"):
        train_and_evaluate(mine.replace(route="compact"))  # your rows: checked once read
    imdb = RunConfig(recipe="imdb", quick=True, folds=2, validation_size=None)
    with pytest.raises(ValueError, match="k-fold validation takes the plain route"):
        train_and_evaluate(imdb.replace(route="compact"))


def test_auto_takes_the_fastest_route_measured_for_the_backend():
    assert set(FASTEST) == set(SPARSE_LAYOUTS) == {"jax", "torch", "tensorflow"}
    assert set(FASTEST.values()) <= set(ROUTES)
    route, reason = choose_route(words=True)
    assert route.name == FASTEST[BACKEND]
    assert reason == f"the fastest on {BACKEND} with the same results"
    route, reason = choose_route(words=False)
    assert (route, reason) == (PLAIN, "the only route for inputs that are not words")


def test_auto_avoids_the_sparse_route_when_checkpoints_must_be_dense():
    route, reason = choose_route(words=True, backend="jax", checkpoint=True)
    assert route.name == "compact"
    assert "checkpoints a dense model" in reason
    route, reason = choose_route(True, "compact", checkpoint=True)
    assert (route.name, reason) == ("compact", "asked for")


@pytest.mark.parametrize(
    ("words", "requested", "checkpoint", "message"),
    [
        (
            True,
            "fast",
            False,
            r"route must be one of \('plain', 'compact', 'sparse'\)\. Received: route='fast'",
        ),
        (False, "sparse", False, r"needs multi-hot word inputs.*Received: route='sparse'"),
        (True, "sparse", True, "use route 'compact' with checkpoints"),
    ],
)
def test_choose_route_refuses_what_cannot_run(words, requested, checkpoint, message):
    with pytest.raises(ValueError, match=message):
        choose_route(words, requested, checkpoint=checkpoint)


@pytest.mark.parametrize("layout", ["padded", "packed"])
def test_sparse_model_starts_from_the_plain_weights_and_delivers_them(layout):
    spec = ClassifierSpec(input_shape=(30,), hidden=(4, 3))
    route = get_route("sparse").__class__(layout)
    dense = build(spec, "sequential")
    sparse = route.model(spec, "sequential", dense)
    assert sparse.input_shape == ((None, 2, None) if layout == "packed" else (None, None))
    assert_same_weights(sparse.get_weights(), dense.get_weights(), atol=0)
    config = TrainConfig(loss="mse")
    delivered = route.deliver(sparse, spec, "sequential", lambda m: compile_model(m, spec, config))
    assert delivered.input_shape == (None, 30)
    assert delivered.loss == "mse"
    assert_same_weights(delivered.get_weights(), dense.get_weights(), atol=0)


def test_only_the_sparse_route_asks_for_xla_and_steps_per_call_and_only_on_tensorflow():
    assert PLAIN.compile_options() == get_route("compact").compile_options() == {}
    tensorflow = {"jit_compile": True, "steps_per_execution": 32}
    assert get_route("sparse").compile_options() == (tensorflow if BACKEND == "tensorflow" else {})
    assert get_route("sparse").layout == SPARSE_LAYOUTS[BACKEND]
