"""CTC: label format, loss, training and greedy decoding, on every backend."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from anykeras.builders.ctc import (
    BLANK,
    build_ctc_model,
    compile_ctc_model,
    greedy_decode,
    label_lists,
    make_sequences,
    sequence_accuracy,
)


def test_sequences_follow_keras_label_format():
    x, labels = make_sequences(64, num_classes=5, timesteps=24, min_length=3, max_length=5)
    assert x.shape == (64, 24, 6)
    assert labels.shape == (64, 5)
    assert labels.dtype == np.int32
    lengths = (labels != BLANK).sum(axis=1)
    assert set(lengths.tolist()) <= {3, 4, 5}
    assert len(set(lengths.tolist())) > 1, "expected labels of several lengths"
    # Symbols are 1..5, and the padding (0, Keras's mask index) only at the end.
    for row, length in zip(labels, lengths, strict=True):
        assert set(row[:length].tolist()) <= {1, 2, 3, 4, 5}
        assert (row[length:] == BLANK).all()
    # Same seed, same data; another seed, other data.
    x2, labels2 = make_sequences(64)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(labels, labels2)
    assert not np.array_equal(labels, make_sequences(64, seed=1)[1])


def test_clean_frames_decode_to_the_labels_with_near_zero_loss():
    # Without noise, a frame is the one-hot of its symbol (0 = silence = blank): scaled
    # up, the frames are near-perfect logits. This pins down the label layout, the
    # blank index and the decoder's output format on the backend under test.
    x, labels = make_sequences(32, noise=0.0, seed=3)
    logits = 20.0 * x
    assert greedy_decode(logits) == label_lists(labels)
    loss = keras.losses.CTC()(labels, logits)
    assert abs(float(loss)) < 1e-3  # zero up to rounding (JAX gives -3e-8)
    # Wrong labels cost a lot.
    wrong = np.where(labels > 0, labels % 5 + 1, 0).astype("int32")
    assert float(keras.losses.CTC()(wrong, logits)) > 10.0


def test_ctc_loss_is_the_mean_of_ops_ctc_loss(rng):
    # keras.losses.CTC counts the non-zero labels and uses every time step.
    logits = rng.normal(size=(4, 24, 6)).astype("float32")
    _, labels = make_sequences(4, seed=5)
    per_sample = keras.ops.ctc_loss(
        labels,
        logits,
        target_length=(labels != 0).sum(axis=1).astype("int32"),
        output_length=np.full((4,), 24, "int32"),
        mask_index=0,
    )
    per_sample = keras.ops.convert_to_numpy(per_sample)
    assert per_sample.shape == (4,)
    assert np.all(per_sample > 0)
    loss = keras.ops.convert_to_numpy(keras.losses.CTC()(labels, logits))
    np.testing.assert_allclose(loss, per_sample.mean(), rtol=1e-5)


def test_greedy_decode_merges_repeats_and_respects_lengths():
    frames = [[0, 1, 1, 0, 1, 2, 2, 3], [4, 4, 4, 0, 0, 5, 0, 5]]
    logits = np.eye(6, dtype="float32")[frames]
    assert greedy_decode(logits) == [[1, 1, 2, 3], [4, 5, 5]]
    assert greedy_decode(logits, sequence_lengths=[5, 6]) == [[1, 1], [4, 5]]
    with pytest.raises(ValueError, match=r"sequence_lengths must be 2 integers in \[0, 8\]"):
        greedy_decode(logits, sequence_lengths=[9, 1])


def test_model_parameter_counts():
    timesteps, features, classes, filters, kernel = 24, 6, 5, 64, 3
    model = build_ctc_model(timesteps, features, classes, filters, kernel)
    conv = (kernel * features + 1) * filters
    dense = (filters + 1) * (classes + 1)
    assert model.count_params() == conv + dense == 1_606
    assert tuple(model.output_shape) == (None, timesteps, classes + 1)

    units = 8
    recurrent = build_ctc_model(timesteps, features, classes, filters, kernel, lstm_units=units)
    lstm = 4 * units * (filters + units + 1)  # one direction: 4 gates, input + recurrent + bias
    assert recurrent.count_params() == conv + 2 * lstm + (2 * units + 1) * (classes + 1)
    assert tuple(recurrent.output_shape) == (None, timesteps, classes + 1)


def test_training_halves_the_loss_and_decoding_recovers_most_labels():
    x, labels = make_sequences(256, seed=0)
    x_test, labels_test = make_sequences(128, seed=1)
    model = compile_ctc_model(build_ctc_model())
    initial = model.evaluate(x, labels, batch_size=256, verbose=0)
    assert 15.0 < initial < 60.0, initial  # about T * log(6) minus the alignments' share
    history = model.fit(x, labels, epochs=8, batch_size=32, shuffle=False, verbose=0)
    losses = history.history["loss"]
    assert losses[2] < 0.5 * initial, (initial, losses)  # halved within 3 epochs
    assert losses[-1] < 0.1 * initial, (initial, losses)
    decoded = greedy_decode(model.predict(x_test, verbose=0))
    accuracy = sequence_accuracy(decoded, labels_test)
    # Measured 0.84 (torch) to 0.91 (JAX, TensorFlow) on unseen sequences.
    assert accuracy >= 0.6, accuracy


def test_errors_say_what_was_expected_and_received():
    with pytest.raises(
        ValueError, match=r"timesteps must be at least 23 .* Received: timesteps=10"
    ):
        make_sequences(4, timesteps=10)
    with pytest.raises(ValueError, match=r"min_length must be <= max_length"):
        make_sequences(4, min_length=4, max_length=3)
    with pytest.raises(ValueError, match=r"num_classes must be a positive integer"):
        build_ctc_model(num_classes=0)
    with pytest.raises(ValueError, match=r"decoded and labels must have the same length"):
        sequence_accuracy([[1]], np.array([[1], [2]]))
