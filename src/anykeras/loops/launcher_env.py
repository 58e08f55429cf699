"""Whether a cluster launcher started this process as one of several, from its environment.

A job that outgrows one machine is started by a launcher that owns the processes:
``torchrun`` (and Kubeflow's PyTorchJob, Ray and SLURM wrappers, which set the same
variables), ``srun`` or ``mpirun`` (which `jax.distributed.initialize` detects), a
multi-worker ``TF_CONFIG`` (Kubeflow's TFJob), or a framework that has already made a
PyTorch process group or joined JAX's processes. Each of those processes would train a
whole copy on its own if anykeras ignored it, and ``processes=N`` inside one of them
would nest N workers of its own under the launcher's. `launcher_processes` reads the
signs; `refuse_under_launcher` turns them into one line before any work.

Reads only the environment, and the backends' state where one is already imported:
this module imports no backend.

Example:
>>> launcher_processes({"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1"})
LauncherProcesses(launcher='torchrun', rank=1, world_size=2, evidence='WORLD_SIZE=2, RANK=1')
>>> launcher_processes({"WORLD_SIZE": "1", "RANK": "0"}) is None  # one process: nothing to join
True
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Mapping

__all__ = ["LauncherProcesses", "launcher_processes", "refuse_under_launcher"]


@dataclasses.dataclass(frozen=True)
class LauncherProcesses:
    """This process's place among a launcher's processes, and the variables that say so."""

    launcher: str
    rank: int
    world_size: int
    evidence: str


def _count(environ: Mapping[str, str], name: str) -> int:
    try:
        return int(environ.get(name, ""))
    except ValueError:
        return 0


def _from_variables(environ: Mapping[str, str]) -> LauncherProcesses | None:
    """The launchers that say so in variables, in the order a job would set them."""
    # (launcher, world-size variable, rank variable); torchrun's convention comes first.
    conventions = (
        ("torchrun", "WORLD_SIZE", "RANK"),
        ("srun", "SLURM_STEP_NUM_TASKS", "SLURM_PROCID"),
        ("mpirun", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"),
        ("jax.distributed", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID"),
    )
    for launcher, size, rank in conventions:
        if _count(environ, size) > 1 and rank in environ:
            evidence = f"{size}={environ[size]}, {rank}={environ[rank]}"
            return LauncherProcesses(launcher, _count(environ, rank), _count(environ, size),
                                     evidence)  # fmt: skip
    return _from_tf_config(environ.get("TF_CONFIG"))


def _from_tf_config(text: str | None) -> LauncherProcesses | None:
    """A ``TF_CONFIG`` whose cluster has more than one training task."""
    try:
        config = json.loads(text) if text else {}
        cluster, task = config.get("cluster") or {}, config.get("task") or {}
        trainers = sum(len(cluster.get(role) or ()) for role in ("chief", "worker"))
        index = int(task.get("index", 0))
    except (ValueError, TypeError, AttributeError):
        return None  # not a cluster TensorFlow could read either
    if trainers <= 1:
        return None
    evidence = f"TF_CONFIG task {task.get('type', '?')} {index} of {trainers}"
    return LauncherProcesses("TF_CONFIG", index, trainers, evidence)


def _from_backends() -> LauncherProcesses | None:
    """A PyTorch process group or JAX processes that the program made before calling us."""
    dist = sys.modules.get("torch.distributed")
    if dist is not None and dist.is_available() and dist.is_initialized():
        world = dist.get_world_size()
        if world > 1:
            return LauncherProcesses("a torch.distributed process group", dist.get_rank(), world,
                                     f"world size {world}")  # fmt: skip
    jax_distributed = getattr(sys.modules.get("jax"), "distributed", None)
    is_initialized = getattr(jax_distributed, "is_initialized", None)
    if is_initialized is not None and is_initialized():
        jax = sys.modules["jax"]
        if jax.process_count() > 1:
            return LauncherProcesses("jax.distributed", jax.process_index(), jax.process_count(),
                                     f"{jax.process_count()} JAX processes")  # fmt: skip
    return None


def launcher_processes(environ: Mapping[str, str] | None = None) -> LauncherProcesses | None:
    """This process's place among a launcher's processes, or ``None`` when it runs alone.

    Args:
        environ: The variables to read; ``os.environ`` by default, when the backends'
            own state (a process group, JAX's processes) is read too.
    """
    if environ is None:
        return _from_variables(os.environ) or _from_backends()
    return _from_variables(environ)


def refuse_under_launcher(environ: Mapping[str, str] | None = None) -> None:
    """Raise a one-line `ValueError` when a launcher started this process as one of several.

    Training with a launcher's processes is not supported yet; training alone in each
    of them would do the work once per process, and starting workers of our own inside
    them would nest processes under the launcher's.

    Example:
    >>> refuse_under_launcher({"SLURM_STEP_NUM_TASKS": "4", "SLURM_PROCID": "2"})
    Traceback (most recent call last):
    ...
    ValueError: srun started this process as rank 2 of 4, and anykeras does not yet train ...
    """
    found = launcher_processes(environ)
    if found is None:
        return
    raise ValueError(
        f"{found.launcher} started this process as rank {found.rank} of {found.world_size}, "
        "and anykeras does not yet train with a launcher's processes: each would train a "
        "copy alone. Start one process (processes=N starts N workers on this machine). "
        f"Received: {found.evidence}"
    )
