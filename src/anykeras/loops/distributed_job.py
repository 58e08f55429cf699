"""What a worker process of `anykeras.loops.distributed.fit` reads and writes.

`anykeras.loops.distributed_workers.launch` writes the job into a fresh folder (the
model as a `anykeras.saving.save_model` file, the data as ``.npy`` files, the settings
as ``job.json``); each engine (``anykeras.loops.distributed_<backend>``) reads it with
`load_job` and `load_initial_model`, and writes its results with `write_results`.
`FaultCallback` and `die_if_told` let the tests kill a worker in the middle of a run.

This module imports no backend.
"""

from __future__ import annotations

import json
import os
import signal
import warnings
from pathlib import Path
from typing import Any

import keras
import numpy as np

#: A worker started with this variable set to its rank kills itself (SIGKILL) after its
#: first training step: the tests' way to check that a dead worker fails the run.
FAULT_ENV = "ANYKERAS_DISTRIBUTED_KILL_RANK"
#: The arrays a job may hold, each saved as ``<name>.npy``.
ARRAYS = ("x", "y", "x_val", "y_val")


def load_job(work: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """A worker's job and its arrays (memory-mapped: the workers share the pages).

    It also seeds Keras's random generators with the job's random seed, the same in
    every worker.
    """
    job = json.loads((work / "job.json").read_text(encoding="utf-8"))
    keras.utils.set_random_seed(job["random_seed"])
    arrays = {
        name: np.load(work / f"{name}.npy", mmap_mode="r")
        for name in ARRAYS
        if (work / f"{name}.npy").exists()
    }
    return job, arrays


def load_initial_model(work: Path) -> keras.Model:
    """The model as the caller gave it (weights, loss, metrics, optimizer settings)."""
    from anykeras.saving import load_model

    with warnings.catch_warnings():
        # An optimizer that has not trained yet has no state to load: Keras says so.
        warnings.filterwarnings("ignore", "Skipping variable loading for optimizer")
        return load_model(work / "initial.keras")


def params(
    engine: str,
    replicas: int,
    processes: int,
    devices: list[str],
    epoch_seconds: list[float] | None = None,
) -> dict[str, Any]:
    """What ``History.params`` says of a run.

    Its engine, replicas, processes and devices, and the wall time of each epoch
    (validation included) in the process that trained.
    """
    return {
        "engine": engine,
        "replicas": replicas,
        "processes": processes,
        "devices": devices,
        "epoch_seconds": [float(s) for s in epoch_seconds or []],
    }


def write_results(
    work: Path, rank: int, model: keras.Model, history: dict[str, list[float]], run: dict[str, Any]
) -> None:
    """A worker's output: the trained model file and the history; rank 0's are the result.

    ``run`` is what ``History.params`` says of the run (`params`). Every worker calls
    this, so that whatever saving computes runs in every process (on JAX, an operation
    on a variable that spans processes is a collective that all of them must enter);
    the other ranks' files are not read.
    """
    from anykeras.saving import save_model, write_json_atomically

    suffix = "" if rank == 0 else f"-{rank}"
    save_model(model, work / f"trained{suffix}.keras")
    history = {key: [float(value) for value in values] for key, values in history.items()}
    path = work / f"history{suffix}.json"
    write_json_atomically(path, {"history": history, "params": run})


def fault_rank() -> int | None:
    """The rank told to die by `FAULT_ENV` (tests only), or ``None``."""
    value = os.environ.get(FAULT_ENV)
    return int(value) if value not in (None, "") else None


def die_if_told(rank: int) -> None:
    """SIGKILL this process if `FAULT_ENV` names ``rank``: no cleanup, as a crash."""
    if fault_rank() == rank:
        os.kill(os.getpid(), signal.SIGKILL)


class FaultCallback(keras.callbacks.Callback):
    """Kills the worker of rank ``rank`` after its first batch when `FAULT_ENV` says so."""

    def __init__(self, rank: int) -> None:
        super().__init__()
        self.rank = rank

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Die after the first batch, if told to."""
        die_if_told(self.rank)
