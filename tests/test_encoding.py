"""anykeras.data.encoding: vectorised multi-hot, one-hot, padding and standardisation."""

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


def test_multi_hot_errors():
    with pytest.raises(ValueError, match=r"ids below num_tokens=10, received an id of 12"):
        encoding.multi_hot([[1, 12], [3]], 10)
    with pytest.raises(ValueError, match=r"ids >= 0, received -1"):
        encoding.multi_hot([[1, -1]], 10)
    with pytest.raises(ValueError, match=r"num_tokens to be an int >= 1, received 0"):
        encoding.multi_hot([[1]], 0)
    with pytest.raises(ValueError, match="expected sequences of integer ids"):
        encoding.multi_hot([[1.5, 2]], 10)
    with pytest.raises(ValueError, match="expected sequences of integer ids"):
        encoding.multi_hot(np.zeros((2, 3)), 10)


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


def test_one_hot_errors():
    with pytest.raises(ValueError, match=r"ids below num_classes=3, received an id of 3"):
        encoding.one_hot([0, 3], 3)
    with pytest.raises(ValueError, match="1-D array of integer labels"):
        encoding.one_hot([[0, 1]], 3)
    with pytest.raises(ValueError, match="1-D array of integer labels"):
        encoding.one_hot([0.5], 3)


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


def test_pad_errors():
    with pytest.raises(ValueError, match="maxlen to be None or an int >= 0"):
        encoding.pad([[1]], maxlen=-1)
    with pytest.raises(ValueError, match="must fit in int32"):
        encoding.pad([[2**40]])


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
    with pytest.raises(RuntimeError, match="not fitted"):
        scaler.transform(np.zeros((2, 3)))
    scaler.fit(np.zeros((4, 13)))
    with pytest.raises(ValueError, match=r"shape \(samples, 13\).*received shape \(5, 12\)"):
        scaler.transform(np.zeros((5, 12)))
    with pytest.raises(ValueError, match="at least one sample"):
        encoding.Standardizer().fit(np.zeros((0, 13)))
    with pytest.raises(ValueError, match="numeric data"):
        encoding.Standardizer().fit(np.array([["a"]]))
