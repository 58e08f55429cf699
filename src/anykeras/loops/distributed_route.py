"""`DataParallelRoute`: the course's workflow, trained data-parallel through `distributed.fit`.

The workflow (`anykeras.training.run_workflow`) asks its route what runs ``fit``; this
route hands each phase (the validation run, the retrain on all the data) to
`anykeras.loops.distributed.fit`, with the same seeded sample order as one device, so
the run is that of the plain route up to the order of float32 sums: the same best
epoch, the same test accuracy. ``anykeras train --processes 2`` (or ``--devices 4``)
takes it.

The training runs in worker processes, so Keras callbacks cannot run inside it. The
workflow's own epoch-level ones (the non-finite-loss check, the epoch timer) are
replayed from the History when the workers are done; anything else (early stopping,
checkpoints, backups for resuming, TensorBoard, per-batch logs) is refused with one
line before any work starts.

Example:
>>> route = DataParallelRoute(processes=2)
>>> route.name, route.replicas
('data-parallel', 2)
>>> DataParallelRoute(devices=2, processes=2)
Traceback (most recent call last):
...
anykeras.training.run_conflicts.RunConfigError: one of devices and processes may be more ...
"""

from __future__ import annotations

import time
from typing import Any

import keras
import numpy as np

from anykeras.loops.distributed import fit as distributed_fit
from anykeras.spec import check_int
from anykeras.training.batches import SeededBatches
from anykeras.training.callbacks import EpochTimer, StopOnNonFinite
from anykeras.training.route import Route
from anykeras.training.run_config import RunConfig
from anykeras.training.run_conflicts import ONE_DEVICE_ONLY

#: What data-parallel training cannot do (`anykeras.RunConfig` refuses them up front).
NOT_WITH_REPLICAS = ", ".join(ONE_DEVICE_ONLY).replace("_", " ")


class DataParallelRoute(Route):
    """The plain route, each ``fit`` run by `distributed.fit` on several replicas.

    Args:
        devices: Devices in one worker process (JAX, TensorFlow).
        processes: Worker processes, one device each (every backend).
        timeout: Seconds each phase may take before its workers are stopped.
    """

    name = "data-parallel"

    def __init__(self, devices: int = 1, processes: int = 1, timeout: float = 3600.0) -> None:
        check_int("devices", devices)
        check_int("processes", processes)
        if devices > 1 and processes > 1:  # the rule and its words: RunConfig's CONFLICTS
            RunConfig(devices=devices, processes=processes)
        self.devices, self.processes, self.timeout = devices, processes, timeout

    @property
    def replicas(self) -> int:
        """Replicas that share each global batch."""
        return self.devices * self.processes

    def inputs(self, x: np.ndarray, training: bool = True) -> Any:
        """Training rows as they are (the workers cast each batch to float32)."""
        return np.asarray(x) if training else super().inputs(x, training=False)

    def fit(self, model: keras.Model, data: Any, **options: Any) -> keras.callbacks.History:
        """`distributed.fit` on ``data``, then the epoch-level callbacks replayed."""
        if options.get("initial_epoch"):
            raise ValueError(
                "data-parallel training cannot resume from a backup. "
                f"Received: initial_epoch={options['initial_epoch']}"
            )
        callbacks = [c for c in options.get("callbacks") or () if not _follows(c, data)]
        refused = [c for c in callbacks if not isinstance(c, (EpochTimer, StopOnNonFinite))]
        if refused:
            names = ", ".join(type(c).__name__ for c in refused)
            raise ValueError(
                f"data-parallel training runs in worker processes, where callbacks cannot "
                f"run; it has no {NOT_WITH_REPLICAS}. Received callbacks: {names}"
            )
        if isinstance(data, SeededBatches):
            x, y, seed = data.x, data.y, data.order.seed
        else:  # arrays: in order, or shuffled by an order drawn now
            (x, y), seed = data, None
            if options.get("shuffle"):
                seed = int(np.random.default_rng().integers(2**32))
        batch_size = options.get("batch_size") or data.batch_size
        started = time.perf_counter()
        history = distributed_fit(
            model, x, y,
            batch_size=batch_size,
            epochs=options.get("epochs", 1),
            devices=self.devices,
            processes=self.processes,
            validation_data=options.get("validation_data"),
            seed=seed,
            timeout=self.timeout,
            verbose=options.get("verbose", 0),
        )  # fmt: skip
        _replay(callbacks, history, time.perf_counter() - started)
        return history


def _follows(callback: keras.callbacks.Callback, data: Any) -> bool:
    """Whether ``callback`` is the one that tells ``data`` (`SeededBatches`) the epoch."""
    return getattr(callback, "batches", None) is data


def _replay(
    callbacks: list[keras.callbacks.Callback], history: keras.callbacks.History, seconds: float
) -> None:
    """Each epoch's end, as ``fit`` would have called it; timers get the workers' times."""
    epochs = len(history.epoch)
    for callback in callbacks:
        if isinstance(callback, EpochTimer):
            # The workers' epochs; the start-up (workers, files) goes to the first.
            measured = list(history.params.get("epoch_seconds") or [])
            if len(measured) != epochs:
                measured = [seconds / max(epochs, 1)] * epochs
            elif epochs:
                measured[0] += max(seconds - sum(measured), 0.0)
            callback.seconds.extend(measured)
            continue
        for epoch in range(epochs):
            logs = {key: values[epoch] for key, values in history.history.items()}
            callback.on_epoch_end(epoch, logs)
