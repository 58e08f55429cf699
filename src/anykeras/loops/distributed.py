"""Data-parallel training on many devices with `keras.distribution`.

`keras.distribution.DataParallel` copies the model onto every device of a 1D mesh and
splits each batch among them; gradients are combined, so training gives the same
result as on one device (up to the order of floating point sums). The model code and
the `fit` call stay as they are::

    distribution = data_parallel()        # every device keras.distribution sees
    model = build(spec)                   # variables created now are replicated
    compile_model(model, spec)
    model.fit(x, y, batch_size=64)        # each of N devices gets 64 / N samples

In Keras 3.15 the distribution API drives training on the JAX backend only: the
PyTorch backend has no ``keras.distribution`` implementation, and TensorFlow's is an
unused DTensor prototype that `fit` ignores. `data_parallel` says so instead of
training silently on one device. See ``docs/how-to/scale-to-many-devices.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from anykeras.spec import check_int

#: Backends on which ``keras.distribution`` drives `fit` in Keras 3.15.
SUPPORTED_BACKENDS = ("jax",)

_ALTERNATIVES = {
    "tensorflow": "tf.distribute.MirroredStrategy (its scope around building and compiling)",
    "torch": "torch.nn.parallel.DistributedDataParallel launched with torchrun",
}


def check_backend(backend: str | None = None) -> None:
    """Raise a clear `RuntimeError` unless ``keras.distribution`` works on ``backend``.

    Args:
        backend: A backend name; the current one (``keras.backend.backend()``) by
            default.

    Raises:
        RuntimeError: On any backend but JAX, naming the backend and what to use
            instead.

    Example:
    >>> check_backend("jax")
    >>> check_backend("torch")
    Traceback (most recent call last):
    ...
    RuntimeError: keras.distribution.DataParallel trains on the JAX backend only (...). ...
    """
    backend = backend or keras.backend.backend()
    if backend not in SUPPORTED_BACKENDS:
        alternative = _ALTERNATIVES.get(backend, "the backend's own distribution tools")
        raise RuntimeError(
            "keras.distribution.DataParallel trains on the JAX backend only (Keras 3.15). "
            f"Received: backend={backend!r}. Set KERAS_BACKEND=jax, or use {alternative}."
        )


def data_parallel(
    devices: int | Sequence[str] | None = None,
    activate: bool = True,
    auto_shard_dataset: bool = True,
) -> keras.distribution.DataParallel:
    """A `keras.distribution.DataParallel` over some or all devices, set globally.

    Build the model AFTER this call (or inside ``distribution.scope()``): the
    variables are replicated onto the devices when they are created.

    Args:
        devices: ``None`` for every device `keras.distribution.list_devices` returns
            (the GPUs or TPUs if there are any, else the CPUs); an int ``n`` for the
            first ``n`` of them; or a list of device names such as
            ``["gpu:0", "gpu:1"]``.
        activate: Make it the global distribution with
            `keras.distribution.set_distribution`. With ``False``, use it as a
            context: ``with distribution.scope(): ...``.
        auto_shard_dataset: With several processes (hosts), let Keras shard a
            `tf.data.Dataset` among them; set ``False`` when each process already
            reads its own shard. Ignored in a single process.

    Returns:
        The `DataParallel` distribution; its ``device_mesh.shape`` is ``(n,)``.

    Raises:
        RuntimeError: On a backend where Keras's distribution API does not train
            (see `check_backend`).
        ValueError: For an unknown device or a count out of range.

    Example:
        ```python
        # KERAS_BACKEND=jax; on CPU, XLA_FLAGS=--xla_force_host_platform_device_count=4
        distribution = data_parallel()          # DataParallel over cpu:0..cpu:3
        model = build(spec)
        compile_model(model, spec)
        per_device_batch_size(64, 4, num_samples=len(x))   # 16, or a clear error
        model.fit(x, y, batch_size=64)          # every batch splits over the 4 devices
        keras.distribution.set_distribution(None)   # back to one device
        ```
    """
    check_backend()
    available = keras.distribution.list_devices()
    if devices is None:
        chosen = list(available)
    elif isinstance(devices, int) and not isinstance(devices, bool):
        if not 1 <= devices <= len(available):
            raise ValueError(
                f"devices must be a count in [1, {len(available)}] (the devices Keras sees: "
                f"{available}). Received: devices={devices}"
            )
        chosen = list(available[:devices])
    elif isinstance(devices, Sequence) and not isinstance(devices, (str, bytes)) and devices:
        chosen = [str(device).lower() for device in devices]
        unknown = [device for device in chosen if device not in available]
        if unknown or len(set(chosen)) != len(chosen):
            raise ValueError(
                f"devices must be distinct names from keras.distribution.list_devices(), "
                f"i.e. {available}. Received: devices={list(devices)!r}"
            )
    else:
        raise ValueError(
            "devices must be None, a positive count or a non-empty list of device names. "
            f"Received: devices={devices!r}"
        )
    distribution = keras.distribution.DataParallel(
        devices=chosen, auto_shard_dataset=auto_shard_dataset
    )
    if activate:
        keras.distribution.set_distribution(distribution)
    return distribution


def per_device_batch_size(batch_size: int, num_devices: int, num_samples: int | None = None) -> int:
    """Samples each device gets from a global batch; every batch must split evenly.

    Under `DataParallel` on JAX, each batch that `fit`, `evaluate` or `predict` sees
    is cut into ``num_devices`` equal shards, and one that does not divide raises
    JAX's ``IndivisibleError`` (in Keras 3.15 the model is then unusable until
    rebuilt). That includes the last, partial batch: give ``num_samples`` to check
    it too.

    Args:
        batch_size: The global batch size given to `fit`.
        num_devices: Devices in the data-parallel mesh.
        num_samples: Number of samples, whose remainder forms the last batch.

    Returns:
        ``batch_size // num_devices``.

    Raises:
        ValueError: If the batch, or the last batch, does not split evenly.

    Example:
    >>> per_device_batch_size(64, 4)
    16
    >>> per_device_batch_size(30, 4)
    Traceback (most recent call last):
    ...
    ValueError: batch_size must be a multiple of the 4 devices. Received: batch_size=30
    >>> per_device_batch_size(32, 4, num_samples=250)
    Traceback (most recent call last):
    ...
    ValueError: the last batch must also split over the 4 devices, ...
    """
    values = {"batch_size": batch_size, "num_devices": num_devices}
    if num_samples is not None:
        values["num_samples"] = num_samples
    for name, value in values.items():
        check_int(name, value)
    if batch_size % num_devices:
        raise ValueError(
            f"batch_size must be a multiple of the {num_devices} devices. "
            f"Received: batch_size={batch_size}"
        )
    if num_samples is not None and (num_samples % batch_size) % num_devices:
        raise ValueError(
            f"the last batch must also split over the {num_devices} devices, but "
            f"{num_samples} samples in batches of {batch_size} leave {num_samples % batch_size}. "
            f"Use a number of samples that is a multiple of {num_devices}. "
            f"Received: num_samples={num_samples}"
        )
    return batch_size // num_devices
