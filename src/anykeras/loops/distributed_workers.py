"""The worker processes of `anykeras.loops.distributed.fit`: started, watched, stopped.

`launch` writes the job into a fresh folder (the model as a
`anykeras.saving.save_model` file, the data as ``.npy`` files, the settings as
``job.json``), starts one process per rank with the environment its engine reads
(``XLA_FLAGS``, ``TF_CONFIG``, ``MASTER_ADDR``...; loopback addresses only), and waits:
the first worker that fails or dies, or the timeout, stops them all, and the error
says who, how, and ends with that worker's log.

The workers live no longer than the process that launched them, whatever ends it:
SIGTERM or SIGHUP to the launcher stops the workers and removes the job folder before
it exits; after a SIGKILL, which nothing can catch, each worker sees that its parent
is gone (`follow_parent`), removes the job folder and exits.

The worker side is ``python -m anykeras.loops.distributed_workers WORK RANK``: it
imports the backend's engine (``anykeras.loops.distributed_<backend>``), which reads
the job with `load_job` (`anykeras.loops.distributed_job`), takes its rows of every
global batch from `ReplicaBatches` (`anykeras.loops.distributed_batches`), and writes
its results with `write_results`. Those names are importable from here too.

This module imports no backend.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np

from anykeras.loops.distributed_batches import ReplicaBatches, replica_batches
from anykeras.loops.distributed_job import (
    ARRAYS,
    FAULT_ENV,
    FaultCallback,
    die_if_told,
    fault_rank,
    load_initial_model,
    load_job,
    write_results,
)

__all__ = [
    "ARRAYS",
    "COLLECTIVE_TIMEOUT",
    "FAULT_ENV",
    "FaultCallback",
    "ReplicaBatches",
    "die_if_told",
    "fault_rank",
    "follow_parent",
    "launch",
    "load_initial_model",
    "load_job",
    "replica_batches",
    "write_results",
]

#: Seconds any one collective (or the start-up rendezvous) may wait for the others.
COLLECTIVE_TIMEOUT = 300
_LOOPBACK = "127.0.0.1"
#: The launcher's process id, in each worker's environment.
PARENT_ENV = "ANYKERAS_LAUNCHER_PID"
#: Seconds between a worker's looks at its parent.
PARENT_POLL = 0.2


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

    with _ended_by_signals(), tempfile.TemporaryDirectory(prefix="anykeras-distributed-") as tmp:
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


class Stopped(SystemExit):
    """A signal (SIGTERM, SIGHUP) ended the launcher; the workers and files went first."""


@contextlib.contextmanager
def _ended_by_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP unwind the launch (workers stopped, folder removed), then exit.

    The exit status is 128 plus the signal's number, as a shell reports a killed
    process. Only the main thread may set handlers; elsewhere the workers' own watch
    of their parent (`follow_parent`) still ends them.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: Any) -> None:
        raise Stopped(128 + signum)

    caught = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    previous = {sig: signal.signal(sig, stop) for sig in caught}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def follow_parent(parent: int, work: Path, poll: float = PARENT_POLL) -> threading.Thread:
    """End this worker, and remove the job folder ``work``, once process ``parent`` is gone.

    A daemon thread compares ``os.getppid()`` with ``parent``: when the launcher dies
    (even by SIGKILL), the worker is handed to another parent. Collectives release the
    interpreter lock while they wait, so the thread runs even when they hang.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll)
        shutil.rmtree(work, ignore_errors=True)
        os._exit(1)

    thread = threading.Thread(target=watch, name="anykeras-follow-parent", daemon=True)
    thread.start()
    return thread


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
        PARENT_ENV: str(os.getpid()),
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


def _worker_main(argv: list[str]) -> None:
    """``python -m anykeras.loops.distributed_workers WORK RANK``: run one worker of a `fit`."""
    work, rank = Path(argv[0]), int(argv[1])
    follow_parent(int(os.environ.get(PARENT_ENV, os.getppid())), work)
    job = json.loads((work / "job.json").read_text(encoding="utf-8"))
    engine = importlib.import_module(f"anykeras.loops.distributed_{job['backend']}")
    engine.run(work, rank)


if __name__ == "__main__":
    _worker_main(sys.argv[1:])
