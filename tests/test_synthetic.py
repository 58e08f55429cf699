"""anykeras.data.synthetic: small deterministic data in the loaders' formats, with signal."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from anykeras.data import encoding, synthetic

MAKERS = {
    "imdb_like": lambda seed: synthetic.imdb_like(200, 50, num_words=1000, seed=seed),
    "reuters_like": lambda seed: synthetic.reuters_like(200, 50, num_words=1000, seed=seed),
    "housing_like": lambda seed: synthetic.housing_like(seed=seed),
    "mnist_like": lambda seed: synthetic.mnist_like(200, 50, seed=seed),
}


def arrays_equal(a, b):
    if a.dtype == object:
        return a.shape == b.shape and all(x == y for x, y in zip(a, b, strict=True))
    return a.dtype == b.dtype and np.array_equal(a, b)


@pytest.mark.parametrize("name", MAKERS)
def test_same_seed_same_data_other_seed_other_data(name):
    first, again, other = MAKERS[name](0), MAKERS[name](0), MAKERS[name](1)
    flat = [array for split in first for array in split]
    assert all(arrays_equal(a, b) for a, b in zip(flat, [a for s in again for a in s], strict=True))
    assert not arrays_equal(flat[0], other[0][0])


@pytest.mark.parametrize("name", ["imdb_like", "reuters_like"])
def test_word_sequences_look_like_load_data_with_num_words(name):
    (x_train, y_train), (x_test, y_test) = MAKERS[name](0)
    assert (len(x_train), len(x_test)) == (200, 50)
    for x, y in ((x_train, y_train), (x_test, y_test)):
        assert x.dtype == object
        assert x.ndim == 1
        assert y.dtype == np.int64
        assert all(type(s) is list and s[0] == 1 for s in x)
        assert all(type(i) is int for i in x[0])
        ids = np.concatenate([s[1:] for s in x])
        assert ids.min() >= 2  # 2 is out-of-vocabulary; real words start at 4
        assert 3 not in ids
        assert ids.max() < 1000
    if name == "imdb_like":
        assert set(y_train.tolist()) == {0, 1}
    else:
        (_, labels), _ = synthetic.reuters_like(460, 0)
        assert set(labels.tolist()) == set(range(46))


def test_housing_like_looks_like_boston_housing():
    (x_train, y_train), (x_test, y_test) = synthetic.housing_like()
    assert x_train.shape == (404, 13)
    assert x_test.shape == (102, 13)
    assert x_train.dtype == y_train.dtype == y_test.dtype == np.float64
    assert y_train.min() >= 5
    assert y_train.max() <= 50
    assert set(np.unique(x_train[:, 3])) <= {0.0, 1.0}
    assert x_train[:, 9].mean() > 100  # TAX is on a much larger scale: standardise first


def test_mnist_like_looks_like_mnist():
    (x_train, y_train), (x_test, y_test) = synthetic.mnist_like(300, 20)
    assert x_train.shape == (300, 28, 28)
    assert x_test.shape == (20, 28, 28)
    assert y_test.shape == (20,)
    assert x_train.dtype == y_train.dtype == np.uint8
    assert set(y_train.tolist()) == set(range(10))
    assert x_train.max() > 200
    assert (x_train == 0).mean() > 0.3  # a dark background, like MNIST


def test_imdb_like_is_learnable_by_the_books_model():
    num_words = 1000
    (x_train, y_train), (x_test, y_test) = synthetic.imdb_like(1000, 500, num_words=num_words)
    model = keras.Sequential(
        [
            keras.Input((num_words,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile("rmsprop", "binary_crossentropy", metrics=["accuracy"])
    model.fit(encoding.multi_hot(x_train, num_words), y_train, epochs=4, batch_size=128, verbose=0)
    _, accuracy = model.evaluate(encoding.multi_hot(x_test, num_words), y_test, verbose=0)
    assert accuracy > 0.8


def nearest_centroid_accuracy(x_train, y_train, x_test, y_test):
    classes = np.unique(y_train)
    centroids = np.stack([x_train[y_train == c].mean(axis=0) for c in classes])
    distances = ((x_test[:, None, :] - centroids[None]) ** 2).sum(axis=-1)
    return (classes[distances.argmin(axis=1)] == y_test).mean()


def test_reuters_like_and_mnist_like_have_a_simple_signal():
    (x_train, y_train), (x_test, y_test) = synthetic.reuters_like(2000, 400, num_words=1000)
    train, test = encoding.multi_hot(x_train, 1000), encoding.multi_hot(x_test, 1000)
    assert nearest_centroid_accuracy(train, y_train, test, y_test) > 0.5  # chance: 1/46

    (x_train, y_train), (x_test, y_test) = synthetic.mnist_like(500, 200)
    flat_train, flat_test = (x.reshape(len(x), -1) / 255 for x in (x_train, x_test))
    assert nearest_centroid_accuracy(flat_train, y_train, flat_test, y_test) > 0.7


def test_housing_like_is_mostly_linear():
    (x_train, y_train), (x_test, y_test) = synthetic.housing_like()
    train, test = encoding.standardize(x_train, x_test)
    add_ones = lambda x: np.c_[x, np.ones(len(x))]  # noqa: E731
    weights = np.linalg.lstsq(add_ones(train), y_train, rcond=None)[0]
    residual = y_test - add_ones(test) @ weights
    assert 1 - residual.var() / y_test.var() > 0.7


@pytest.mark.parametrize(
    ("make", "kwargs", "message"),
    [
        (
            synthetic.mnist_like,
            {"num_train": -1},
            r"^num_train must be an integer >= 0\. Received: num_train=-1$",
        ),
        (
            synthetic.housing_like,
            {"num_test": 1.5},
            r"^num_test must be an integer >= 0\. Received: num_test=1\.5$",
        ),
        (
            synthetic.housing_like,
            {"seed": -2},
            r"^seed must be an integer >= 0\. Received: seed=-2$",
        ),
        (
            synthetic.imdb_like,
            {"num_words": 50},
            r"^num_words must be at least 104 \(room for 25 words for each of 2 classes\)\. "
            r"Received: num_words=50$",
        ),
        (
            synthetic.reuters_like,
            {"num_words": 400},
            r"^num_words must be at least 514 \(room for 10 words for each of 46 classes\)\. "
            r"Received: num_words=400$",
        ),
        (
            synthetic.reuters_like,
            {"num_classes": 0},
            r"^num_classes must be a positive integer\. Received: num_classes=0$",
        ),
        (
            synthetic.imdb_like,
            {"min_length": 10, "max_length": 5},
            r"^min_length must be <= max_length\. Received: min_length=10, max_length=5$",
        ),
        (
            synthetic.imdb_like,
            {"min_length": 0},
            r"^min_length must be a positive integer\. Received: min_length=0$",
        ),
    ],
)
def test_errors(make, kwargs, message):
    with pytest.raises(ValueError, match=message):
        make(**kwargs)
