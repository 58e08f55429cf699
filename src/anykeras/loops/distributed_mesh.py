"""`data_parallel`: a ``keras.distribution.DataParallel`` over a 1D mesh of devices.

The JAX-only building block for a script that manages its own devices (see
`anykeras.loops.distributed`): ``keras.distribution.DataParallel`` copies the model
onto every device of the mesh and splits each batch among them. In Keras 3.15 the
distribution API drives training on the JAX backend only, so `check_backend` says so
on the other two instead of letting them train silently on one device.

This module imports no backend.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

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
