"""The JAX training step and training loop, as Keras's JAX guides write them.

With JAX everything is stateless: ``train_step(self, state, data)`` receives the
values of the trainable, non-trainable, optimizer and metric variables, and returns
new ones; `fit` jits it and writes the values back into the variables. Gradients come
from ``jax.value_and_grad`` of a pure function of the trainable values
(``model.stateless_call``), the update from ``optimizer.stateless_apply``, the metrics
from ``metric.stateless_update_state``.

Use it through `anykeras.loops`, which picks this module when Keras runs on JAX.
It also holds JAX's kernels behind `anykeras.loops`'s neutral calls: a segment sum
(``jax.ops.segment_sum``) and the thread pool, which XLA fixes when JAX starts.

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

import jax  # noqa: TID251 (loops/<backend>.py is the one place a backend is imported)
import keras

from anykeras.loops import batch_size_of


class CustomStepModel(keras.Model):
    """A `keras.Model` whose ``train_step`` and ``test_step`` are written out in JAX.

    It computes what `keras.Model`'s built-in JAX step computes (the compiled loss
    with `compute_loss`, the loss tracker weighted by batch size, the compiled
    metrics), so its `fit` History equals the built-in one. Build it like a
    Functional model: ``CustomStepModel(inputs, outputs)``.
    """

    def compute_loss_and_updates(
        self,
        trainable_variables: list[Any],
        non_trainable_variables: list[Any],
        metrics_variables: list[Any],
        x: Any,
        y: Any,
        sample_weight: Any,
        training: bool = False,
    ) -> tuple[Any, tuple[Any, list[Any], list[Any]]]:
        """The loss as a pure function of the variables' values (what JAX differentiates).

        Returns:
            ``(loss, (y_pred, non_trainable_variables, metrics_variables))``, the
            updated values being those of the dropout seeds and loss trackers.
        """
        y_pred, non_trainable_variables, losses = self.stateless_call(
            trainable_variables,
            non_trainable_variables,
            x,
            return_losses=True,
            training=training,
        )
        # Losses added in `call` (add_loss) live in the stateless scope that just
        # closed; hand them to `compute_loss` the way Keras's own JAX step does.
        self._losses_override = list(losses)
        try:
            loss, (_, non_trainable_variables, metrics_variables) = self.stateless_compute_loss(
                trainable_variables,
                non_trainable_variables,
                metrics_variables,
                x=x,
                y=y,
                y_pred=y_pred,
                sample_weight=sample_weight,
                training=training,
            )
        finally:
            self._losses_override = []
        return loss, (y_pred, non_trainable_variables, metrics_variables)

    def _update_metrics(
        self,
        metrics_variables: list[Any],
        loss: Any,
        x: Any,
        y: Any,
        y_pred: Any,
        sample_weight: Any,
    ) -> tuple[dict[str, Any], list[Any]]:
        """Update every metric statelessly; return the logs and the new metric values."""
        new_metrics_variables: list[Any] = []
        logs: dict[str, Any] = {}
        for metric in self.metrics:
            start = len(new_metrics_variables)
            these = metrics_variables[start : start + len(metric.variables)]
            if metric is self._loss_tracker:
                # `fit`'s loss is the batch losses' mean weighted by batch size.
                these = metric.stateless_update_state(these, loss, sample_weight=batch_size_of(x))
            elif metric is self._compile_metrics:
                these = metric.stateless_update_state(these, y, y_pred, sample_weight=sample_weight)
            # Other metrics (per-output loss trackers) were updated by compute_loss.
            result = metric.stateless_result(these)
            logs.update(result if isinstance(result, dict) else {metric.name: result})
            new_metrics_variables += list(these)
        return logs, new_metrics_variables

    def train_step(self, state: tuple[Any, ...], data: Any) -> tuple[dict[str, Any], tuple]:
        """One gradient step on one batch, from the variables' values to new values.

        Args:
            state: ``(trainable, non_trainable, optimizer, metrics)`` variable values.
            data: The batch, ``(x, y)`` or ``(x, y, sample_weight)``.

        Returns:
            ``(logs, new_state)``.
        """
        trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables = state
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)

        grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
        (loss, (y_pred, non_trainable_variables, metrics_variables)), grads = grad_fn(
            trainable_variables,
            non_trainable_variables,
            metrics_variables,
            x,
            y,
            sample_weight,
            training=True,
        )
        trainable_variables, optimizer_variables = self.optimizer.stateless_apply(
            optimizer_variables, grads, trainable_variables
        )
        logs, metrics_variables = self._update_metrics(
            metrics_variables, loss, x, y, y_pred, sample_weight
        )
        state = (
            trainable_variables,
            non_trainable_variables,
            optimizer_variables,
            metrics_variables,
        )
        return logs, state

    def test_step(self, state: tuple[Any, ...], data: Any) -> tuple[dict[str, Any], tuple]:
        """Loss and metrics on one batch, without a gradient step.

        Args:
            state: ``(trainable, non_trainable, metrics)`` variable values.
            data: The batch, ``(x, y)`` or ``(x, y, sample_weight)``.

        Returns:
            ``(logs, new_state)``.
        """
        trainable_variables, non_trainable_variables, metrics_variables = state
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        loss, (y_pred, non_trainable_variables, metrics_variables) = self.compute_loss_and_updates(
            trainable_variables,
            non_trainable_variables,
            metrics_variables,
            x,
            y,
            sample_weight,
            training=False,
        )
        logs, metrics_variables = self._update_metrics(
            metrics_variables, loss, x, y, y_pred, sample_weight
        )
        return logs, (trainable_variables, non_trainable_variables, metrics_variables)


def _pure_train_step(
    model: keras.Model, loss_fn: keras.losses.Loss, optimizer: keras.optimizers.Optimizer
) -> Any:
    """The guide's jitted ``train_step(state, (x, y)) -> (loss, state)``: a pure function."""

    def compute_loss_and_updates(
        trainable_variables: list[Any], non_trainable_variables: list[Any], x: Any, y: Any
    ) -> tuple[Any, list[Any]]:
        y_pred, non_trainable_variables, losses = model.stateless_call(
            trainable_variables, non_trainable_variables, x, training=True, return_losses=True
        )
        loss = loss_fn(y, y_pred)
        for extra in losses:  # add_loss terms and weight regularization
            loss = loss + keras.ops.sum(extra)
        return loss, non_trainable_variables

    grad_fn = jax.value_and_grad(compute_loss_and_updates, has_aux=True)

    @jax.jit
    def train_step(state: tuple[Any, ...], data: tuple[Any, Any]) -> tuple[Any, tuple]:
        trainable_variables, non_trainable_variables, optimizer_variables = state
        x, y = data
        (loss, non_trainable_variables), grads = grad_fn(
            trainable_variables, non_trainable_variables, x, y
        )
        trainable_variables, optimizer_variables = optimizer.stateless_apply(
            optimizer_variables, grads, trainable_variables
        )
        return loss, (trainable_variables, non_trainable_variables, optimizer_variables)

    return train_step


def train_epochs(
    model: keras.Model,
    batches: list[tuple[Any, Any]],
    loss_fn: keras.losses.Loss,
    optimizer: keras.optimizers.Optimizer,
    epochs: int,
) -> list[list[float]]:
    """Train ``model`` with a JAX loop written from scratch; return every batch's loss.

    As in Keras's guide "Writing a training loop from scratch in JAX": the state is a
    tuple of variable values threaded through a jitted, pure ``train_step``; the
    values are written back into the model's variables at the end.

    Args:
        model: A built model.
        batches: ``(x, y)`` tensors, taken in order every epoch.
        loss_fn: Maps ``(y_true, y_pred)`` to the batch's scalar loss.
        optimizer: A Keras optimizer (built here if it is not yet).
        epochs: Passes over ``batches``.

    Returns:
        ``losses[epoch][batch]``, the loss of each step before its update.
    """
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    train_step = _pure_train_step(model, loss_fn, optimizer)
    state = (
        [v.value for v in model.trainable_variables],
        [v.value for v in model.non_trainable_variables],
        [v.value for v in optimizer.variables],
    )
    history = []
    for _ in range(epochs):
        losses = []
        for batch in batches:
            loss, state = train_step(state, batch)
            losses.append(loss)
        history.append([float(loss) for loss in losses])

    # Write the final values back into the variables (the guide's last step).
    trainable_values, non_trainable_values, optimizer_values = state
    for variable, value in zip(model.trainable_variables, trainable_values, strict=True):
        variable.assign(value)
    for variable, value in zip(model.non_trainable_variables, non_trainable_values, strict=True):
        variable.assign(value)
    for variable, value in zip(optimizer.variables, optimizer_values, strict=True):
        variable.assign(value)
    return history


_FORWARD: weakref.WeakKeyDictionary[keras.Model, Any] = weakref.WeakKeyDictionary()


def forward(model: keras.Model) -> Any:
    """``model``'s jitted inference pass on the variables' values now: ``f(x) -> y``.

    The compiled function is kept per model, so a second `anykeras.loops.predict`
    traces nothing; the values are read at each call of this function.
    """
    if model not in _FORWARD:

        def call(trainable: list[Any], non_trainable: list[Any], x: Any) -> Any:
            y, _ = model.stateless_call(trainable, non_trainable, x, training=False)
            return y

        _FORWARD[model] = jax.jit(call)
    compiled = _FORWARD[model]
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    return lambda x: compiled(trainable, non_trainable, x)


def segment_sum(data: Any, segment_ids: Any, num_segments: int) -> Any:
    """The rows of ``data`` summed per id: ``jax.ops.segment_sum``."""
    return jax.ops.segment_sum(data, segment_ids, num_segments)


def threads() -> None:
    """``None``: XLA sizes its CPU thread pool when JAX starts, and does not say."""
    return


def set_threads(count: int) -> bool:  # noqa: ARG001 (the neutral call's signature)
    """``False``: XLA's CPU thread pool cannot change once JAX has started."""
    return False


def feed(dataset: keras.utils.PyDataset) -> keras.utils.PyDataset:
    """``dataset`` itself: Keras reads it in the training loop, without a prefetch thread."""
    return dataset
