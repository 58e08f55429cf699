"""Reuters, Boston housing and MNIST loaders give exactly what keras.datasets gives."""

from __future__ import annotations

import dataclasses
import re

import keras
import keras.src.datasets.boston_housing as keras_boston_housing
import keras.src.datasets.mnist as keras_mnist
import keras.src.datasets.reuters as keras_reuters
import numpy as np
import pytest

from anykeras.data import _reading, boston_housing, mnist, reuters


def assert_same_split(ours, theirs):
    """Every array of ``(x_train, y_train), (x_test, y_test)`` is equal, dtypes included."""
    for (x_ours, y_ours), (x_theirs, y_theirs) in zip(ours, theirs, strict=True):
        assert x_ours.dtype == x_theirs.dtype
        assert x_ours.shape == x_theirs.shape
        assert y_ours.dtype == y_theirs.dtype
        np.testing.assert_array_equal(y_ours, y_theirs)
        if x_ours.dtype == object:
            assert all(a == b for a, b in zip(x_ours, x_theirs, strict=True))
        else:
            np.testing.assert_array_equal(x_ours, x_theirs)


def serve_to_keras(monkeypatch, keras_module, path):
    monkeypatch.setattr(keras_module, "get_file", lambda *args, **kwargs: str(path))


# --- Reuters ------------------------------------------------------------------------------


@pytest.fixture
def tiny_reuters(tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    x = np.empty(57, dtype=object)
    for i in range(len(x)):
        x[i] = rng.integers(1, 80, size=rng.integers(1, 30)).tolist()
    path = tmp_path / "reuters.npz"
    np.savez(path, x=x, y=rng.integers(0, 46, size=len(x)).astype(np.int64))
    trusted = reuters.NPZ.known_sha256 | {_reading.sha256(path)}
    monkeypatch.setattr(reuters, "NPZ", dataclasses.replace(reuters.NPZ, known_sha256=trusted))
    serve_to_keras(monkeypatch, keras_reuters, path)
    return path


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"num_words": 30, "test_split": 0.5},
        {"skip_top": 10, "maxlen": 20, "oov_char": None},
        {"start_char": None, "index_from": 0, "test_split": 0.0, "seed": 4},
    ],
    ids=str,
)
def test_reuters_matches_keras_on_a_tiny_file(tiny_reuters, kwargs):
    assert_same_split(
        reuters.load_data(tiny_reuters, **kwargs), keras.datasets.reuters.load_data(**kwargs)
    )


@pytest.mark.parametrize(
    "kwargs",
    [{"num_words": 10000}, {}, {"maxlen": 100, "skip_top": 5, "test_split": 0.3, "index_from": 1}],
    ids=str,
)
def test_reuters_matches_keras_on_the_real_file(shared_file, monkeypatch, kwargs):
    path = shared_file("reuters/reuters.npz")
    serve_to_keras(monkeypatch, keras_reuters, path)
    assert_same_split(reuters.load_data(**kwargs), keras.datasets.reuters.load_data(**kwargs))


def test_reuters_as_the_book_prints_it(shared_file):
    (x_train, y_train), (x_test, y_test) = reuters.load_data(
        shared_file("reuters/reuters.npz"), num_words=10000
    )
    assert (len(x_train), len(x_test)) == (8982, 2246)
    assert x_train[10] == [
        1, 245, 273, 207, 156, 53, 74, 160, 26, 14, 46, 296, 26, 39, 74, 2979,
        3554, 14, 46, 4689, 4329, 86, 61, 3499, 4795, 14, 61, 451, 4329, 17, 12,
    ]  # fmt: skip
    assert y_train[10] == 3
    assert y_train.dtype == np.int64
    assert set(np.unique(np.concatenate([y_train, y_test]))) == set(range(46))
    index = reuters.get_word_index(shared_file("reuters/reuters_word_index.json"))
    assert reuters.decode(x_train[0], index).startswith(
        "? ? ? said as a result of its december acquisition of space co"
    )
    assert reuters.get_label_names()[y_train[0]] == "earn"


def test_reuters_word_index_and_labels_match_keras(shared_file, monkeypatch):
    path = shared_file("reuters/reuters_word_index.json")
    serve_to_keras(monkeypatch, keras_reuters, path)
    index = reuters.get_word_index()
    assert index == keras.datasets.reuters.get_word_index()
    assert len(index) == 30_979
    assert reuters.get_label_names() == tuple(keras.datasets.reuters.get_label_names())
    assert len(reuters.get_label_names()) == 46


def test_reuters_decode():
    assert reuters.decode([1, 4, 2, 5], {"the": 1, "said": 2}) == "? the ? said"


@pytest.mark.parametrize("test_split", [-0.1, 1.0, 2, float("nan"), "0.2", None])
def test_bad_test_split(test_split):
    message = re.escape(
        f"test_split must be a finite number >= 0 and < 1. Received: test_split={test_split!r}"
    )
    with pytest.raises(ValueError, match=message):
        reuters.load_data(test_split=test_split)
    with pytest.raises(ValueError, match=message):
        boston_housing.load_data(test_split=test_split)


# --- Boston housing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs", [{}, {"test_split": 0.1, "seed": 3}, {"test_split": 0.0}], ids=str
)
def test_boston_housing_matches_keras(shared_file, monkeypatch, kwargs):
    serve_to_keras(
        monkeypatch, keras_boston_housing, shared_file("boston_housing/boston_housing.npz")
    )
    theirs = keras.datasets.boston_housing.load_data(**kwargs)
    assert_same_split(boston_housing.load_data(**kwargs), theirs)


def test_boston_housing_as_the_book_prints_it(shared_file):
    path = shared_file("boston_housing/boston_housing.npz")
    (x_train, y_train), (x_test, _) = boston_housing.load_data(path)
    assert x_train.shape == (404, 13)
    assert x_test.shape == (102, 13)
    assert x_train.dtype == y_train.dtype == np.float64
    np.testing.assert_array_equal(
        x_train[0], [1.23247, 0, 8.14, 0, 0.538, 6.142, 91.7, 3.9769, 4, 307, 21, 396.9, 18.72]
    )
    assert y_train[0] == 15.2


# --- MNIST --------------------------------------------------------------------------------


def test_mnist_matches_keras(shared_file, monkeypatch):
    serve_to_keras(monkeypatch, keras_mnist, shared_file("mnist/mnist.npz"))
    ours = mnist.load_data()
    assert_same_split(ours, keras.datasets.mnist.load_data())
    (x_train, y_train), (x_test, y_test) = ours
    assert x_train.shape == (60000, 28, 28)
    assert x_test.shape == (10000, 28, 28)
    assert x_train.dtype == y_train.dtype == np.uint8
    assert sorted(np.unique(y_test).tolist()) == list(range(10))
