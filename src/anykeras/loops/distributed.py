"""Data-parallel training on many devices or processes, through each backend's engine.

Two levels:

- `fit` trains a compiled model data-parallel with one call on every backend, through
  the backend's own engine: ``keras.distribution.DataParallel`` on JAX (over several
  devices, or several processes joined by ``jax.distributed``),
  ``tf.distribute.MirroredStrategy`` on TensorFlow (several devices in one process)
  and ``torch.nn.parallel.DistributedDataParallel`` on PyTorch (one process per
  device, ``gloo`` on CPU). The training runs in fresh worker processes on this
  machine (devices and the engines' collectives are fixed when a backend starts),
  and the trained weights come back into the model::

      history = fit(model, x, y, batch_size=64, epochs=3, processes=2)

  With the same initial weights and the same global batches in the same order, N
  replicas train to the weights and history of one device, up to the order of
  float32 sums (``tests/test_distributed.py`` measures it on every backend).
- `data_parallel` is the JAX-only building block for a script that manages its own
  devices: ``keras.distribution.DataParallel`` copies the model onto every device of
  a 1D mesh and splits each batch among them. The model code and the `fit` call stay
  as they are::

      distribution = data_parallel()        # every device keras.distribution sees
      model = build(spec)                   # variables created now are replicated
      compile_model(model, spec)
      model.fit(x, y, batch_size=64)        # each of N devices gets 64 / N samples

  In Keras 3.15 the distribution API drives training on the JAX backend only: the
  PyTorch backend has no ``keras.distribution`` implementation, and TensorFlow's is
  an unused DTensor prototype that `fit` ignores. `data_parallel` says so instead of
  training silently on one device (`anykeras.loops.distributed_mesh`).

This module imports no backend: the engines live in ``anykeras.loops.distributed_jax``,
``distributed_torch`` and ``distributed_tensorflow``, which only the worker processes
import; ``distributed_workers`` starts, watches and stops those processes,
``distributed_job`` is what they read and write, ``distributed_batches`` which samples
each replica takes, and ``distributed_route`` lets the course's workflow (``anykeras
train --processes 2``) train through `fit`. The names of ``distributed_mesh`` and
``distributed_batches`` are importable from here too. See
``docs/how-to/scale-to-many-devices.md``.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from anykeras.loops import as_rows, check_samples
from anykeras.loops.distributed_batches import (
    local_rows,
    per_device_batch_size,
    replica_batches,
    replica_rows,
)
from anykeras.loops.distributed_job import params
from anykeras.loops.distributed_mesh import SUPPORTED_BACKENDS, check_backend, data_parallel
from anykeras.loops.distributed_workers import launch
from anykeras.loops.launcher_env import refuse_under_launcher
from anykeras.spec import check_int

__all__ = [
    "ENGINES",
    "SUPPORTED_BACKENDS",
    "WHAT_WORKS",
    "check_backend",
    "check_engine",
    "data_parallel",
    "fit",
    "local_rows",
    "params",
    "per_device_batch_size",
    "replica_rows",
]

#: The engine `fit` uses on each backend: (several devices in one process, several
#: processes on this machine); ``None`` where the backend's engine does not do that.
ENGINES: dict[str, tuple[str | None, str | None]] = {
    "jax": ("keras.distribution.DataParallel", "keras.distribution.DataParallel + jax.distributed"),
    "tensorflow": ("tf.distribute.MirroredStrategy", "tf.distribute.MultiWorkerMirroredStrategy"),
    "torch": (None, "torch.nn.parallel.DistributedDataParallel"),
}

#: What `fit` does on each backend, as its error for anything else says it.
WHAT_WORKS = {
    "jax": "devices=N (virtual CPU devices, or GPUs) or processes=N (jax.distributed)",
    "tensorflow": "devices=N (MirroredStrategy) or processes=N (MultiWorkerMirroredStrategy)",
    "torch": "processes=N (one process per device, DistributedDataParallel)",
}


def check_engine(backend: str, devices: int, processes: int) -> str:
    """The name of the engine that trains ``devices`` x ``processes`` replicas on ``backend``.

    Raises:
        ValueError: One line saying what works on ``backend``, for a combination its
            engine (as anykeras drives it) does not do.

    Example:
    >>> check_engine("torch", 1, 2)
    'torch.nn.parallel.DistributedDataParallel'
    >>> check_engine("torch", 2, 1)
    Traceback (most recent call last):
    ...
    ValueError: devices=2, processes=1 is not supported on torch; what works there: processes=N ...
    """
    check_int("devices", devices)
    check_int("processes", processes)
    in_process, across = ENGINES.get(backend, (None, None))
    engine = None
    if devices == 1 and processes == 1:
        engine = "keras.Model.fit on one device"
    elif processes == 1:
        engine = in_process
    elif devices == 1:
        engine = across
    if engine is None:
        what = WHAT_WORKS.get(backend, f"nothing: the backends are {sorted(ENGINES)}")
        raise ValueError(
            f"devices={devices}, processes={processes} is not supported on {backend}; "
            f"what works there: {what}."
        )
    return engine


def fit(
    model: keras.Model,
    x: Any,
    y: Any,
    *,
    batch_size: int,
    epochs: int = 1,
    devices: int = 1,
    processes: int = 1,
    validation_data: tuple[Any, Any] | None = None,
    seed: int | None = None,
    timeout: float = 3600.0,
    verbose: int = 0,
) -> keras.callbacks.History:
    """Train ``model`` data-parallel through the backend's own engine; like `Model.fit`.

    ``devices`` x ``processes`` replicas each take an equal, contiguous slice of every
    global batch of ``batch_size`` samples; their gradients are averaged before each
    update, so the training is that of one device with the same batches, up to the
    order of float32 sums. The engine is the backend's own (`ENGINES`):
    ``keras.distribution.DataParallel`` (JAX, with ``jax.distributed`` across
    processes), ``tf.distribute.MirroredStrategy`` and ``MultiWorkerMirroredStrategy``
    (TensorFlow), ``DistributedDataParallel`` with ``gloo`` on CPU or ``nccl`` on GPUs
    (PyTorch).

    With more than one replica the training runs in fresh processes on this machine
    (loopback addresses only; `anykeras.loops.distributed_workers`): one process with
    ``devices`` devices, or ``processes`` processes of one device each. On CPU, JAX
    gets virtual devices (``XLA_FLAGS=--xla_force_host_platform_device_count``) and
    TensorFlow logical ones. The model travels as a `anykeras.saving.save_model` file,
    so its initial weights, loss, metrics and optimizer settings are those of
    ``model``; on return ``model`` holds the trained weights and optimizer state. A
    worker that fails or dies stops the others and raises; nothing waits longer than
    ``timeout``.

    Args:
        model: A compiled `keras.Model` whose classes `keras.saving.load_model` finds
            (Keras's own, anykeras's, or registered ones).
        x: Inputs: one array, one row per sample. Integer rows (uint8 multi-hot, say)
            are cast to floatx batch by batch, so the workers share the small array.
        y: Targets: one array, one row per sample.
        batch_size: The global batch size: every global batch, the last one included,
            must split evenly over the replicas (`per_device_batch_size`); the
            validation batches too.
        epochs: Passes over the data.
        devices: Devices in one process (JAX, TensorFlow).
        processes: Processes on this machine, one device each (every backend). One
            of ``devices`` and ``processes`` may be more than 1, not both.
        validation_data: ``(x_val, y_val)``, evaluated after every epoch on every
            replica's slices; the History gets the ``val_`` values of one device.
        seed: Epoch ``e`` takes the samples in the order
            ``EpochOrder(seed).permutation(len(x), e)``, as the workflow's routes do on
            one device; ``None`` (the default) takes them in order, unshuffled.
        timeout: Seconds the whole run may take before its workers are stopped.
        verbose: Passed to the workers' `fit` (rank 0's progress goes to this
            process's standard output).

    Returns:
        A `keras.callbacks.History`: ``history.history`` has one value per epoch for
        the loss and each compiled metric, computed over the global batches (and
        their ``val_`` twins with ``validation_data``); ``history.params`` names the
        engine, the replicas and their devices, and gives each epoch's wall time in
        the workers (``epoch_seconds``).

    Raises:
        ValueError: An argument is invalid, a batch does not split evenly, or the
            backend's engine does not do this combination (one line: what works).
        RuntimeError: A worker failed, died or ran past ``timeout`` (which worker,
            how, and the end of its log).

    Example:
        ```python
        model = build(spec)
        compile_model(model, spec)
        history = fit(model, x, y, batch_size=64, epochs=3, processes=2)  # every backend
        history = fit(model, x, y, batch_size=64, epochs=3, devices=4)    # JAX, TensorFlow
        ```
    """
    backend = keras.backend.backend()
    refuse_under_launcher()  # never train alone in each of a launcher's processes, never nest
    check_int("batch_size", batch_size)
    check_int("epochs", epochs)
    check_int("seed", seed, minimum=0, allow_none=True)
    engine = check_engine(backend, devices, processes)
    arrays = _checked_arrays(model, x, y, validation_data)
    replicas = devices * processes
    per_device_batch_size(batch_size, replicas, num_samples=len(arrays["x"]))
    if "x_val" in arrays:
        per_device_batch_size(batch_size, replicas, num_samples=len(arrays["x_val"]))
    settings = {"batch_size": batch_size, "epochs": epochs, "seed": seed, "verbose": verbose}
    if replicas == 1:
        return _fit_here(model, arrays, engine, settings)
    job = {"backend": backend, "engine": engine, "devices": devices, "processes": processes}
    trained, result = launch(model, arrays, {**job, **settings}, timeout)
    _copy_state(trained, model)
    history = keras.callbacks.History()
    history.set_model(model)
    history.set_params(result["params"])
    history.history = result["history"]
    history.epoch = list(range(epochs))
    return history


def _checked_arrays(
    model: keras.Model, x: Any, y: Any, validation_data: tuple[Any, Any] | None
) -> dict[str, np.ndarray]:
    """``x``, ``y``, ``x_val``, ``y_val`` as arrays, once ``model`` and they are checked."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model. Received: {type(model).__name__}")
    if not getattr(model, "compiled", False) or model.optimizer is None:
        raise ValueError(
            "model must be compiled (with an optimizer and a loss) before fit. "
            f"Received: an uncompiled {type(model).__name__} named {model.name!r}"
        )
    arrays = {"x": _as_rows(x, "x"), "y": _as_rows(y, "y")}
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError(
                "validation_data must be a pair (x_val, y_val). "
                f"Received: a {type(validation_data).__name__}"
            )
        arrays["x_val"] = _as_rows(validation_data[0], "x_val")
        arrays["y_val"] = _as_rows(validation_data[1], "y_val")
    for inputs, targets in (("x", "y"), ("x_val", "y_val")):
        if inputs in arrays:
            check_samples(arrays[inputs], arrays[targets], inputs, targets)
    return arrays


def _fit_here(
    model: keras.Model, arrays: dict[str, np.ndarray], engine: str, settings: dict[str, Any]
) -> keras.callbacks.History:
    """One replica: `keras.Model.fit` in this process, on the batches the replicas take."""
    from anykeras.training.callbacks import EpochTimer

    batches, validation = replica_batches(settings, arrays, 0, 1)
    timer = EpochTimer()
    history = model.fit(
        batches,
        epochs=settings["epochs"],
        shuffle=False,
        validation_data=validation,
        callbacks=[batches.follow_epochs(), timer],
        verbose=settings["verbose"],
    )
    history.params = {**(history.params or {}), **params(engine, 1, 1, [], timer.seconds)}
    return history


def _as_rows(data: Any, label: str) -> np.ndarray:
    """``data`` as one NumPy array with one row per sample, floats cast to floatx."""
    if isinstance(data, (dict, list, tuple)):
        raise TypeError(
            f"{label} must be one array (one input, one target); several inputs or "
            f"outputs are not supported by distributed.fit. Received: a {type(data).__name__}"
        )
    return as_rows(data, label)


def _copy_state(trained: keras.Model, model: keras.Model) -> None:
    """Weights, then optimizer state (when both have the same variables), into ``model``."""
    model.set_weights(trained.get_weights())
    source = trained.optimizer
    if source is None or not source.built:
        return
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    targets = model.optimizer.variables
    if len(targets) == len(source.variables):
        for target, value in zip(targets, source.variables, strict=True):
            target.assign(keras.ops.convert_to_numpy(value))
