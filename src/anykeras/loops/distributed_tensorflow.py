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
  epochs are a loop written out here around ``strategy.run(model.train_step)``, each
  worker reading its own slice of every global batch (`local_rows`) through
  ``strategy.distribute_datasets_from_function``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf  # noqa: TID251 (loops/<backend>*.py are the one place a backend is imported)

from anykeras.loops.distributed import (
    FaultCallback,
    die_if_told,
    load_initial_model,
    load_job,
    local_rows,
    write_results,
)


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
    job, x, y = load_job(work)
    if job["processes"] > 1:
        _run_multi_worker(work, rank, job, x, y)
        return
    devices = devices_for(job["devices"])
    strategy = tf.distribute.MirroredStrategy(devices)
    with strategy.scope():
        model = load_initial_model(work)  # variables mirrored on every device
    history = model.fit(
        np.asarray(x),
        np.asarray(y),
        batch_size=job["batch_size"],
        epochs=job["epochs"],
        shuffle=False,
        verbose=job["verbose"],
        callbacks=[FaultCallback(rank)],
    )
    write_results(
        work, rank, model, history.history, job["engine"], strategy.num_replicas_in_sync, 1, devices
    )


def _run_multi_worker(
    work: Path, rank: int, job: dict[str, Any], x: np.ndarray, y: np.ndarray
) -> None:
    """One worker of a `MultiWorkerMirroredStrategy` (``TF_CONFIG`` set by the launcher)."""
    workers, batch_size = job["processes"], job["batch_size"]
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
    rows = local_rows(len(x), batch_size, rank, workers)
    local_x, local_y = np.asarray(x[rows]), np.asarray(y[rows])
    with strategy.scope():
        model = load_initial_model(work)
        # Create the optimizer's and the compiled loss and metrics' variables here, in
        # the strategy's cross-replica context, not in the first traced step.
        model.optimizer.build(model.trainable_variables)
        sample_x, sample_y = local_x[:1], local_y[:1]
        y_pred = model(sample_x, training=False)
        model.compute_loss(x=sample_x, y=sample_y, y_pred=y_pred)
        model.compute_metrics(sample_x, sample_y, y_pred, sample_weight=None)

    def dataset(context: tf.distribute.InputContext) -> tf.data.Dataset:
        # This worker's slices of the global batches, in order.
        return tf.data.Dataset.from_tensor_slices((local_x, local_y)).batch(
            context.get_per_replica_batch_size(batch_size)
        )

    batches = strategy.distribute_datasets_from_function(dataset)

    @tf.function
    def step(batch: Any) -> None:
        strategy.run(model.train_step, args=(batch,))

    history: dict[str, list[float]] = {}
    for _ in range(job["epochs"]):
        for metric in model.metrics:
            metric.reset_state()
        for batch in batches:
            step(batch)
            die_if_told(rank)
        for key, value in model.get_metrics_result().items():
            history.setdefault(key, []).append(float(value))
    devices = [f"/job:worker/task:{i}/cpu:0" for i in range(workers)]
    write_results(
        work, rank, model, history, job["engine"], strategy.num_replicas_in_sync, workers, devices
    )
