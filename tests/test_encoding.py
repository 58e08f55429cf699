"""anykeras.data.encoding and .features: vectorised multi-hot, one-hot, padding, scaling."""

from __future__ import annotations

import numpy as np
import pytest

from anykeras.data import encoding


def vectorize_sequences(sequences, dimension=10000):
    """The book's Listing 4.3, the reference multi_hot must equal."""
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        for j in sequence:
            results[i, j] = 1.0
    return results


def random_sequences(rng, n=200, num_tokens=500, max_length=60):
    out = np.empty(n, dtype=object)
    for i in range(n):
        out[i] = rng.integers(0, num_tokens, size=rng.integers(0, max_length)).tolist()
    return out


# --- multi_hot ----------------------------------------------------------------------------


def test_multi_hot_equals_the_books_double_loop(rng):
    sequences = random_sequences(rng)
    expected = vectorize_sequences(sequences, 500)
    result = encoding.multi_hot(sequences, 500)
    assert result.dtype == np.float32
    assert result.shape == (200, 500)
    np.testing.assert_array_equal(result, expected)
    # Lists of lists, 2-D integer arrays and the requested dtype work too.
    np.testing.assert_array_equal(encoding.multi_hot(sequences.tolist(), 500), expected)
    padded = rng.integers(0, 50, size=(7, 9))
    np.testing.assert_array_equal(encoding.multi_hot(padded, 50), vectorize_sequences(padded, 50))
    assert encoding.multi_hot(sequences, 500, dtype="float64").dtype == np.float64


def test_multi_hot_of_empty_input():
    assert encoding.multi_hot([], 5).shape == (0, 5)
    np.testing.assert_array_equal(encoding.multi_hot([[], [1]], 3), [[0, 0, 0], [0, 1, 0]])


MULTI_HOT_ERRORS = [
    (
        ([[1, 12], [3]], 10),
        r"^every id must be in \[0, num_tokens=10\)\. Received an id of 12 "
        r"\(load the data with num_words=num_tokens, or pass num_tokens=13\)$",
    ),
    (([[1, -1]], 10), r"^every id must be in \[0, num_tokens=10\)\. Received an id of -1$"),
    (([[1]], 0), r"^num_tokens must be a positive integer\. Received: num_tokens=0$"),
    (([[1]], 2.0), r"^num_tokens must be a positive integer\. Received: num_tokens=2\.0$"),
    (
        ([[1], [1.5, 2]], 10),
        r"^sequences must hold integer ids only\. Received: sequences\[1\]\[0\]=1\.5$",
    ),
    (([["a"]], 10), r"^sequences must hold integer ids only\. Received: sequences\[0\]\[0\]='a'$"),
    (([[1, [2, 3]]], 10), r"Received: sequences\[0\]\[1\]=\[2, 3\]$"),
    (([[1], 7], 10), r"^sequences must be a list of lists, .*\. Received: sequences\[1\]=7$"),
    (
        (np.zeros((2, 3)), 10),
        r"^sequences must be a list of lists, an object array of lists or a 2-D integer array "
        r"of ids\. Received: sequences\.shape=\(2, 3\), sequences\.dtype=float64$",
    ),
]


@pytest.mark.parametrize(("args", "message"), MULTI_HOT_ERRORS)
def test_multi_hot_errors(args, message):
    with pytest.raises(ValueError, match=message):
        encoding.multi_hot(*args)


def test_flatten_and_unflatten_round_trip(rng):
    sequences = random_sequences(rng, n=50)
    flat, lengths = encoding.flatten(sequences)
    assert flat.dtype == lengths.dtype == np.int64
    back = encoding.unflatten(flat, lengths)
    assert back.dtype == object
    assert back.shape == (50,)
    assert back.tolist() == sequences.tolist()
    # All-equal lengths still give a 1-D object array of lists (np.array would give 2-D).
    same = encoding.unflatten(np.arange(6), np.array([3, 3]))
    assert same.shape == (2,)
    assert same[1] == [3, 4, 5]


# --- one_hot ------------------------------------------------------------------------------


def test_one_hot_matches_keras_to_categorical(rng):
    import keras

    labels = rng.integers(0, 46, size=100)
    result = encoding.one_hot(labels, 46)
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, keras.utils.to_categorical(labels, 46))
    assert encoding.one_hot([2], 3, dtype="int64").tolist() == [[0, 0, 1]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([0, 3], 3), r"^labels must be class ids in \[0, 3\)\. Received: labels\[1\]=3$"),
        (([0, -1], 3), r"^labels must be class ids in \[0, 3\)\. Received: labels\[1\]=-1$"),
        (
            ([[0, 1]], 3),
            r"^labels must be a 1-D array of integer class ids\. Received: labels\.shape=\(1, 2\)$",
        ),
        (([0.5], 3), r"^labels must hold integer class ids\. Received: labels\.dtype=float64$"),
        (([0], 0), r"^num_classes must be a positive integer\. Received: num_classes=0$"),
    ],
)
def test_one_hot_errors(args, message):
    with pytest.raises(ValueError, match=message):
        encoding.one_hot(*args)


def test_check_labels():
    labels = np.array([3, 0, 9], dtype=np.uint8)
    assert encoding.check_labels("y", labels, num_classes=10) is not None
    assert encoding.check_labels("y", labels).dtype == np.uint8  # dtype kept
    assert encoding.check_labels("y", []).shape == (0,)
    with pytest.raises(ValueError, match=r"^y must be class ids >= 0\. Received: y\[2\]=-4$"):
        encoding.check_labels("y", [1, 2, -4])
    with pytest.raises(
        ValueError, match=r"^y must hold integer class ids\. Received: y\.dtype=bool$"
    ):
        encoding.check_labels("y", [True, False])


# --- pad ----------------------------------------------------------------------------------


def test_pad_right_pads_and_cuts(rng):
    sequences = [[1, 5, 7], [1], []]
    np.testing.assert_array_equal(encoding.pad(sequences), [[1, 5, 7], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(
        encoding.pad(sequences, maxlen=2, pad_id=9), [[1, 5], [1, 9], [9, 9]]
    )
    assert encoding.pad(sequences).dtype == np.int32
    assert encoding.pad([]).shape == (0, 0)
    random = random_sequences(rng)
    padded = encoding.pad(random, maxlen=30)
    for row, sequence in zip(padded, random, strict=True):
        kept = sequence[:30]
        assert row[: len(kept)].tolist() == kept
        assert not row[len(kept) :].any()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"maxlen": -1},
            r"^maxlen must be None or an integer >= 0\. Received: maxlen=-1$",
        ),
        ({"maxlen": 2.5}, r"^maxlen must be None or an integer >= 0\. Received: maxlen=2\.5$"),
        (
            {"sequences": [[2**40]]},
            r"^every id must fit in int32\. Received an id of 1099511627776$",
        ),
        (
            {"pad_id": 2**31},
            r"^pad_id must be an integer that fits in int32\. Received: pad_id=2147483648$",
        ),
        ({"pad_id": "0"}, r"^pad_id must be an integer that fits in int32\. Received: pad_id='0'$"),
    ],
)
def test_pad_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        encoding.pad(**{"sequences": [[1]], **kwargs})


# --- Standardizer -------------------------------------------------------------------------


def test_standardizer_uses_training_statistics_only(rng):
    x_train = rng.normal(5, 3, size=(300, 13))
    x_test = rng.normal(-50, 10, size=(100, 13))
    scaler = encoding.Standardizer().fit(x_train)
    np.testing.assert_allclose(scaler.mean, x_train.mean(axis=0))
    np.testing.assert_allclose(scaler.std, x_train.std(axis=0))

    # The book's housing normalisation, done in place on copies.
    train, test = x_train.copy(), x_test.copy()
    mean = train.mean(axis=0)
    train -= mean
    std = train.std(axis=0)
    train /= std
    test -= mean
    test /= std
    np.testing.assert_allclose(scaler.transform(x_train), train)
    np.testing.assert_allclose(scaler.transform(x_test), test)
    assert abs(scaler.transform(x_test).mean()) > 1  # test data is not re-centred

    a, b = encoding.standardize(x_train, x_test)
    np.testing.assert_allclose(a, train)
    np.testing.assert_allclose(b, test)
    assert x_train.mean() > 4  # inputs are not changed


def test_standardizer_dtypes_and_constant_features():
    x = np.array([[1, 7], [3, 7]], dtype=np.uint8)
    result = encoding.Standardizer().fit_transform(x)
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, [[-1, 0], [1, 0]])
    x64 = encoding.Standardizer().fit_transform(x.astype(np.float64))
    assert x64.dtype == np.float64


def test_standardizer_errors():
    scaler = encoding.Standardizer()
    with pytest.raises(RuntimeError, match=r"^This Standardizer is not fitted yet"):
        scaler.transform(np.zeros((2, 3)))
    scaler.fit(np.zeros((4, 13)))
    with pytest.raises(
        ValueError,
        match=r"^x must have shape \(samples, 13\), the training data's feature shape\. "
        r"Received: x\.shape=\(5, 12\)$",
    ):
        scaler.transform(np.zeros((5, 12)))
    with pytest.raises(
        ValueError, match=r"^x must have at least one sample\. Received: x\.shape=\(0, 13\)$"
    ):
        encoding.Standardizer().fit(np.zeros((0, 13)))
    with pytest.raises(ValueError, match=r"^x must be numeric\. Received: x\.dtype=<U1$"):
        encoding.Standardizer().fit(np.array([["a"]]))
