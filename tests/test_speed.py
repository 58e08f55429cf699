"""The speed machinery computes what the plain code computes, on every backend.

`anykeras.loops`'s fast kernels against Keras's own ops, the fast sums of packed
batches against `SparseDense`, `loops.feed` against the `PyDataset` it feeds, the
thread settings, the start-up probe, the CLI's OpenMP setting and the encoder's
big-array path. No test here asserts a time: the bench measures (``nox -s bench``).
"""

from __future__ import annotations

import os

import keras
import numpy as np
import pytest

from anykeras import loops
from anykeras.builders.sparse import build_sparse
from anykeras.cli import select_backend
from anykeras.data import imdb
from anykeras.data.encoding import multi_hot, unique_ids
from anykeras.data.synthetic import imdb_like
from anykeras.spec import ClassifierSpec
from anykeras.speed import PackedBatches, PackedSparseDense, choose_route, probe
from anykeras.speed.packed import with_fast_sums
from anykeras.training.batches import EpochOrder, SeededBatches

BACKEND = keras.backend.backend()


def book_vectorize(sequences, dimension):
    """The book's Listing 4.3, the reference multi_hot must equal."""
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        for j in sequence:
            results[i, j] = 1.0
    return results


# --- loops.segment_sum -------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(300,), (300, 5), (300, 2, 3)])
def test_segment_sum_equals_keras_segment_sum(rng, shape):
    data = rng.normal(size=shape).astype("float32")
    ids = rng.integers(0, 7, size=shape[0]).astype("int32")  # segments 7 and 8 stay empty
    got = keras.ops.convert_to_numpy(loops.segment_sum(data, ids, num_segments=9))
    expected = keras.ops.convert_to_numpy(keras.ops.segment_sum(data, ids, num_segments=9))
    assert got.shape == (9, *shape[1:])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    assert not got[7:].any()


# --- loops.gather_sum --------------------------------------------------------------------


class _Summed(keras.layers.Layer):
    """``fn(table, *args)`` times the input, with ``table`` a trainable weight."""

    def __init__(self, fn, table, args):
        super().__init__()
        self.fn, self.args = fn, args
        self.table = self.add_weight(shape=table.shape, initializer="zeros")
        self.table.assign(table)

    def call(self, weights):
        return keras.ops.multiply(self.fn(self.table, *self.args)[None], weights)


def gather_and_grad(fn, table, *args):
    """``fn(table, *args)`` and the gradient of its sum weighted by fixed random numbers.

    Backend-neutral: one SGD step of learning rate 1 moves the table by its gradient.
    """
    layer = _Summed(fn, table, args)
    out = keras.ops.convert_to_numpy(keras.ops.stop_gradient(layer.call(np.ones(1, "float32"))))[0]
    weights = np.random.default_rng(1).normal(size=(1, *out.shape)).astype("float32")
    model = keras.Sequential([keras.Input(out.shape), layer])
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss=lambda _, pred: keras.ops.sum(pred))
    model.train_on_batch(weights, np.zeros((1,), "float32"))
    return out, table - layer.get_weights()[0]


def reference_gather_sum(table, ids, segments, num_segments, pad_id):
    """Keras's own ops: take the rows, zero the padding, segment-sum them."""
    ops = keras.ops
    keep = ops.cast(ops.not_equal(ids, pad_id), "float32")[:, None]
    safe = ops.where(ops.not_equal(ids, pad_id), ids, 0)
    return ops.segment_sum(ops.take(table, safe, axis=0) * keep, segments, num_segments)


@pytest.mark.parametrize(
    ("layout", "pad_id"), [("packed", 0), ("packed", 50), ("scattered", 0), ("scattered", -1)]
)
def test_gather_sum_equals_take_and_segment_sum_with_its_gradient(rng, layout, pad_id):
    """Packed batches' layout (kept ids first, rows in order) and any other, padded anywhere."""
    counts = rng.integers(0, 9, size=12)  # some rows empty
    segments = np.repeat(np.arange(12), counts).astype("int32")
    ids = rng.integers(1, 50, size=len(segments)).astype("int32")
    ids, segments = np.append(ids, [pad_id] * 7), np.append(segments, [0] * 7).astype("int32")
    if layout == "scattered":
        order = rng.permutation(len(ids))
        ids, segments = ids[order], segments[order]
    table = rng.normal(size=(50, 3)).astype("float32")
    args = (ids, segments, 14, pad_id)
    got, got_grad = gather_and_grad(loops.gather_sum, table, *args)
    expected, expected_grad = gather_and_grad(reference_gather_sum, table, *args)
    assert got.shape == (14, 3)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(got_grad, expected_grad, rtol=0, atol=1e-6)
    assert not got[:12][counts == 0].any()
    assert not got[12:].any()
    assert got_grad[ids[ids != pad_id]].any()
    assert not got_grad[0].any()


def packed_case(rng, long_row=False):
    """Distinct word ids of 40 reviews (4 very long ones, if asked), and their labels."""
    sequences = [rng.choice(np.arange(1, 60), size=rng.integers(1, 12), replace=False)
                 for _ in range(40)]  # fmt: skip
    if long_row:
        sequences[-4:] = [np.arange(1, 60)] * 4  # the last batch is wider than the rest
    return unique_ids(sequences, 60), rng.integers(0, 2, size=40).astype("float32")


def test_packed_fast_sums_give_the_sparse_dense_outputs_and_steps(rng):
    """`with_fast_sums` changes the kernels only: the same outputs and the same updates."""
    ids, y = packed_case(rng, long_row=True)
    spec = ClassifierSpec(input_shape=(60,), hidden=(4,))
    slow = build_sparse(spec, deduplicate=False, layout="packed")
    fast = with_fast_sums(slow)
    assert [type(layer).__name__ for layer in fast.layers][1] == "PackedSparseDense"
    assert isinstance(fast.layers[1], PackedSparseDense)
    fast.set_weights(slow.get_weights())
    batches = PackedBatches(ids, y, batch_size=16, order=None)
    assert len({batches[i][0].shape[2] for i in range(len(batches))}) == 2  # two widths
    for index in range(len(batches)):
        packed, _ = batches[index]
        np.testing.assert_allclose(
            fast.predict_on_batch(packed), slow.predict_on_batch(packed), rtol=0, atol=1e-6
        )
    for model in (slow, fast):
        model.compile(optimizer="rmsprop", loss="binary_crossentropy")
        for index in range(len(batches)):
            model.train_on_batch(*batches[index])
    for got, expected in zip(fast.get_weights(), slow.get_weights(), strict=True):
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


# --- loops.feed ---------------------------------------------------------------------------


def test_feed_gives_fit_the_same_batches_in_the_same_order(rng):
    """Two epochs from a seeded order: fit on `feed(batches)` equals fit on the batches."""
    x = rng.normal(size=(50, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    histories, weights = [], []
    for wrap in (lambda batches: batches, loops.feed):
        keras.utils.set_random_seed(1)
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3), keras.layers.Dense(1)])
        model.compile(optimizer="rmsprop", loss="binary_crossentropy")
        batches = SeededBatches(x, y, batch_size=8, order=EpochOrder(3))
        history = model.fit(wrap(batches), epochs=2, shuffle=False, verbose=0,
                            callbacks=[batches.follow_epochs()])  # fmt: skip
        histories.append(history.history["loss"])
        weights.append(model.get_weights())
    np.testing.assert_allclose(histories[1], histories[0], rtol=0, atol=1e-6)
    for got, expected in zip(weights[1], weights[0], strict=True):
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


def test_feed_takes_packed_batches_of_several_widths(rng):
    ids, y = packed_case(rng, long_row=True)
    spec = ClassifierSpec(input_shape=(60,), hidden=(4,))
    model = with_fast_sums(build_sparse(spec, deduplicate=False, layout="packed"))
    model.compile(optimizer="rmsprop", loss="binary_crossentropy")
    batches = PackedBatches(ids, y, batch_size=16, order=None)  # the wide batch comes last
    assert batches[2][0].shape[2] > batches[0][0].shape[2]
    history = model.fit(loops.feed(batches), epochs=2, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 2
    assert np.isfinite(history.history["loss"]).all()


# --- threads ------------------------------------------------------------------------------


def test_set_threads_applies_where_the_backend_can():
    before = loops.threads()
    try:
        took = loops.set_threads(1)
        if BACKEND == "torch":
            assert took is True
            assert loops.threads() == 1
        elif BACKEND == "jax":
            assert (took, loops.threads()) == (False, None)
        else:  # TensorFlow takes it only before its first operation
            assert isinstance(took, bool)
            assert loops.threads() == (1 if took else before)
    finally:
        if before:
            loops.set_threads(before)
    with pytest.raises(ValueError, match=r"count must be a positive integer\. Received: count=0"):
        loops.set_threads(0)


def test_using_threads_sets_the_pool_for_the_block_only():
    before = loops.threads()
    with loops.using_threads(None) as took:
        assert took is False
        assert loops.threads() == before
    inside = []

    def fail_inside():
        with loops.using_threads(1) as took:
            inside.append((took, loops.threads()))
            raise RuntimeError("inside")

    with pytest.raises(RuntimeError, match="inside"):
        fail_inside()
    if BACKEND == "torch":
        assert inside == [(True, 1)]
    else:  # JAX never; TensorFlow only before its first operation
        assert inside[0][0] is False or inside[0][1] == 1
    assert loops.threads() == before  # back, even after an error


def test_the_sparse_route_trains_pytorch_on_one_thread(monkeypatch):
    """The route's fit runs inside `using_threads(SPARSE_THREADS[backend])`."""
    from anykeras.speed import SPARSE_THREADS, SparseRoute

    seen = []
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    callback = keras.callbacks.LambdaCallback(on_epoch_end=lambda *_: seen.append(loops.threads()))
    before = loops.threads()
    x, y = np.ones((4, 2), "float32"), np.zeros((4, 1), "float32")
    SparseRoute("packed").fit(model, (x, y), epochs=1, verbose=0, callbacks=[callback])
    assert SPARSE_THREADS == {"torch": 1}
    assert seen == ([1] if BACKEND == "torch" else [before])
    assert loops.threads() == before


def test_the_command_line_sets_a_passive_openmp_wait_policy(monkeypatch):
    """PyTorch's OpenMP threads must sleep, not spin, beside other work; a user's choice stays."""
    monkeypatch.setenv("KERAS_BACKEND", BACKEND)  # restored after the test
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    select_backend(BACKEND)
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    select_backend(BACKEND)
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


# --- the probe ----------------------------------------------------------------------------


def test_probe_picks_one_of_its_candidates_and_keeps_its_timings():
    result = probe(("compact", "sparse"), budget=0.2, rows=64, words=200, batch_size=16,
                   min_steps=2)  # fmt: skip
    assert result.choice in ("compact", "sparse")
    assert sorted(result.seconds) == ["compact", "sparse"]
    for steps in result.seconds.values():
        assert 2 <= len(steps) <= 25  # at least min_steps, and no more than it needs
        assert all(step > 0 for step in steps)
    assert result.median(result.choice) == min(map(result.median, result.seconds))
    assert result.elapsed >= sum(map(sum, result.seconds.values()))
    assert "compact" in result.summary()
    assert result.summary().endswith("ms a step")
    again = probe(("compact", "sparse"), budget=0.2, rows=64, words=200, batch_size=16,
                  min_steps=2)  # fmt: skip
    assert again is result  # measured once per process


@pytest.mark.parametrize(
    ("candidates", "message"),
    [
        (("compact", "fast"), r"candidate must be one of .*Received: candidate='fast'"),
        ((), r"at least one candidate route"),
    ],
)
def test_probe_refuses_unknown_candidates(candidates, message):
    with pytest.raises(ValueError, match=message):
        probe(candidates)


def test_auto_probes_on_a_device_the_bench_has_not_measured():
    route, reason = choose_route(True, device="gpu")
    assert route.name in ("compact", "sparse")
    assert reason.startswith("the faster on this gpu in a ")
    assert "probe: compact" in reason
    # Checkpoints must be dense models: compact, without a probe.
    route, reason = choose_route(True, device="gpu", checkpoint=True)
    assert route.name == "compact"
    assert reason == f"the fastest on {BACKEND} that checkpoints a dense model"


# --- multi_hot's big-array path -----------------------------------------------------------


def test_multi_hot_of_a_big_matrix_equals_the_books_loop():
    """80 MB of float32: the path that allocates without huge pages, still plain NumPy."""
    (sequences, _), _ = imdb_like(2000, 0, 10_000, seed=0, min_length=50, max_length=430)
    got = multi_hot(sequences, 10_000)
    assert got.nbytes >= 1 << 26  # the big-array path
    assert got.dtype == np.float32
    assert got.shape == (2000, 10_000)
    assert got.flags.c_contiguous
    assert got.flags.writeable
    np.testing.assert_array_equal(got, book_vectorize(sequences, 10_000))
    assert multi_hot(sequences, 10_000, dtype="uint8").sum() == got.sum()


@pytest.mark.slow
def test_multi_hot_of_the_real_reviews_equals_the_books_loop(shared_file):
    (x_train, _), _ = imdb.load_data(path=shared_file("imdb/imdb.npz"), num_words=10_000)
    reviews = x_train[:3000]
    np.testing.assert_array_equal(multi_hot(reviews, 10_000), book_vectorize(reviews, 10_000))


# --- several steps per call ----------------------------------------------------------------


def test_the_sparse_route_runs_several_steps_per_call_unless_a_callback_watches_batches():
    from anykeras.speed import STEPS_PER_EXECUTION, SparseRoute
    from anykeras.training import TrainConfig
    from anykeras.training.callbacks import BatchLossHistory
    from anykeras.training.steps import Phase, fit_phase

    spec = ClassifierSpec(input_shape=(200,), hidden=(4,))
    (x, y), _ = imdb_like(200, 0, 200, seed=0)
    rows = multi_hot(x, 200, dtype="uint8")
    config = TrainConfig(epochs=2, batch_size=32, validation_size=40)  # 5 batches an epoch
    steps = STEPS_PER_EXECUTION.get(BACKEND, 1)
    route = SparseRoute()
    quiet = route.model(spec, "functional", build_sparse(spec))
    fit_phase(quiet, spec, (rows, y.astype("float32")), config, Phase(route=route))
    assert quiet.steps_per_execution == steps
    watched = route.model(spec, "functional", build_sparse(spec))
    losses = BatchLossHistory()
    phase = Phase(route=route, callbacks=(losses,))
    fit_phase(watched, spec, (rows, y.astype("float32")), config, phase)
    assert watched.steps_per_execution == 1  # the callback sees every batch
    assert [len(epoch) for epoch in losses.losses] == [5, 5]


# --- loops.predict -------------------------------------------------------------------------


def test_loops_predict_gives_model_predicts_outputs(rng):
    spec = ClassifierSpec(input_shape=(60,), hidden=(4,))
    dense = build_sparse(spec, layout="padded")  # ids in; rows of 11 ids
    ids = unique_ids([rng.choice(np.arange(1, 60), size=8, replace=False) for _ in range(37)], 60)
    expected = dense.predict(ids, batch_size=8, verbose=0)
    got = loops.predict(dense, ids, batch_size=8)  # 5 batches, the last one of 5 rows
    assert got.shape == expected.shape == (37, 1)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    packed = with_fast_sums(build_sparse(spec, layout="packed"))
    packed.set_weights(dense.get_weights())
    batches = PackedBatches(ids, None, batch_size=8, order=None)
    np.testing.assert_allclose(loops.predict(packed, batches), expected, rtol=0, atol=1e-5)
    dense.layers[-1].bias.assign(dense.layers[-1].bias + 1.0)  # after training: new values
    np.testing.assert_allclose(
        loops.predict(dense, ids, batch_size=8), dense.predict(ids, verbose=0), rtol=0, atol=1e-6
    )
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        loops.predict(dense, ids, batch_size=0)
