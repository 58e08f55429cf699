"""The sparse first layer computes exactly what Dense on the multi-hot vector computes."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from anykeras import ClassifierSpec, build
from anykeras.builders.sparse import build_sparse
from anykeras.data.encoding import multi_hot, pad, unique_ids
from anykeras.data.synthetic import imdb_like
from anykeras.layers import SparseDense
from anykeras.training import compile_model

NUM_TOKENS = 50


def sequences(rng: np.random.Generator, n: int = 24, num_tokens: int = NUM_TOKENS) -> list:
    """Ragged ids in [1, num_tokens) with many repeats, one empty row, one long row."""
    rows = [rng.integers(1, num_tokens, size=rng.integers(1, 30)).tolist() for _ in range(n)]
    rows[3] = []
    rows[5] = [7] * 12 + [9, 7]
    rows[6] = list(range(1, num_tokens))
    return rows


def dense_and_sparse(spec: ClassifierSpec, **sparse_kwargs):
    dense = build(spec, "functional")
    sparse = build_sparse(spec, **sparse_kwargs)
    sparse.set_weights(dense.get_weights())
    return dense, sparse


# --- unique_ids ---------------------------------------------------------------------


def test_unique_ids_rows_stand_for_the_same_multi_hot_vectors(rng):
    seqs = sequences(rng)
    ids = unique_ids(seqs, NUM_TOKENS)
    assert ids.dtype == np.int32
    assert ids.shape == (len(seqs), NUM_TOKENS - 1)  # row 6 holds every id but the pad
    np.testing.assert_array_equal(multi_hot(ids, NUM_TOKENS)[:, 1:], multi_hot(seqs, 50)[:, 1:])
    for row, seq in zip(ids, seqs, strict=True):
        distinct = sorted(set(seq))
        assert row[: len(distinct)].tolist() == distinct
        assert (row[len(distinct) :] == 0).all()


def test_unique_ids_drops_the_pad_id_and_pads_to_maxlen():
    assert unique_ids([[0, 2, 0, 2]], num_tokens=3).tolist() == [[2]]
    assert unique_ids([[2, 1]], num_tokens=3, maxlen=4, pad_id=-1).tolist() == [[1, 2, -1, -1]]
    assert unique_ids(np.array([[4, 4], [1, 0]]), num_tokens=5).tolist() == [[4], [1]]
    assert unique_ids([], num_tokens=5).shape == (0, 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sequences": [[1, 5]], "num_tokens": 5}, "every id must be in \\[0, num_tokens=5\\)"),
        ({"sequences": [[-1]], "num_tokens": 5}, "Received an id of -1"),
        ({"sequences": [[1, 2, 3]], "num_tokens": 5, "maxlen": 2}, "a row has 3"),
        ({"sequences": [[1]], "num_tokens": 0}, "num_tokens must be a positive integer"),
        ({"sequences": [[1]], "num_tokens": 5, "maxlen": -1}, "maxlen must be None or"),
    ],
)
def test_unique_ids_errors_say_expected_and_received(kwargs, message):
    with pytest.raises(ValueError, match=message):
        unique_ids(**kwargs)


# --- the layer ----------------------------------------------------------------------


@pytest.mark.parametrize("activation", [None, "relu", "tanh"])
def test_layer_equals_dense_on_multi_hot_with_repeats_and_padding(rng, activation):
    seqs = sequences(rng)
    dense = keras.layers.Dense(6, activation=activation)
    dense.build((None, NUM_TOKENS))
    dense.set_weights([rng.normal(size=(NUM_TOKENS, 6)), rng.normal(size=(6,))])
    expected = keras.ops.convert_to_numpy(dense(multi_hot(seqs, NUM_TOKENS)))

    layer = SparseDense(6, num_tokens=NUM_TOKENS, activation=activation)
    layer.build((None, None))
    layer.set_weights(dense.get_weights())
    got = keras.ops.convert_to_numpy(layer(pad(seqs)))  # raw ids: repeats and pad 0
    np.testing.assert_allclose(got, expected, atol=1e-5)

    fast = SparseDense(6, num_tokens=NUM_TOKENS, activation=activation, deduplicate=False)
    fast.build((None, None))
    fast.set_weights(dense.get_weights())
    got = keras.ops.convert_to_numpy(fast(unique_ids(seqs, NUM_TOKENS)))
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_layer_with_a_pad_id_outside_the_vocabulary(rng):
    seqs = sequences(rng)
    layer = SparseDense(3, num_tokens=NUM_TOKENS, pad_id=-1, kernel_initializer="ones")
    got = keras.ops.convert_to_numpy(layer(pad(seqs, pad_id=-1)))
    distinct = np.array([len(set(s)) for s in seqs], dtype="float32")
    np.testing.assert_allclose(got, np.repeat(distinct[:, None], 3, axis=1))


def test_without_deduplication_a_repeat_counts_twice():
    """The documented contract of deduplicate=False: the caller removes repeats."""
    layer = SparseDense(1, num_tokens=4, deduplicate=False, kernel_initializer="ones")
    assert keras.ops.convert_to_numpy(layer(np.array([[2, 2, 0]]))).tolist() == [[2.0]]
    layer = SparseDense(1, num_tokens=4, kernel_initializer="ones")
    assert keras.ops.convert_to_numpy(layer(np.array([[2, 2, 0]]))).tolist() == [[1.0]]


def test_layer_config_round_trip():
    layer = SparseDense(
        5, num_tokens=30, activation="tanh", pad_id=-1, deduplicate=False, name="first"
    )
    config = layer.get_config()
    assert config["units"] == 5
    assert config["num_tokens"] == 30
    assert config["activation"] == "tanh"
    assert config["pad_id"] == -1
    assert config["deduplicate"] is False
    clone = SparseDense.from_config(config)
    assert clone.get_config() == config
    assert keras.saving.get_registered_name(SparseDense) == "anykeras>SparseDense"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"units": 0, "num_tokens": 3}, "units must be a positive integer. Received: units=0"),
        ({"units": 2, "num_tokens": True}, "num_tokens must be a positive integer"),
        ({"units": 2, "num_tokens": 3, "pad_id": 0.5}, "pad_id must be an integer"),
        ({"units": 2, "num_tokens": 3, "deduplicate": 1}, "deduplicate must be True or False"),
    ],
)
def test_layer_argument_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SparseDense(**kwargs)


def test_layer_rejects_inputs_that_are_not_padded_or_packed_ids():
    with pytest.raises(ValueError, match=r"\(batch, 2, width\).*Received: input_shape=\(2, 3, 4\)"):
        SparseDense(2, num_tokens=3).build((2, 3, 4))
    with pytest.raises(ValueError, match=r"deduplicate=False\. Received: deduplicate=True"):
        SparseDense(2, num_tokens=3).build((2, 2, 4))


# --- the model ----------------------------------------------------------------------

SPECS = [
    ClassifierSpec(input_shape=(NUM_TOKENS,), hidden=(16, 16)),
    ClassifierSpec(input_shape=(NUM_TOKENS,), hidden=(8,), activation="tanh"),
    ClassifierSpec(input_shape=(NUM_TOKENS,), hidden=(), task="multiclass", num_classes=4),
    ClassifierSpec(input_shape=(NUM_TOKENS,), hidden=(8, 8), task="regression", dropout=0.5),
]


@pytest.mark.parametrize("spec", SPECS, ids=["imdb", "tanh", "no-hidden", "dropout"])
def test_sparse_model_has_the_dense_models_layers_and_weights(spec):
    dense, sparse = dense_and_sparse(spec)
    assert [layer.name for layer in sparse.layers[1:]] == [layer.name for layer in dense.layers[1:]]
    assert [tuple(w.shape) for w in sparse.weights] == [tuple(w.shape) for w in dense.weights]
    assert sparse.count_params() == dense.count_params()
    assert isinstance(sparse.layers[1], SparseDense)


@pytest.mark.parametrize("spec", SPECS, ids=["imdb", "tanh", "no-hidden", "dropout"])
def test_sparse_model_predicts_what_the_dense_model_predicts(rng, spec):
    seqs = sequences(rng)
    dense, sparse = dense_and_sparse(spec)
    expected = dense.predict(multi_hot(seqs, NUM_TOKENS), verbose=0)
    np.testing.assert_allclose(sparse.predict(pad(seqs), verbose=0), expected, atol=1e-5)
    # and the other way round: the dense model takes the sparse model's weights
    dense_again = build(spec, "sequential")
    dense_again.set_weights(sparse.get_weights())
    np.testing.assert_allclose(
        dense_again.predict(multi_hot(seqs, NUM_TOKENS), verbose=0), expected, atol=1e-6
    )


@pytest.mark.parametrize("deduplicate", [True, False])
def test_one_rmsprop_step_gives_the_same_weights(rng, deduplicate):
    spec = SPECS[0]
    seqs = sequences(rng)
    y = rng.integers(0, 2, size=(len(seqs), 1)).astype("float32")
    dense, sparse = dense_and_sparse(spec, deduplicate=deduplicate)
    start = [w.copy() for w in dense.get_weights()]
    compile_model(dense, spec)
    compile_model(sparse, spec)
    dense_logs = dense.train_on_batch(multi_hot(seqs, NUM_TOKENS), y, return_dict=True)
    ids = pad(seqs) if deduplicate else unique_ids(seqs, NUM_TOKENS)
    sparse_logs = sparse.train_on_batch(ids, y, return_dict=True)

    assert sparse_logs == pytest.approx(dense_logs, abs=1e-5)
    moved = [not np.allclose(a, b) for a, b in zip(start, dense.get_weights(), strict=True)]
    assert all(moved), "the step must change every weight, or the comparison proves nothing"
    for got, expected in zip(sparse.get_weights(), dense.get_weights(), strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_histories_agree_over_epochs():
    (x, y), _ = imdb_like(num_train=300, num_test=0, num_words=200, seed=1)
    spec = ClassifierSpec(input_shape=(200,), hidden=(16, 16))
    dense, sparse = dense_and_sparse(spec, deduplicate=False)
    compile_model(dense, spec)
    compile_model(sparse, spec)
    kwargs = {"epochs": 3, "batch_size": 64, "shuffle": False, "verbose": 0}
    expected = dense.fit(multi_hot(x, 200), y, **kwargs).history
    got = sparse.fit(unique_ids(x, 200), y, **kwargs).history
    assert sorted(got) == sorted(expected) == ["accuracy", "loss"]
    for key, values in expected.items():
        np.testing.assert_allclose(got[key], values, atol=1e-5)
    for got_w, expected_w in zip(sparse.get_weights(), dense.get_weights(), strict=True):
        np.testing.assert_allclose(got_w, expected_w, atol=1e-5)


def test_sparse_model_saves_and_loads(assert_save_reload, rng):
    _, sparse = dense_and_sparse(SPECS[0], pad_id=0, deduplicate=True)
    loaded = assert_save_reload(sparse, pad(sequences(rng)))
    assert isinstance(loaded.layers[1], SparseDense)


def test_build_sparse_needs_one_vector_per_sample():
    with pytest.raises(ValueError, match=r"input_shape=\(num_tokens,\). Received: input_shape="):
        build_sparse(ClassifierSpec(input_shape=(28, 28)))
    with pytest.raises(TypeError, match=r"spec must be a ClassifierSpec\. Received: dict"):
        build_sparse({"input_shape": (10,)})
