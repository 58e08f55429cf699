"""The TensorFlow engine of `anykeras.loops.distributed.fit`: ``tf.distribute``.

A worker process of `fit` runs `run`, as Keras's guide "Multi-GPU distributed
training with TensorFlow" does: the model is loaded (built and compiled) inside a
strategy's ``scope()``, so each variable is mirrored on every replica, each replica
runs Keras's own ``train_step`` on its slice of the global batch (its loss scaled by
one over the number of replicas), and the optimizer sums the gradients over the
replicas before updating every copy alike.

- **Several devices, one process:** ``tf.distribute.MirroredStrategy`` and
  `keras.Model.fit`, which splits each global batch. On a machine without GPUs the
  CPU is split into N logical devices (``tf.config.set_logical_device_configuration``),
  which must happen before TensorFlow starts its runtime: hence a fresh process.
- **Several processes, one device each:** ``tf.distribute.MultiWorkerMirroredStrategy``
  (``TF_CONFIG`` names the workers, on loopback ports). Keras 3.15's `fit` fails under
  this strategy (``_maybe_symbolic_build`` reduces the data batch with
  ``strategy.reduce``, and the per-step logs are reduced with ``axis=0`` on scalars:
  ``ValueError: Invalid reduction dimension 0 for input with 0 dimensions``), so the
  epochs are a loop written out here around ``strategy.run(model.train_step)`` (and
  ``model.test_step`` for the validation data), each worker reading its own slice of
  every global batch (`ReplicaBatches`) through
  ``strategy.distribute_datasets_from_function``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import tensorflow as tf  # noqa: TID251 (loops/<backend>*.py are the one place a backend is imported)

from anykeras.loops.distributed_batches import ReplicaBatches, replica_batches
from anykeras.loops.distributed_job import (
    FaultCallback,
    die_if_told,
    load_initial_model,
    load_job,
    params,
    write_results,
)
from anykeras.training.callbacks import EpochTimer


def devices_for(count: int) -> list[str]:
    """``count`` devices for the strategy: the first GPUs, or as many logical CPUs.

    Raises:
        ValueError: There are GPUs, but fewer than ``count``.
    """
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        if len(gpus) < count:
            raise ValueError(
                f"devices={count}, but TensorFlow sees {len(gpus)} GPU(s): use devices<="
                f"{len(gpus)}, or hide the GPUs (CUDA_VISIBLE_DEVICES=) to split the CPU."
            )
        return [f"/gpu:{i}" for i in range(count)]
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
    )
    return [f"/cpu:{i}" for i in range(count)]


def run(work: Path, rank: int) -> None:
    """Train the job in ``work`` as process ``rank``; rank 0's results are the run's."""
    job, arrays = load_job(work)
    if job["processes"] > 1:
        _run_multi_worker(work, rank, job, arrays)
        return
    devices = devices_for(job["devices"])
    strategy = tf.distribute.MirroredStrategy(devices)
    with strategy.scope():
        model = load_initial_model(work)  # variables mirrored on every device
    train, validation = replica_batches(job, arrays, 0, 1)  # fit splits each batch
    timer = EpochTimer()
    history = model.fit(
        train,
        epochs=job["epochs"],
        shuffle=False,
        validation_data=validation,
        verbose=job["verbose"],
        callbacks=[train.follow_epochs(), FaultCallback(rank), timer],
    )
    run = params(job["engine"], strategy.num_replicas_in_sync, 1, devices, timer.seconds)
    write_results(work, rank, model, history.history, run)


def _run_multi_worker(work: Path, rank: int, job: dict[str, Any], arrays: dict[str, Any]) -> None:
    """One worker of a `MultiWorkerMirroredStrategy` (``TF_CONFIG`` set by the launcher)."""
    workers = job["processes"]
    options = tf.distribute.experimental.CommunicationOptions(
        timeout_seconds=job["collective_timeout"]
    )
    strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    if strategy.num_replicas_in_sync != workers:
        raise ValueError(
            f"processes={workers} on TensorFlow trains one device per worker, but the "
            f"workers hold {strategy.num_replicas_in_sync} replicas: give each worker one "
            "GPU (CUDA_VISIBLE_DEVICES) or none."
        )
    train, validation = replica_batches(job, arrays, rank, workers)
    with strategy.scope():
        model = load_initial_model(work)
        # Create the optimizer's and the compiled loss and metrics' variables here, in
        # the strategy's cross-replica context, not in the first traced step.
        model.optimizer.build(model.trainable_variables)
        sample_x, sample_y = train[0]
        y_pred = model(sample_x[:1], training=False)
        model.compute_loss(x=sample_x[:1], y=sample_y[:1], y_pred=y_pred)
        model.compute_metrics(sample_x[:1], sample_y[:1], y_pred, sample_weight=None)

    @tf.function
    def train_step(batch: Any) -> None:
        strategy.run(model.train_step, args=(batch,))

    @tf.function
    def test_step(batch: Any) -> None:
        strategy.run(model.test_step, args=(batch,))

    history: dict[str, list[float]] = {}
    seconds = []
    for epoch in range(job["epochs"]):
        started = time.perf_counter()
        passes = [("", train, train_step)]
        if validation is not None:
            passes.append(("val_", validation, test_step))
        for prefix, batches, step in passes:
            for metric in model.metrics:
                metric.reset_state()
            for batch in strategy.distribute_datasets_from_function(_dataset(batches, epoch)):
                step(batch)
                die_if_told(rank)
            for key, value in model.get_metrics_result().items():
                history.setdefault(prefix + key, []).append(float(value))
        seconds.append(time.perf_counter() - started)
    devices = [f"/job:worker/task:{i}/cpu:0" for i in range(workers)]
    run = params(job["engine"], strategy.num_replicas_in_sync, workers, devices, seconds)
    write_results(work, rank, model, history, run)


def _dataset(batches: ReplicaBatches, epoch: int) -> Any:
    """A dataset function of this worker's batches of ``epoch``, for one replica each."""
    x, y = batches[0]
    signature = (
        tf.TensorSpec((None, *x.shape[1:]), x.dtype),
        tf.TensorSpec((None, *y.shape[1:]), y.dtype),
    )

    def dataset(context: tf.distribute.InputContext) -> tf.data.Dataset:  # noqa: ARG001
        # Already this worker's slices, batched per replica: nothing to shard.
        return tf.data.Dataset.from_generator(
            lambda: batches.epoch_batches(epoch), output_signature=signature
        )

    return dataset
