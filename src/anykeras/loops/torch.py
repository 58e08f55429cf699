"""The PyTorch training step and training loop, as Keras's PyTorch guides write them.

Keras variables are ``torch`` parameters, so the step is PyTorch's own: clear the
old gradients with ``zero_grad()``, call ``loss.backward()``, read each variable's
``.value.grad`` and let the Keras optimizer ``apply`` them under ``torch.no_grad()``.

Use it through `anykeras.loops`, which picks this module when Keras runs on PyTorch.
It also holds PyTorch's fast kernels behind `anykeras.loops`'s neutral calls: a
segment sum (``index_add``), a gather-and-sum (``embedding_bag``) and the size of the
intra-op thread pool.

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

from typing import Any

import keras
import torch  # noqa: TID251 (loops/<backend>.py is the one place a backend is imported)

from anykeras.loops import batch_size_of


def _backward_and_apply(
    model: keras.Model, loss: Any, optimizer: keras.optimizers.Optimizer
) -> None:
    """``loss.backward()``, then the optimizer applies each variable's ``.grad``."""
    trainable_weights = list(model.trainable_weights)
    loss.backward()
    gradients = [v.value.grad for v in trainable_weights]
    with torch.no_grad():
        optimizer.apply(gradients, trainable_weights)


class CustomStepModel(keras.Model):
    """A `keras.Model` whose ``train_step`` and ``test_step`` are written out in PyTorch.

    It computes what `keras.Model`'s built-in PyTorch step computes (the compiled
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
        y_pred = self(x, training=True)
        # Clear the gradients the previous step left on the weights.
        self.zero_grad()
        loss = self.compute_loss(
            x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True
        )
        # `fit`'s loss is the batch losses' mean weighted by batch size.
        self._loss_tracker.update_state(loss, sample_weight=batch_size_of(x))
        _backward_and_apply(self, loss, self.optimizer)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, data: Any) -> dict[str, Any]:
        """Loss and metrics on one batch, without a gradient step.

        Args:
            data: The batch, ``(x, y)`` or ``(x, y, sample_weight)``.

        Returns:
            The metrics' values so far in the evaluation, ``loss`` first.
        """
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with torch.no_grad():
            y_pred = self(x, training=False)
            loss = self.compute_loss(
                x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False
            )
            self._loss_tracker.update_state(loss, sample_weight=batch_size_of(x))
            return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)


def train_epochs(
    model: keras.Model,
    batches: list[tuple[Any, Any]],
    loss_fn: keras.losses.Loss,
    optimizer: keras.optimizers.Optimizer,
    epochs: int,
) -> list[list[float]]:
    """Train ``model`` with a PyTorch loop written from scratch; return every batch's loss.

    As in Keras's guide "Writing a training loop from scratch in PyTorch", with a
    Keras optimizer and a Keras loss.

    Args:
        model: A built model.
        batches: ``(x, y)`` tensors, taken in order every epoch.
        loss_fn: Maps ``(y_true, y_pred)`` to the batch's scalar loss.
        optimizer: A Keras optimizer.
        epochs: Passes over ``batches``.

    Returns:
        ``losses[epoch][batch]``, the loss of each step before its update.
    """
    history = []
    for _ in range(epochs):
        losses = []
        for x, y in batches:
            y_pred = model(x, training=True)
            loss = loss_fn(y, y_pred)
            for extra in model.losses:  # add_loss terms and weight regularization
                loss = loss + torch.sum(extra)
            model.zero_grad()
            _backward_and_apply(model, loss, optimizer)
            losses.append(loss.detach())
        history.append([float(loss) for loss in losses])
    return history


def forward(model: keras.Model) -> Any:
    """``model``'s inference pass without autograd: ``f(x) -> y``."""

    def call(x: Any) -> Any:
        with torch.no_grad():
            return model(x, training=False)

    return call


def segment_sum(data: Any, segment_ids: Any, num_segments: int) -> Any:
    """``keras.ops.segment_sum`` as one ``index_add``: the rows of ``data`` summed per id.

    Keras's PyTorch ``segment_sum`` broadcasts the ids to ``data``'s shape and calls
    ``scatter_reduce``; ``index_add`` adds whole rows, and its gradient is one
    ``index_select``: about 3x faster, forward and backward, on a CPU.
    """
    data = torch.as_tensor(data)
    ids = torch.as_tensor(segment_ids, device=data.device).long()
    return data.new_zeros((int(num_segments), *data.shape[1:])).index_add(0, ids, data)


class _BagSum(torch.autograd.Function):
    """``embedding_bag``'s sum forward; the table's gradient as one ``index_add``.

    PyTorch's own ``embedding_bag`` backward sorts the ids first, which on a CPU costs
    more than the ``index_add`` that autograd gives a gather and a segment sum.
    """

    @staticmethod
    def forward(ctx: Any, table: Any, ids: Any, segments: Any, offsets: Any) -> Any:
        ctx.save_for_backward(ids, segments)
        ctx.rows = table.shape[0]
        return torch.nn.functional.embedding_bag(ids, table, offsets, mode="sum")

    @staticmethod
    def backward(ctx: Any, grad: Any) -> tuple[Any, None, None, None]:
        ids, segments = ctx.saved_tensors
        grad = grad.contiguous()  # index_add adds a strided (e.g. broadcast) source slowly
        summed = grad.new_zeros((ctx.rows, grad.shape[1]))
        return summed.index_add(0, ids, grad.index_select(0, segments)), None, None, None


def gather_sum(table: Any, ids: Any, segment_ids: Any, num_segments: int, pad_id: int) -> Any:
    """``table[ids]`` summed per segment, ``pad_id`` left out (`anykeras.loops.gather_sum`).

    Kept ids first and segments in order (packed batches): one ``embedding_bag`` over
    the kept entries, the sums of an ``index_add`` (to float32 rounding) in a tenth of
    the time, and one ``index_add`` for the gradient. Any other layout: the kept
    entries gathered with ``index_select`` and summed with ``index_add``.
    """
    ids, segments, num_segments = ids.long(), segment_ids.long(), int(num_segments)
    keep = ids != pad_id
    kept = int(keep.sum())
    if table.ndim == 2 and _bags_in_order(keep, segments[:kept], num_segments):
        ids, segments = ids[:kept], segments[:kept]
        counts = torch.bincount(segments, minlength=num_segments)
        return _BagSum.apply(table, ids, segments, counts.cumsum(0) - counts)
    ids, segments = ids[keep], segments[keep]
    summed = table.new_zeros((num_segments, *table.shape[1:]))
    return summed.index_add(0, segments, table.index_select(0, ids))


def _bags_in_order(keep: Any, head: Any, num_segments: int) -> bool:
    """Whether the kept entries come first (``head``) with segments ascending, in range."""
    if not len(head):
        return True
    return (
        bool(keep[: len(head)].all())
        and bool((head[1:] >= head[:-1]).all())
        and int(head[0]) >= 0
        and int(head[-1]) < num_segments
    )


def threads() -> int:
    """The threads of PyTorch's intra-op pool."""
    return torch.get_num_threads()


def set_threads(count: int) -> bool:
    """Size PyTorch's intra-op pool (possible at any time); returns ``True``."""
    torch.set_num_threads(count)
    return torch.get_num_threads() == count


def feed(dataset: keras.utils.PyDataset) -> keras.utils.PyDataset:
    """``dataset`` itself: Keras reads it in the training loop, without a prefetch thread."""
    return dataset
