"""A custom metric and a custom loss, written only with `keras.ops` (so: any backend).

`RootMeanSquaredError` is the course's stateful metric (chapter 7): it keeps a running
sum of squared errors and a sample count in two variables, across any number of
`update_state` calls, until `reset_state`. `BinaryCrossentropy` is the binary
classifier's loss written out from its formula. Both compute what Keras's own
classes of the same names compute, and both serialize into `.keras` files.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

__all__ = ["BinaryCrossentropy", "RootMeanSquaredError"]


def _match_ranks(a: Any, b: Any) -> tuple[Any, Any]:
    """Expand (rank 1) or squeeze a trailing axis of 1, so ``a`` and ``b`` pair up.

    ``(batch,)`` labels against ``(batch, 1)`` predictions become ``(batch, 1)``
    both, as Keras's own losses and metrics pair them.
    """
    rank_a, rank_b = len(a.shape), len(b.shape)
    if rank_a == rank_b + 1 and a.shape[-1] == 1:
        if rank_b == 1:
            b = ops.expand_dims(b, axis=-1)
        else:
            a = ops.squeeze(a, axis=-1)
    elif rank_b == rank_a + 1 and b.shape[-1] == 1:
        if rank_a == 1:
            a = ops.expand_dims(a, axis=-1)
        else:
            b = ops.squeeze(b, axis=-1)
    return a, b


def _mean_from(x: Any, axis: int) -> Any:
    """The mean of ``x`` over its axes from ``axis`` on (``x`` itself if there are none)."""
    rank = len(x.shape)
    return ops.mean(x, axis=tuple(range(axis, rank))) if rank > axis else x


@keras.saving.register_keras_serializable(package="anykeras")
class RootMeanSquaredError(keras.metrics.Metric):
    """The root of the mean squared error over everything seen since the last reset.

    The state is two variables, the (weighted) sum of squared errors and the
    (weighted) number of samples: each `update_state` adds a batch to both, and
    `result` is ``sqrt(total / count)``. A sample's error is the mean of its squared
    errors over the trailing axes. With ``sample_weight`` (one weight per sample, or
    one per value) each sample counts that many times; a scalar weight counts the
    whole batch that many times, as in Keras.

    Args:
        name: Name of the metric, the key of its value in `fit`'s History.
        dtype: Dtype of the state and the result; `keras.config.floatx()` by default.

    Example:
    >>> m = RootMeanSquaredError()
    >>> m.update_state([[0.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 1.0]])
    >>> round(float(m.result()), 4)
    0.5
    >>> m.update_state([[1.0]], [[3.0]], sample_weight=[2.0])  # one sample, counted twice
    >>> round(float(m.result()) ** 2, 4)  # (0.5 + 2 * 4) / (2 + 2)
    2.125
    >>> m.reset_state()
    >>> float(m.result())
    0.0
    """

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        # The metric should go down as the model improves (used by e.g. EarlyStopping).
        self._direction = "down"
        self.total = self.add_variable(
            shape=(), initializer=keras.initializers.Zeros(), dtype=self.dtype, name="total"
        )
        self.count = self.add_variable(
            shape=(), initializer=keras.initializers.Zeros(), dtype=self.dtype, name="count"
        )

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add a batch's squared errors (and its number of samples) to the state.

        Args:
            y_true: Targets, ``(batch, ...)``.
            y_pred: Predictions of the same shape (a trailing axis of 1 may differ).
            sample_weight: ``None``, a scalar, or weights broadcastable to the
                squared errors, e.g. ``(batch,)``.

        Raises:
            ValueError: ``sample_weight`` does not broadcast to the errors' shape.
        """
        y_true = ops.convert_to_tensor(y_true, dtype=self.dtype)
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        y_true, y_pred = _match_ranks(y_true, y_pred)
        errors = ops.square(ops.subtract(y_pred, y_true))

        if sample_weight is None:
            # One error per sample: the mean over every axis but the batch axis.
            per_sample = _mean_from(errors, 1)
            num_samples = ops.shape(per_sample)[0] if len(per_sample.shape) else 1
            self.total.assign_add(ops.sum(per_sample))
            self.count.assign_add(ops.cast(num_samples, self.dtype))
            return

        weights = ops.convert_to_tensor(sample_weight, dtype=self.dtype)
        errors, weights = _match_ranks(errors, weights)
        if len(weights.shape) > len(errors.shape):
            raise ValueError(
                "sample_weight must broadcast to the squared errors' shape. Received: "
                f"sample_weight.shape={tuple(weights.shape)}, errors' shape={tuple(errors.shape)}"
            )
        # Average the errors down to the weights' rank, weight them, then average the
        # weighted errors (and the weights) down to one value per sample.
        errors = _mean_from(errors, len(weights.shape))
        weights = ops.broadcast_to(weights, ops.shape(errors))
        weighted = _mean_from(ops.multiply(errors, weights), 1)
        weights = _mean_from(weights, 1)
        self.total.assign_add(ops.sum(weighted))
        self.count.assign_add(ops.sum(weights))

    def result(self) -> Any:
        """``sqrt(total / count)``; 0 before any sample (or with all weights 0)."""
        return ops.sqrt(ops.divide_no_nan(self.total, self.count))

    def reset_state(self) -> None:
        """Forget every batch seen so far (`fit` calls it at each epoch's start)."""
        self.total.assign(ops.zeros((), dtype=self.dtype))
        self.count.assign(ops.zeros((), dtype=self.dtype))

    def get_config(self) -> dict[str, Any]:
        """Everything `__init__` needs to make the same metric again (its name and dtype)."""
        return super().get_config()


@keras.saving.register_keras_serializable(package="anykeras")
class BinaryCrossentropy(keras.losses.Loss):
    """Binary crossentropy, written out from its formula with `keras.ops`.

    For a label ``y`` in [0, 1] and a predicted probability ``p`` (clipped to
    ``[eps, 1 - eps]``), ``-(y log p + (1 - y) log(1 - p))``; with
    ``from_logits=True``, ``p = sigmoid(z)`` computed stably as
    ``-(y log_sigmoid(z) + (1 - y) log_sigmoid(-z))``. Each sample's loss is the
    mean over its last axis; the batch's loss follows ``reduction`` (the mean over
    samples by default, `sample_weight` weighting each sample).

    Args:
        from_logits: Whether predictions are logits rather than probabilities.
        label_smoothing: In [0, 1]: labels move towards 0.5 by this fraction,
            ``y * (1 - label_smoothing) + 0.5 * label_smoothing``.
        reduction: How the per-sample losses become one value, as in `keras.losses.Loss`.
        name: Name of the loss.
        dtype: Dtype of the computation; `keras.config.floatx()` by default.

    Raises:
        ValueError: ``label_smoothing`` is not a number in [0, 1].

    Example:
    >>> loss = BinaryCrossentropy()
    >>> round(float(loss([[0.0], [1.0]], [[0.2], [0.6]])), 4)
    0.367
    >>> round(float(BinaryCrossentropy(from_logits=True)([[1.0]], [[0.0]])), 4)
    0.6931
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        reduction: str | None = "sum_over_batch_size",
        name: str = "binary_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if (
            isinstance(label_smoothing, bool)
            or not isinstance(label_smoothing, (int, float))
            or not 0 <= label_smoothing <= 1
        ):
            raise ValueError(
                "label_smoothing must be a number in [0, 1]. "
                f"Received: label_smoothing={label_smoothing!r}"
            )
        self.from_logits = bool(from_logits)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """The loss of each sample: the mean crossentropy over the last axis."""
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.cast(y_true, y_pred.dtype)
        y_true, y_pred = _match_ranks(y_true, y_pred)
        if self.label_smoothing:
            y_true = y_true * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        if self.from_logits:
            log_p, log_not_p = ops.log_sigmoid(y_pred), ops.log_sigmoid(-y_pred)
        else:
            eps = keras.config.epsilon()
            p = ops.clip(y_pred, eps, 1.0 - eps)
            log_p, log_not_p = ops.log(p), ops.log(1.0 - p)
        crossentropy = -(y_true * log_p + (1.0 - y_true) * log_not_p)
        return ops.mean(crossentropy, axis=-1)

    def get_config(self) -> dict[str, Any]:
        """Everything `__init__` needs to make the same loss again."""
        config = super().get_config()
        config.update({"from_logits": self.from_logits, "label_smoothing": self.label_smoothing})
        return config
