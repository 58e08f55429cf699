"""The JAX engine of `anykeras.loops.distributed.fit`: ``keras.distribution.DataParallel``.

A worker process of `fit` runs `run`. Two layouts:

- **Several devices, one process.** The launcher started this process with
  ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` (N virtual CPU devices;
  GPUs, where there are any, come first). `data_parallel` puts a 1D mesh over N
  devices, the model is loaded (its variables replicated) and `keras.Model.fit` cuts
  each global batch into N shards.
- **Several processes, one device each.** ``jax.distributed.initialize`` joins the
  processes (process 0's address is the coordinator, on loopback); CPU collectives
  go through ``gloo``. The mesh spans every process's devices. Each process feeds its
  own slice of every global batch (`ReplicaBatches`) with ``auto_shard_dataset=False``,
  and Keras assembles the global batch with ``jax.make_array_from_process_local_data``.

Either way the loss and metrics are computed on the global batch (validation
included), so the History is that of one device.
"""

from __future__ import annotations

from pathlib import Path

import jax  # noqa: TID251 (loops/<backend>*.py are the one place a backend is imported)

from anykeras.loops.distributed_batches import replica_batches
from anykeras.loops.distributed_job import (
    FaultCallback,
    load_initial_model,
    load_job,
    params,
    write_results,
)
from anykeras.loops.distributed_mesh import data_parallel
from anykeras.training.callbacks import EpochTimer


def run(work: Path, rank: int) -> None:
    """Train the job in ``work`` as process ``rank``; rank 0's results are the run's."""
    job, arrays = load_job(work)
    processes = job["processes"]
    if processes > 1:
        # CPU devices of several processes talk through gloo; this must be chosen
        # before JAX starts its backends (GPUs and TPUs use their own collectives).
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        timeout = job["collective_timeout"]
        jax.distributed.initialize(
            coordinator_address=job["addresses"][0],
            coordinator_bind_address=job["addresses"][0],  # listen on loopback only
            num_processes=processes,
            process_id=rank,
            initialization_timeout=timeout,
            heartbeat_timeout_seconds=timeout,
            shutdown_timeout_seconds=timeout,
        )
        distribution = data_parallel(auto_shard_dataset=False)  # every process's devices
    else:
        distribution = data_parallel(devices=job["devices"])
    # Each process feeds its slice of every global batch; one process, the whole batch.
    train, validation = replica_batches(job, arrays, rank, processes)
    model = load_initial_model(work)  # built under the distribution: replicated
    timer = EpochTimer()
    history = model.fit(
        train,
        epochs=job["epochs"],
        shuffle=False,
        validation_data=validation,
        verbose=job["verbose"] if rank == 0 else 0,
        callbacks=[train.follow_epochs(), FaultCallback(rank), timer],
    )
    devices = [str(device) for device in distribution.device_mesh.devices.flatten()]
    run = params(job["engine"], len(devices), processes, devices, timer.seconds)
    write_results(work, rank, model, history.history, run)
    if processes > 1:
        jax.distributed.shutdown()
