"""The PyTorch engine of `anykeras.loops.distributed.fit`: ``DistributedDataParallel``.

A worker process of `fit` runs `run`, one process per device, as Keras's guide
"Multi-GPU distributed training with PyTorch" does: ``torch.distributed`` joins the
processes (``gloo`` on CPU, ``nccl`` when every process has its own GPU), the Keras
model (a ``torch.nn.Module`` on this backend) is wrapped in
``torch.nn.parallel.DistributedDataParallel``, and a training loop written out here
feeds each process its slice of every global batch (`ReplicaBatches`: the split
``DistributedSampler`` makes of one batch, in the job's epoch order).

The step is `keras.Model`'s own PyTorch step, through the DDP wrapper: the compiled
loss (`compute_loss`), ``loss.backward()`` (DDP averages the gradients over the
processes as they are computed) and the Keras optimizer's ``apply``. Every process
then holds the same weights. For the History, each process keeps the loss tracker and
the compiled metrics on its own samples; at the end of each epoch their state
variables are summed over the processes (``all_reduce``), which gives the values of
one device on the global batches for every metric whose state is made of sums (the
mean-based ones, accuracy, AUC, precision, ...).
"""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Any

import keras
import torch  # noqa: TID251 (loops/<backend>*.py are the one place a backend is imported)
import torch.distributed as dist  # noqa: TID251

from anykeras.loops.distributed_batches import ReplicaBatches, replica_batches
from anykeras.loops.distributed_job import (
    die_if_told,
    load_initial_model,
    load_job,
    params,
    write_results,
)


def run(work: Path, rank: int) -> None:
    """Train the job in ``work`` as process ``rank``; rank 0's results are the run's."""
    job, arrays = load_job(work)
    world = job["processes"]
    gpus = torch.cuda.device_count()
    use_gpu = gpus >= world
    if use_gpu:
        torch.cuda.set_device(rank)  # Keras's "cuda" device is then this process's GPU
    dist.init_process_group(
        "nccl" if use_gpu else "gloo",
        init_method="env://",
        rank=rank,
        world_size=world,
        timeout=datetime.timedelta(seconds=job["collective_timeout"]),
    )
    try:
        model = load_initial_model(work)
        train, validation = replica_batches(job, arrays, rank, world)
        ddp = torch.nn.parallel.DistributedDataParallel(model)  # broadcasts rank 0's weights
        history: dict[str, list[float]] = {}
        seconds = []
        for epoch in range(job["epochs"]):
            started = time.perf_counter()
            _record(history, "", _pass(model, ddp, train, epoch, rank))
            if validation is not None:
                _record(history, "val_", _pass(model, ddp, validation, 0, rank, training=False))
            seconds.append(time.perf_counter() - started)
        devices = [f"cuda:{i}" if use_gpu else f"cpu (process {i})" for i in range(world)]
        run = params(job["engine"], world, world, devices, seconds)
        write_results(work, rank, model, history, run)
        dist.barrier()
    finally:
        dist.destroy_process_group()


def _pass(
    model: keras.Model,
    ddp: torch.nn.parallel.DistributedDataParallel,
    batches: ReplicaBatches,
    epoch: int,
    rank: int,
    training: bool = True,
) -> dict[str, Any]:
    """One pass over this process's batches: DDP steps, or (validation) no gradients.

    Returns the loss and the compiled metrics, their states summed over the processes.
    """
    loss_tracker = keras.metrics.Mean(name="loss")
    metrics = [metric for metric in model.metrics if metric.name != "loss"]
    for metric in metrics:
        metric.reset_state()
    for x_rows, y_rows in batches.epoch_batches(epoch):
        xb, yb = keras.ops.convert_to_tensor(x_rows), keras.ops.convert_to_tensor(y_rows)
        if training:
            model.zero_grad()
            y_pred = ddp(xb, training=True)
            loss = model.compute_loss(x=xb, y=yb, y_pred=y_pred, training=True)
            loss.backward()  # DDP all-reduces (averages) the gradients here
            weights = list(model.trainable_weights)
            with torch.no_grad():
                model.optimizer.apply([w.value.grad for w in weights], weights)
            die_if_told(rank)
        else:
            with torch.no_grad():
                y_pred = model(xb, training=False)
                loss = model.compute_loss(x=xb, y=yb, y_pred=y_pred, training=False)
        loss_tracker.update_state(loss.detach(), sample_weight=xb.shape[0])
        model.compute_metrics(xb, yb, y_pred, sample_weight=None)
    for metric in (loss_tracker, *metrics):
        for variable in metric.variables:
            total = variable.value.detach().clone()
            dist.all_reduce(total, op=dist.ReduceOp.SUM)
            variable.assign(total)
    values = {"loss": loss_tracker.result()}
    values.update((k, v) for k, v in model.get_metrics_result().items() if k != "loss")
    return values


def _record(history: dict[str, list[float]], prefix: str, values: dict[str, Any]) -> None:
    for key, value in values.items():
        history.setdefault(prefix + key, []).append(float(keras.ops.convert_to_numpy(value)))
