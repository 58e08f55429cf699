"""The worker processes of `anykeras.loops.distributed.fit`: started, watched, stopped.

The launcher side (`launch`) writes the job into a fresh folder (the model as a
`anykeras.saving.save_model` file, the data as ``.npy`` files, the settings as
``job.json``), starts one process per rank with the environment its engine reads
(``XLA_FLAGS``, ``TF_CONFIG``, ``MASTER_ADDR``...; loopback addresses only), and waits:
the first worker that fails or dies, or the timeout, stops them all, and the error
says who, how, and ends with that worker's log.

The worker side is ``python -m anykeras.loops.distributed_workers WORK RANK``: it
imports the backend's engine (``anykeras.loops.distributed_<backend>``), which reads
the job with `load_job`, takes its rows of every global batch from `ReplicaBatches`,
and writes its results with `write_results`.

This module imports no backend.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import keras
import numpy as np

from anykeras.loops.distributed import params, replica_rows

#: A worker started with this variable set to its rank kills itself (SIGKILL) after its
#: first training step: the tests' way to check that a dead worker fails the run.
FAULT_ENV = "ANYKERAS_DISTRIBUTED_KILL_RANK"
#: Seconds any one collective (or the start-up rendezvous) may wait for the others.
COLLECTIVE_TIMEOUT = 300
_LOOPBACK = "127.0.0.1"
#: The arrays a job may hold, each saved as ``<name>.npy``.
ARRAYS = ("x", "y", "x_val", "y_val")


def launch(
    model: keras.Model, arrays: dict[str, np.ndarray], job: dict[str, Any], timeout: float
) -> tuple[keras.Model, dict[str, Any]]:
    """Train ``model`` in worker processes; the trained model and rank 0's results.

    Args:
        model: The compiled model, saved for the workers to load.
        arrays: ``x``, ``y`` and, optionally, ``x_val`` and ``y_val``.
        job: What the engines read: ``backend``, ``engine``, ``devices``,
            ``processes``, ``batch_size``, ``epochs``, ``seed`` (the epoch order, or
            ``None``) and ``verbose``.
        timeout: Seconds before every worker is stopped.

    Returns:
        The trained model (loaded from rank 0's file) and ``{"history", "params"}``.
    """
    from anykeras.saving import load_model, save_model

    with tempfile.TemporaryDirectory(prefix="anykeras-distributed-") as tmp:
        work = Path(tmp)
        save_model(model, work / "initial.keras")
        for name, array in arrays.items():
            np.save(work / f"{name}.npy", array)
        job = {
            **job,
            # Loopback only: the coordinator (JAX), the master (PyTorch), the workers (TF).
            "addresses": [f"{_LOOPBACK}:{port}" for port in _free_ports(job["processes"])],
            "collective_timeout": int(min(COLLECTIVE_TIMEOUT, max(timeout, 1))),
            # One seed for every worker (a replicated variable must start equal in all
            # processes); drawn from NumPy's generator, which keras.utils.set_random_seed
            # seeds, so a seeded caller gets the same run again.
            "random_seed": int(np.random.randint(2**31 - 1)),  # noqa: NPY002 (the seeded one)
        }
        (work / "job.json").write_text(json.dumps(job), encoding="utf-8")
        _run_workers(job, work, timeout)
        trained = load_model(work / "trained.keras")
        result = json.loads((work / "history.json").read_text(encoding="utf-8"))
    return trained, result


def _free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports free on the loopback address now (the OS picks them)."""
    probes = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for probe in probes:
            probe.bind((_LOOPBACK, 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def _worker_env(job: dict[str, Any], rank: int) -> dict[str, str]:
    """The environment of worker ``rank``: the backend, its devices, its peers."""
    package_root = str(Path(__file__).resolve().parents[2])
    env = {
        **os.environ,
        "KERAS_BACKEND": job["backend"],
        "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
    }
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if job["backend"] == "jax":
        # Devices per process are fixed when JAX starts: N virtual CPU devices (GPUs,
        # where there are any, are listed first and are not affected).
        flags = [
            flag
            for flag in env.get("XLA_FLAGS", "").split()
            if not flag.startswith("--xla_force_host_platform_device_count")
        ]
        flags.append(f"--xla_force_host_platform_device_count={job['devices']}")
        env["XLA_FLAGS"] = " ".join(flags)
    if job["backend"] == "tensorflow" and job["processes"] > 1:
        cluster = {"worker": job["addresses"]}
        env["TF_CONFIG"] = json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": rank}}
        )
    if job["backend"] == "torch":
        host, port = job["addresses"][0].rsplit(":", 1)
        env.update(
            MASTER_ADDR=host,
            MASTER_PORT=port,
            RANK=str(rank),
            LOCAL_RANK=str(rank),
            WORLD_SIZE=str(job["processes"]),
        )
        if sys.platform.startswith("linux"):
            env.setdefault("GLOO_SOCKET_IFNAME", "lo")  # loopback only
    return env


def _run_workers(job: dict[str, Any], work: Path, timeout: float) -> None:
    """Start the workers, wait for all of them; stop all at the first failure or timeout."""
    command = [sys.executable, "-m", "anykeras.loops.distributed_workers", str(work)]
    workers: list[subprocess.Popen[bytes]] = []
    logs = []
    start = time.monotonic()
    try:
        for rank in range(job["processes"]):
            log = (work / f"worker-{rank}.log").open("wb")  # closed in `finally`
            logs.append(log)
            shown = rank == 0 and job["verbose"]
            workers.append(
                subprocess.Popen(
                    [*command, str(rank)],
                    env=_worker_env(job, rank),
                    stdout=None if shown else log,
                    stderr=log,
                    start_new_session=True,  # its own process group, stopped as one
                )
            )
        while True:
            codes = [worker.poll() for worker in workers]
            failed = [rank for rank, code in enumerate(codes) if code not in (None, 0)]
            elapsed = time.monotonic() - start
            if failed:
                raise RuntimeError(_failure(job, work, failed, codes, elapsed))
            if all(code == 0 for code in codes):
                return
            if elapsed > timeout:
                running = [rank for rank, code in enumerate(codes) if code is None]
                raise RuntimeError(
                    f"distributed fit ({job['engine']}, {_layout(job)}) ran past "
                    f"timeout={timeout:g} s: worker(s) {running} still running were stopped."
                    f"{_log_tail(work, running[0])}"
                )
            time.sleep(0.05)
    finally:
        for worker in workers:
            _stop(worker)
        for log in logs:
            log.close()


def _layout(job: dict[str, Any]) -> str:
    return f"devices={job['devices']}, processes={job['processes']}"


def _failure(
    job: dict[str, Any], work: Path, failed: list[int], codes: list[int | None], elapsed: float
) -> str:
    """One message for the workers that failed: who, how, when, and the end of a log."""

    def how(code: int | None) -> str:
        if code is not None and code < 0:
            return f"was killed by {signal.Signals(-code).name}"
        return f"exited with code {code}"

    who = "; ".join(f"worker {rank} {how(codes[rank])}" for rank in failed)
    others = [rank for rank, code in enumerate(codes) if code is None]
    stopped = f"; the other workers {others} were stopped" if others else ""
    return (
        f"distributed fit ({job['engine']}, {_layout(job)}) failed after {elapsed:.1f} s: "
        f"{who}{stopped}.{_log_tail(work, failed[0])}"
    )


def _log_tail(work: Path, rank: int, lines: int = 20) -> str:
    path = work / f"worker-{rank}.log"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    tail = "\n".join(text.rstrip().splitlines()[-lines:])
    return f"\nLast lines of worker {rank}'s log:\n{tail}" if tail else ""


def _stop(worker: subprocess.Popen[bytes]) -> None:
    """End a worker and its process group: SIGTERM, then SIGKILL after 5 s."""
    if worker.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 30.0)):
        try:
            os.killpg(worker.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            worker.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


# What the workers share (each engine module calls these).


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


class ReplicaBatches(keras.utils.PyDataset):
    """One replica's slice of every global batch, epoch after epoch (`replica_rows`).

    Integer inputs (uint8 multi-hot rows, say) become floatx batch by batch. Give it
    to `keras.Model.fit` with ``shuffle=False`` and `follow_epochs` among the
    callbacks, or read `epoch_batches` in a loop of your own.

    Args:
        x: Inputs, one row per sample (a memory-mapped array is fine).
        y: Targets.
        batch_size: The GLOBAL batch size.
        part: This replica's number, from 0.
        parts: Replicas that feed their own slices (1 when ``fit`` splits the batch).
        seed: The epoch order's seed; ``None`` for the samples in order.

    Example:
    >>> x, y = np.arange(20, dtype="uint8").reshape(10, 2), np.arange(10)
    >>> batches = ReplicaBatches(x, y, batch_size=4, part=1, parts=2)
    >>> len(batches), batches[0][1].tolist(), batches[2][1].tolist(), batches[0][0].dtype
    (3, [2, 3], [9], dtype('float32'))
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        part: int = 0,
        parts: int = 1,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.x, self.y = x, y
        self.batch_size, self.part, self.parts, self.seed = batch_size, part, parts, seed
        self.epoch = 0
        self._rows: tuple[int, np.ndarray] | None = None

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if self._rows is None or self._rows[0] != self.epoch:
            rows = replica_rows(
                len(self.x), self.batch_size, self.part, self.parts, self.seed, self.epoch
            )
            self._rows = (self.epoch, rows)
        local = self.batch_size // self.parts
        rows = self._rows[1][index * local : (index + 1) * local]
        x = np.asarray(self.x[rows])
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(keras.config.floatx())
        return x, np.asarray(self.y[rows])

    def epoch_batches(self, epoch: int) -> Any:
        """The batches of ``epoch``, in order."""
        self.epoch = epoch
        return (self[index] for index in range(len(self)))

    def follow_epochs(self) -> keras.callbacks.Callback:
        """A callback that keeps `epoch` equal to the epoch ``fit`` is running."""
        return keras.callbacks.LambdaCallback(
            on_epoch_begin=lambda epoch, _logs=None: setattr(self, "epoch", epoch)
        )


def replica_batches(
    job: dict[str, Any], arrays: dict[str, np.ndarray], part: int, parts: int
) -> tuple[ReplicaBatches, ReplicaBatches | None]:
    """This replica's training batches (in the job's epoch order) and validation batches."""
    batch_size = job["batch_size"]
    train = ReplicaBatches(arrays["x"], arrays["y"], batch_size, part, parts, job["seed"])
    if "x_val" not in arrays:
        return train, None
    return train, ReplicaBatches(arrays["x_val"], arrays["y_val"], batch_size, part, parts)


def load_initial_model(work: Path) -> keras.Model:
    """The model as the caller gave it (weights, loss, metrics, optimizer settings)."""
    from anykeras.saving import load_model

    with warnings.catch_warnings():
        # An optimizer that has not trained yet has no state to load: Keras says so.
        warnings.filterwarnings("ignore", "Skipping variable loading for optimizer")
        return load_model(work / "initial.keras")


def write_results(
    work: Path,
    rank: int,
    model: keras.Model,
    history: dict[str, list[float]],
    engine: str,
    replicas: int,
    processes: int,
    devices: list[str],
    epoch_seconds: list[float],
) -> None:
    """A worker's output: the trained model file and the history; rank 0's are the result.

    Every worker calls this, so that whatever saving computes runs in every process
    (on JAX, an operation on a variable that spans processes is a collective that all
    of them must enter); the other ranks' files are not read.
    """
    from anykeras.saving import save_model, write_json_atomically

    suffix = "" if rank == 0 else f"-{rank}"
    save_model(model, work / f"trained{suffix}.keras")
    history = {key: [float(value) for value in values] for key, values in history.items()}
    path = work / f"history{suffix}.json"
    result = {
        "history": history,
        "params": params(engine, replicas, processes, devices, epoch_seconds),
    }
    write_json_atomically(path, result)


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


def _worker_main(argv: list[str]) -> None:
    """``python -m anykeras.loops.distributed_workers WORK RANK``: run one worker of a `fit`."""
    work, rank = Path(argv[0]), int(argv[1])
    job = json.loads((work / "job.json").read_text(encoding="utf-8"))
    engine = importlib.import_module(f"anykeras.loops.distributed_{job['backend']}")
    engine.run(work, rank)


if __name__ == "__main__":
    _worker_main(sys.argv[1:])
