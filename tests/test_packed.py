"""Packed word-id batches feed a sparse model the same samples, in the same order, minus padding."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest

from anykeras import ClassifierSpec, build
from anykeras.builders.sparse import build_sparse
from anykeras.data.encoding import multi_hot, unique_ids
from anykeras.data.synthetic import imdb_like
from anykeras.speed import get_route
from anykeras.speed.packed import PackedBatches
from anykeras.training import EpochOrder, Phase, TrainConfig, compile_model, fit, fit_phase

BACKEND = keras.backend.backend()
WORDS = 200
SPEC = ClassifierSpec(input_shape=(WORDS,), hidden=(16, 16))


@pytest.fixture(scope="module")
def reviews():
    (x, y), (x_val, y_val) = imdb_like(num_train=300, num_test=90, num_words=WORDS, seed=2)
    return (x, y.astype("float32")), (x_val, y_val.astype("float32"))


def rows_of(packed: np.ndarray) -> list[list[int]]:
    """Each row's ids, read back from a packed batch."""
    ids, rows = packed[:, 0, :].ravel(), packed[:, 1, :].ravel()
    present = ids != 0
    return [sorted(ids[present & (rows == r)].tolist()) for r in range(len(packed))]


def twins(layout: str = "packed"):
    """A compiled dense model and a compiled sparse one with the same initial weights."""
    dense = build(SPEC)
    sparse = build_sparse(SPEC, deduplicate=False, layout=layout)
    sparse.set_weights(dense.get_weights())
    return compile_model(dense, SPEC), compile_model(sparse, SPEC)


def test_batches_hold_each_rows_ids_in_the_seeded_order(reviews):
    (x, y), _ = reviews
    ids = unique_ids(x, WORDS)
    batches = PackedBatches(ids, y, batch_size=64, order=EpochOrder(4))
    assert len(batches) == 5
    batches.epoch = 2
    order = EpochOrder(4).permutation(len(ids), 2)
    seen = []
    for index in range(len(batches)):
        packed, labels = batches[index]
        rows = order[index * 64 : (index + 1) * 64]
        assert packed.dtype == np.int32
        assert packed.shape == (len(rows), 2, batches.width)
        assert rows_of(packed) == [sorted(set(x[r]) - {0}) for r in rows]
        np.testing.assert_array_equal(labels, y[rows])
        seen.extend(rows.tolist())
    assert sorted(seen) == list(range(len(ids)))
    # Far narrower than the padded rows: that is the point.
    assert batches.width < ids.shape[1]


@pytest.mark.parametrize("ahead", [1, 2, 32])
def test_batches_packed_ahead_are_those_of_their_epoch_in_any_reading_order(reviews, ahead):
    """Packing several batches at once changes no batch: any order, any epoch."""
    (x, y), _ = reviews
    ids = unique_ids(x, WORDS)
    fresh = PackedBatches(ids, y, batch_size=64, order=EpochOrder(4))
    fresh.ahead = 1
    batches = PackedBatches(ids, y, batch_size=64, order=EpochOrder(4))
    batches.ahead = ahead
    for epoch, indices in ((0, [0, 1, 2, 3, 4]), (1, [3, 0, 4, 1, 2]), (0, [4, 2, 0, 1, 3])):
        batches.epoch = fresh.epoch = epoch
        for index in indices:
            for got, expected in zip(batches[index], fresh[index], strict=True):
                np.testing.assert_array_equal(got, expected)
    batches.epoch = 1
    assert not np.array_equal(batches[0][1], fresh[0][1])  # fresh still reads epoch 0's
    batches.follow_epochs().on_epoch_begin(3)  # packs epoch 3's first batches
    fresh.epoch = 3
    assert batches.epoch == 3
    for index in range(len(batches)):
        np.testing.assert_array_equal(batches[index][0], fresh[index][0])


def test_a_batch_of_long_rows_takes_a_wider_shape():
    short, long = [[1, 2]] * 6, [list(range(1, 60))] * 2
    ids = unique_ids(short + long, 60)
    batches = PackedBatches(ids, None, batch_size=2, order=None)
    # The mean row holds 16.25 ids: a quarter more is 20.3, rounded up to 8: 24.
    assert batches.width == 24
    (first,) = batches[0]
    (last,) = batches[3]
    assert first.shape == (2, 2, 24)
    # 118 ids do not fit in 2 x 24: the batch takes 3 x 24 columns a row.
    assert last.shape == (2, 2, 72)
    assert rows_of(last) == [list(range(1, 60))] * 2


@pytest.mark.parametrize("shuffle", [False, True])
def test_training_on_packed_batches_equals_dense_fit(reviews, shuffle):
    """On every backend: shuffled, both see the seeded order; unshuffled, the rows in order."""
    (x, y), (x_val, y_val) = reviews
    dense, sparse = twins()
    config = TrainConfig(epochs=3, batch_size=64, shuffle=shuffle, validation_size=None)
    rows, val_rows = multi_hot(x, WORDS, dtype="uint8"), multi_hot(x_val, WORDS, dtype="uint8")
    expected = fit(dense, SPEC, rows, y, config, (val_rows, y_val)).history
    route = get_route("sparse").__class__("packed")
    phase = Phase(route=route, validation_data=(val_rows, y_val))
    got = fit_phase(sparse, SPEC, (rows, y), config, phase).history
    assert sorted(got) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    for key, values in expected.items():
        np.testing.assert_allclose(got[key], values, rtol=0, atol=1e-5, err_msg=key)
    for got_w, expected_w in zip(sparse.get_weights(), dense.get_weights(), strict=True):
        np.testing.assert_allclose(got_w, expected_w, rtol=0, atol=1e-5)


def test_packed_predictions_equal_the_dense_models(reviews):
    _, (x_val, _) = reviews
    dense, sparse = twins()
    expected = dense.predict(multi_hot(x_val, WORDS), batch_size=32, verbose=0)
    batches = PackedBatches(unique_ids(x_val, WORDS), None, batch_size=32, order=None)
    got = sparse.predict(batches, verbose=0)
    assert got.shape == (90, 1)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


def test_a_pad_id_outside_the_vocabulary():
    seqs = [[3, 1], [5], [2, 4, 6]]
    ids = unique_ids(seqs, 7, pad_id=-1)
    spec = ClassifierSpec(input_shape=(7,), hidden=(3,))
    dense = build(spec)
    sparse = build_sparse(spec, pad_id=-1, deduplicate=False, layout="packed")
    sparse.set_weights(dense.get_weights())
    (packed,) = PackedBatches(ids, None, batch_size=3, order=None, pad_id=-1)[0]
    assert (packed[:, 0, :] == -1).sum() == packed[:, 0, :].size - 6
    np.testing.assert_allclose(
        sparse.predict_on_batch(packed), dense.predict_on_batch(multi_hot(seqs, 7)), atol=1e-6
    )


@pytest.mark.parametrize(
    ("ids", "y", "batch_size", "message"),
    [
        (np.zeros(4, "int32"), None, 2, "as unique_ids makes them. Received: shape (4,)"),
        (np.zeros((2, 3), "float32"), None, 2, "Received: shape (2, 3) and dtype float32"),
        (np.array([[1, 2], [3, 3]]), None, 2, "Received: row 1 repeats id 3"),
        (
            np.array([[1, 2]]),
            np.zeros(2),
            2,
            "same, non-zero number of samples. Received: len(ids)=1, len(y)=2",
        ),
        (np.array([[1, 2]]), None, 0, "batch_size must be a positive integer. Received: "),
    ],
)
def test_errors_say_expected_and_received(ids, y, batch_size, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        PackedBatches(ids, y, batch_size, order=None)


def test_a_given_width_is_kept_and_checked():
    ids = unique_ids([[1, 2, 3]] * 4, 5)
    assert PackedBatches(ids, None, 2, None, width=16)[0][0].shape == (2, 2, 16)
    with pytest.raises(
        ValueError, match=r"width must be None or a positive integer\. Received: width=0"
    ):
        PackedBatches(ids, None, 2, None, width=0)


def test_build_sparse_refuses_an_unknown_layout():
    with pytest.raises(ValueError, match=r"layout must be one of \('padded', 'packed'\)"):
        build_sparse(SPEC, layout="ragged")


@pytest.mark.parametrize(
    ("ids", "repeat"),
    [
        ([[1, 2, 0], [2, 3, 0]], None),  # the same id in two rows is no repeat
        ([[0, 0, 0], [1, 2, 3]], None),  # an empty row, a full one
        ([[4, 1, 0], [2, 0, 7]], None),  # not unique_ids's order: checked by sorting
        ([[1, 2, 0], [3, 5, 5]], "row 1 repeats id 5"),
        ([[6, 1, 6], [2, 0, 0]], "row 0 repeats id 6"),
    ],
)
def test_distinct_ids_are_checked_in_any_row_layout(ids, repeat):
    ids = np.array(ids, dtype="int32")
    if repeat is None:
        batches = PackedBatches(ids, None, batch_size=2, order=None)
        assert rows_of(batches[0][0]) == [sorted(set(row) - {0}) for row in ids.tolist()]
    else:
        with pytest.raises(ValueError, match=f"Received: {repeat}"):
            PackedBatches(ids, None, batch_size=2, order=None)
