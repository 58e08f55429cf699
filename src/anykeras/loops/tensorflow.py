"""The TensorFlow training step and training loop, as Keras's TensorFlow guides write them.

The forward pass runs under a ``tf.GradientTape``; ``tape.gradient`` gives the
gradients and the Keras optimizer applies them. `fit` wraps ``train_step`` in a
``tf.function``; the loop from scratch does the same with its own step.

Use it through `anykeras.loops`, which picks this module when Keras runs on TensorFlow.
It also holds TensorFlow's kernels behind `anykeras.loops`'s neutral calls: a segment
sum (``tf.math.unsorted_segment_sum``), the size of the intra-op thread pool, and a
``tf.data`` feed for a ``PyDataset``.

Example:
>>> import keras
>>> import numpy as np
>>> inputs = keras.Input((3,))
>>> model = CustomStepModel(inputs, keras.layers.Dense(1)(inputs))
>>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
>>> x, y = np.ones((4, 3), dtype="float32"), np.zeros((4, 1), dtype="float32")
>>> sorted(model.fit(x, y, epochs=2, verbose=0).history)
['loss', 'mae']
"""

from __future__ import annotations

import weakref
from typing import Any

import keras
import numpy as np
import tensorflow as tf  # noqa: TID251 (loops/<backend>.py is the one place a backend is imported)


def _batch_size(x: Any) -> Any:
    """Samples in the batch, as Keras's trainer counts them (the first input's rows).

    ``tf.shape`` rather than ``.shape``: inside a ``tf.function`` the last, smaller
    batch's size is only known when the step runs.
    """
    return tf.shape(next(i for i in keras.tree.flatten(x) if i is not None))[0]


class CustomStepModel(keras.Model):
    """A `keras.Model` whose ``train_step`` and ``test_step`` are written out in TensorFlow.

    It computes what `keras.Model`'s built-in TensorFlow step computes (the compiled
    loss with `compute_loss`, the loss tracker weighted by batch size, the compiled
    metrics), so its `fit` History equals the built-in one. Build it like a
    Functional model: ``CustomStepModel(inputs, outputs)``.
    """

    def train_step(self, data: Any) -> dict[str, Any]:
        """One gradient step on one batch.

        Args:
            data: The batch, ``(x, y)`` or ``(x, y, sample_weight)``.

        Returns:
            The metrics' values so far in the epoch, ``loss`` first.
        """
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(
                x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True
            )
        # `fit`'s loss is the batch losses' mean weighted by batch size.
        self._loss_tracker.update_state(loss, sample_weight=_batch_size(x))
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, data: Any) -> dict[str, Any]:
        """Loss and metrics on one batch, without a gradient step.

        Args:
            data: The batch, ``(x, y)`` or ``(x, y, sample_weight)``.

        Returns:
            The metrics' values so far in the evaluation, ``loss`` first.
        """
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(
            x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False
        )
        self._loss_tracker.update_state(loss, sample_weight=_batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)


def train_epochs(
    model: keras.Model,
    batches: list[tuple[Any, Any]],
    loss_fn: keras.losses.Loss,
    optimizer: keras.optimizers.Optimizer,
    epochs: int,
) -> list[list[float]]:
    """Train ``model`` with a TensorFlow loop written from scratch; return every batch's loss.

    As in Keras's guide "Writing a training loop from scratch in TensorFlow": a
    ``tf.function`` step with a ``GradientTape`` and ``optimizer.apply``.

    Args:
        model: A built model.
        batches: ``(x, y)`` tensors, taken in order every epoch.
        loss_fn: Maps ``(y_true, y_pred)`` to the batch's scalar loss.
        optimizer: A Keras optimizer.
        epochs: Passes over ``batches``.

    Returns:
        ``losses[epoch][batch]``, the loss of each step before its update.
    """

    # reduce_retracing: the last batch may be smaller; one trace serves both sizes.
    @tf.function(reduce_retracing=True)
    def train_step(x: Any, y: Any) -> Any:
        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = loss_fn(y, y_pred)
            for extra in model.losses:  # add_loss terms and weight regularization
                loss = loss + tf.reduce_sum(extra)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(gradients, model.trainable_variables)
        return loss

    history = []
    for _ in range(epochs):
        losses = [train_step(x, y) for x, y in batches]
        history.append([float(loss) for loss in losses])
    return history


_FORWARD: weakref.WeakKeyDictionary[keras.Model, Any] = weakref.WeakKeyDictionary()


def forward(model: keras.Model) -> Any:
    """``model``'s inference pass as a ``tf.function`` (XLA when the model has it on).

    Kept per model: its variables are read when it runs, so it stays right after
    training.
    """
    if model not in _FORWARD:
        _FORWARD[model] = tf.function(
            lambda x: model(x, training=False),
            jit_compile=model.jit_compile is True,
            reduce_retracing=True,  # the last, shorter batch: one more trace, not one each
        )
    return _FORWARD[model]


def segment_sum(data: Any, segment_ids: Any, num_segments: int) -> Any:
    """The rows of ``data`` summed per id: ``tf.math.unsorted_segment_sum``."""
    return tf.math.unsorted_segment_sum(data, segment_ids, num_segments)


def threads() -> int:
    """The threads of TensorFlow's intra-op pool (0: one per core, TensorFlow's default)."""
    return tf.config.threading.get_intra_op_parallelism_threads()


def set_threads(count: int) -> bool:
    """Size the intra-op pool; ``False`` once TensorFlow has started (it is fixed then)."""
    try:
        tf.config.threading.set_intra_op_parallelism_threads(count)
    except RuntimeError:  # "... cannot be modified after initialization"
        return False
    return True


def feed(dataset: keras.utils.PyDataset) -> tf.data.Dataset:
    """``dataset``'s batches as a ``tf.data.Dataset`` read by the training loop itself.

    Keras wraps a ``PyDataset`` in ``tf.data.Dataset.from_generator`` and prefetches it
    on a background thread. On a CPU that thread and the training step contend for the
    cores and for Python's lock: an IMDB epoch of packed batches took 0.20-0.26 s that
    way and 0.15 s without the prefetch, as fast as from tensors in memory. Each epoch
    reads the batches anew, in order, so batches that follow the epoch (a seeded order)
    keep it. The batch axis, and any axis after the second, may vary between batches.
    """

    def spec(array: Any) -> tf.TensorSpec:
        array = np.asarray(array)
        shape = (None, *array.shape[1:2], *([None] * (array.ndim - 2)))
        return tf.TensorSpec(shape, tf.as_dtype(array.dtype))

    signature = tuple(spec(array) for array in dataset[0])

    def batches() -> Any:
        for index in range(len(dataset)):
            yield tuple(dataset[index])

    data = tf.data.Dataset.from_generator(batches, output_signature=signature)
    # A known length, so that fit's progress bar shows the steps of an epoch.
    return data.apply(tf.data.experimental.assert_cardinality(len(dataset)))
