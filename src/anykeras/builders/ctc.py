"""Sequence labelling with CTC: unaligned label sequences, learned and decoded.

Connectionist Temporal Classification trains a model that emits one class
distribution per time step against a label sequence that is shorter than the input
and not aligned with it. Keras's CTC (`keras.losses.CTC`, `keras.ops.ctc_loss`)
fixes the conventions this module follows, on every backend:

- Class ``0`` is the CTC *blank*, and also the padding of the labels: a batch of
  label sequences is an int array ``(batch, max_length)`` whose symbols are
  ``1..num_classes``, padded at the end with ``0``.
- The model emits *logits* ``(batch, timesteps, num_classes + 1)``: Keras applies
  ``log_softmax`` itself, so the last layer has no softmax.
- `keras.ops.ctc_decode` (greedy) returns the decoded symbols padded with ``-1``.

A typical run::

    x, labels = make_sequences(512)
    model = compile_ctc_model(build_ctc_model())
    model.fit(x, labels, epochs=8, batch_size=32)
    decoded = greedy_decode(model.predict(x))      # lists of symbols in 1..num_classes
    sequence_accuracy(decoded, labels)            # fraction decoded exactly
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from anykeras.spec import check_int

#: Index of the CTC blank, and of the label padding (Keras's ``mask_index``).
BLANK = 0
#: Symbols (not counting the blank) and time steps of `make_sequences`'s data by default,
#: which `build_ctc_model`'s model reads by default.
NUM_CLASSES, TIMESTEPS = 5, 24


def _check_positive(**values: Any) -> None:
    for name, value in values.items():
        check_int(name, value)


def _check_sequence_settings(
    num_samples: int,
    num_classes: int,
    timesteps: int,
    min_length: int,
    max_length: int,
    frames: tuple[int, int],
    gap: tuple[int, int],
    noise: float,
) -> None:
    """Raise a `ValueError` for settings `make_sequences` cannot lay out."""
    _check_positive(
        num_samples=num_samples,
        num_classes=num_classes,
        timesteps=timesteps,
        min_length=min_length,
        max_length=max_length,
    )
    if min_length > max_length:
        raise ValueError(
            f"min_length must be <= max_length. Received: min_length={min_length}, "
            f"max_length={max_length}"
        )
    for name, (low, high), least in (("frames", frames, 1), ("gap", gap, 1)):
        if not (isinstance(low, int) and isinstance(high, int) and least <= low <= high):
            raise ValueError(
                f"{name} must be (fewest, most) integers with {least} <= fewest <= most. "
                f"Received: {name}={(low, high)!r}"
            )
    longest = max_length * frames[1] + (max_length - 1) * gap[1]
    if timesteps < longest:
        raise ValueError(
            f"timesteps must be at least {longest} to fit {max_length} symbols of up to "
            f"{frames[1]} frames with gaps of up to {gap[1]}. Received: timesteps={timesteps}"
        )
    if noise < 0:
        raise ValueError(f"noise must be >= 0. Received: noise={noise!r}")


def make_sequences(
    num_samples: int,
    num_classes: int = NUM_CLASSES,
    timesteps: int = TIMESTEPS,
    min_length: int = 3,
    max_length: int = 5,
    frames: tuple[int, int] = (2, 3),
    gap: tuple[int, int] = (1, 2),
    noise: float = 0.3,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Random label sequences, each rendered into a noisy sequence of feature vectors.

    A label of ``min_length..max_length`` symbols drawn from ``1..num_classes`` is laid
    out in time: each symbol lasts ``frames`` steps (a random count in that
    inclusive range), consecutive symbols are separated by ``gap`` steps of silence,
    and the whole is shifted by a random offset. Frame ``t`` is the one-hot vector of
    its symbol (channel ``0`` is silence) plus Gaussian noise, so a model must find
    the symbols, and where one ends, from noisy frames; repeated symbols (``2, 2``)
    are told apart by the silence between them, as CTC needs a blank there too.

    Args:
        num_samples: Number of sequences.
        num_classes: Number of symbols, not counting the blank.
        timesteps: Length ``T`` of every feature sequence.
        min_length: Fewest symbols in a label.
        max_length: Most symbols in a label; the width of the padded label array.
        frames: ``(fewest, most)`` time steps one symbol lasts.
        gap: ``(fewest, most)`` silent time steps between two symbols (at least 1).
        noise: Standard deviation of the Gaussian noise added to every feature.
        seed: Seed of the NumPy generator: the same seed gives the same data.

    Returns:
        ``(x, labels)``: float32 features ``(num_samples, timesteps, num_classes + 1)``
        and int32 labels ``(num_samples, max_length)``, padded with ``0``.

    Example:
    >>> x, labels = make_sequences(4, num_classes=5, timesteps=24, seed=1)
    >>> x.shape, x.dtype.name, labels.shape, labels.dtype.name
    ((4, 24, 6), 'float32', (4, 5), 'int32')
    >>> bool(((labels >= 0) & (labels <= 5)).all()), bool((labels[:, :3] > 0).all())
    (True, True)
    """
    _check_sequence_settings(
        num_samples, num_classes, timesteps, min_length, max_length, frames, gap, noise
    )
    rng = np.random.default_rng(seed)
    labels = np.zeros((num_samples, max_length), dtype="int32")
    frame_classes = np.zeros((num_samples, timesteps), dtype="int64")  # 0: silence
    for i in range(num_samples):
        length = int(rng.integers(min_length, max_length + 1))
        symbols = rng.integers(1, num_classes + 1, size=length)
        durations = rng.integers(frames[0], frames[1] + 1, size=length)
        gaps = rng.integers(gap[0], gap[1] + 1, size=length - 1)
        used = int(durations.sum() + gaps.sum())
        t = int(rng.integers(0, timesteps - used + 1))
        for k, (symbol, duration) in enumerate(zip(symbols, durations, strict=True)):
            frame_classes[i, t : t + duration] = symbol
            t += int(duration) + (int(gaps[k]) if k < length - 1 else 0)
        labels[i, :length] = symbols
    x = np.eye(num_classes + 1, dtype="float32")[frame_classes]
    x += rng.normal(scale=noise, size=x.shape).astype("float32")
    return x, labels


def build_ctc_model(
    timesteps: int = TIMESTEPS,
    features: int = NUM_CLASSES + 1,
    num_classes: int = NUM_CLASSES,
    filters: int = 64,
    kernel_size: int = 3,
    lstm_units: int = 0,
    name: str = "ctc_tagger",
) -> keras.Model:
    """A small sequence labeller: ``Conv1D`` (+ optional ``Bidirectional(LSTM)``) + ``Dense``.

    One output per time step: ``num_classes + 1`` logits, unit ``0`` being the CTC
    blank. The output is *not* softmaxed: Keras's CTC loss and decoder expect logits.

    Args:
        timesteps: Length of the input sequences (``None`` is not supported: every
            batch is treated as full length by `keras.losses.CTC`).
        features: Size of each input feature vector.
        num_classes: Number of symbols, not counting the blank.
        filters: Filters of the ``Conv1D`` layer (``"same"`` padding, ReLU).
        kernel_size: Width of its window, in time steps.
        lstm_units: Units of each direction of a ``Bidirectional(LSTM)`` after the
            convolution; ``0`` leaves it out (faster, and enough for short symbols).
        name: Name of the model.

    Returns:
        A Functional model ``(batch, timesteps, features) -> (batch, timesteps,
        num_classes + 1)``.

    Example:
    >>> model = build_ctc_model(timesteps=24, features=6, num_classes=5)
    >>> tuple(model.output_shape), model.count_params()
    ((None, 24, 6), 1606)
    """
    _check_positive(
        timesteps=timesteps,
        features=features,
        num_classes=num_classes,
        filters=filters,
        kernel_size=kernel_size,
    )
    if isinstance(lstm_units, bool) or not isinstance(lstm_units, int) or lstm_units < 0:
        raise ValueError(f"lstm_units must be an integer >= 0. Received: lstm_units={lstm_units!r}")
    inputs = keras.Input(shape=(timesteps, features), name="frames")
    x = keras.layers.Conv1D(filters, kernel_size, padding="same", activation="relu", name="conv")(
        inputs
    )
    if lstm_units:
        x = keras.layers.Bidirectional(
            keras.layers.LSTM(lstm_units, return_sequences=True), name="bilstm"
        )(x)
    logits = keras.layers.Dense(num_classes + 1, name="logits")(x)
    return keras.Model(inputs, logits, name=name)


def compile_ctc_model(
    model: keras.Model, optimizer: str | keras.optimizers.Optimizer | None = None
) -> keras.Model:
    """Compile ``model`` with `keras.losses.CTC` (blank and padding ``0``).

    Args:
        model: A model that emits logits ``(batch, timesteps, num_classes + 1)``.
        optimizer: An optimizer name or instance; by default Adam at a learning rate
            of 0.02, which learns `make_sequences`'s data in a few epochs.

    Returns:
        The same model, compiled; its targets are padded int label arrays.
    """
    model.compile(
        optimizer=optimizer if optimizer is not None else keras.optimizers.Adam(0.02),
        loss=keras.losses.CTC(),
    )
    return model


def greedy_decode(logits: Any, sequence_lengths: Sequence[int] | None = None) -> list[list[int]]:
    """Best path decoding with `keras.ops.ctc_decode`: argmax, merge repeats, drop blanks.

    Args:
        logits: ``(batch, timesteps, num_classes + 1)`` model outputs (logits or
            probabilities: the argmax is the same).
        sequence_lengths: Valid time steps of each sample; all of them by default.

    Returns:
        One list of symbols (in ``1..num_classes``) per sample.

    Example:
    >>> # Frames say: blank, 2, 2, blank, 2, 3 -> the label 2, 2, 3.
    >>> logits = np.eye(4, dtype="float32")[[[0, 2, 2, 0, 2, 3]]]
    >>> greedy_decode(logits)
    [[2, 2, 3]]
    """
    logits = keras.ops.convert_to_tensor(logits, dtype="float32")
    batch, timesteps = keras.ops.shape(logits)[:2]
    if sequence_lengths is None:
        lengths = np.full((batch,), timesteps, dtype="int32")
    else:
        lengths = np.asarray(sequence_lengths, dtype="int32")
        if lengths.shape != (batch,) or (lengths < 0).any() or (lengths > timesteps).any():
            raise ValueError(
                f"sequence_lengths must be {batch} integers in [0, {timesteps}]. "
                f"Received: sequence_lengths={sequence_lengths!r}"
            )
    decoded, _ = keras.ops.ctc_decode(
        logits, keras.ops.convert_to_tensor(lengths), strategy="greedy", mask_index=BLANK
    )
    best = keras.ops.convert_to_numpy(decoded)[0]
    return [[int(s) for s in row if s > BLANK] for row in best]


def label_lists(labels: np.ndarray) -> list[list[int]]:
    """Padded label arrays (``0`` = padding) as lists of symbols.

    Example:
    >>> label_lists(np.array([[3, 1, 0], [2, 2, 2]]))
    [[3, 1], [2, 2, 2]]
    """
    return [[int(s) for s in row if s != BLANK] for row in np.asarray(labels)]


def sequence_accuracy(decoded: Sequence[Sequence[int]], labels: np.ndarray) -> float:
    """Fraction of samples whose decoded sequence equals the label exactly.

    Example:
    >>> sequence_accuracy([[1, 2], [3]], np.array([[1, 2], [3, 3]]))
    0.5
    """
    truth = label_lists(labels)
    if len(decoded) != len(truth):
        raise ValueError(
            f"decoded and labels must have the same length. Received: {len(decoded)} "
            f"and {len(truth)}"
        )
    return (
        float(np.mean([list(d) == t for d, t in zip(decoded, truth, strict=True)]))
        if truth
        else 0.0
    )
