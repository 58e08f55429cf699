"""Under a cluster launcher's processes, anykeras refuses in one line instead of training alone.

Each of torchrun's (or srun's, or a TFJob's) processes would otherwise train a whole
copy, and ``--processes N`` would nest workers under the launcher's. The launch here
is real: torchrun on loopback, and the variables SLURM, Open MPI, JAX and Kubeflow set.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import keras
import pytest

from anykeras import ClassifierSpec, RunConfig, build, compile_model, train_and_evaluate
from anykeras.cli import main
from anykeras.loops import distributed
from anykeras.loops.launcher_env import LauncherProcesses, launcher_processes
from anykeras.training.run_conflicts import RunConfigError

BACKEND = keras.backend.backend()
TF_CONFIG = json.dumps(
    {
        "cluster": {"worker": ["10.0.0.1:2222", "10.0.0.2:2222"]},
        "task": {"type": "worker", "index": 1},
    }
)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1"},
         ("torchrun", 1, 2, "WORLD_SIZE=2, RANK=1")),
        ({"SLURM_STEP_NUM_TASKS": "4", "SLURM_PROCID": "3", "SLURM_NTASKS": "4"},
         ("srun", 3, 4, "SLURM_STEP_NUM_TASKS=4, SLURM_PROCID=3")),
        ({"OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "0"},
         ("mpirun", 0, 2, "OMPI_COMM_WORLD_SIZE=2, OMPI_COMM_WORLD_RANK=0")),
        ({"JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": "1"},
         ("jax.distributed", 1, 2, "JAX_NUM_PROCESSES=2, JAX_PROCESS_ID=1")),
        ({"TF_CONFIG": TF_CONFIG}, ("TF_CONFIG", 1, 2, "TF_CONFIG task worker 1 of 2")),
    ],
)  # fmt: skip
def test_each_launchers_variables_are_read(environ, expected):
    assert launcher_processes(environ) == LauncherProcesses(*expected)


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"WORLD_SIZE": "1", "RANK": "0"},  # torchrun --nproc_per_node=1: one process
        {"SLURM_NTASKS": "4", "SLURM_PROCID": "0"},  # an sbatch script, not an srun task
        {"WORLD_SIZE": "two", "RANK": "1"},
        {"TF_CONFIG": "not json"},
        {"TF_CONFIG": json.dumps({"cluster": {"worker": ["a:1"]}, "task": {"index": 0}})},
    ],
)
def test_one_process_or_unreadable_variables_are_no_launcher(environ):
    assert launcher_processes(environ) is None


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"SLURM_STEP_NUM_TASKS": "2", "SLURM_PROCID": "1"},
            "srun started this process as rank 1 of 2",
        ),
        ({"TF_CONFIG": TF_CONFIG}, "TF_CONFIG started this process as rank 1 of 2"),
    ],
)
def test_train_under_a_launcher_is_refused_in_one_line_before_any_work(
    env, line, tmp_path, monkeypatch, capsys
):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--quick", "--backend", BACKEND, "--out", "run"]) == 2
    done = capsys.readouterr()
    assert done.err.splitlines() == [
        f"anykeras train: error: {line}, and anykeras does not yet train with a launcher's "
        "processes: each would train a copy alone. Start one process (--processes N starts N "
        f"workers on this machine). Received: {launcher_processes(env).evidence}"
    ]
    assert done.out == ""
    assert list(tmp_path.iterdir()) == []


def test_the_library_refuses_too(monkeypatch, tmp_path):
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    monkeypatch.setenv("OMPI_COMM_WORLD_RANK", "1")
    with pytest.raises(RunConfigError, match=r"^mpirun started this process as rank 1 of 2"):
        train_and_evaluate(RunConfig(quick=True), tmp_path / "run")
    assert list(tmp_path.iterdir()) == []
    spec = ClassifierSpec(input_shape=(4,), hidden=(2,))
    model = build(spec)
    compile_model(model, spec, "rmsprop")
    with pytest.raises(
        ValueError, match=r"Received: OMPI_COMM_WORLD_SIZE=2, OMPI_COMM_WORLD_RANK=1$"
    ):
        distributed.fit(model, [[0.0] * 4] * 8, [[1.0]] * 8, batch_size=4)


#: A process group made first, by address and rank as Ray makes it (no torchrun variables).
GROUP_THEN_FIT = """
import sys
import numpy as np, torch.distributed as dist
dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{sys.argv[2]}", world_size=2,
                        rank=int(sys.argv[1]))
from anykeras.cli import main
from anykeras import ClassifierSpec, build, compile_model
from anykeras.loops import distributed
spec = ClassifierSpec(input_shape=(4,), hidden=(2,))
model = build(spec)
compile_model(model, spec, "rmsprop")
try:
    distributed.fit(model, np.zeros((8, 4), "float32"), np.ones((8, 1), "float32"), batch_size=4)
except ValueError as error:
    print(f"refused: {error}")
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def torchrun(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``torchrun --nproc_per_node=2 ARGS`` on loopback."""
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
               "--master_addr=127.0.0.1", f"--master_port={free_port()}", *args]  # fmt: skip
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo"}
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=180, check=False)  # fmt: skip


needs_torch = pytest.mark.skipif(
    BACKEND != "torch" or importlib.util.find_spec("torch") is None,
    reason="torchrun comes with PyTorch (the torch session runs it)",
)


@needs_torch
def test_torchrun_m_anykeras_train_refuses_on_every_rank(tmp_path):
    done = torchrun(["-m", "anykeras", "train", "--quick", "--out", "run"], tmp_path)
    assert done.returncode != 0
    refusals = [line for line in done.stderr.splitlines() if "anykeras train: error:" in line]
    assert sorted(line.split("rank ")[1][:1] for line in refusals) == ["0", "1"], done.stderr
    # torchrun's own traceback (ChildFailedError) follows; none comes from anykeras.
    assert "src/anykeras/" not in done.stderr
    assert "site-packages/anykeras/" not in done.stderr
    assert not (tmp_path / "run").exists()


@needs_torch
def test_an_existing_process_group_is_not_trained_alone(tmp_path):
    script = tmp_path / "group_then_fit.py"
    script.write_text(GROUP_THEN_FIT, encoding="utf-8")
    port, env = free_port(), {**os.environ, "GLOO_SOCKET_IFNAME": "lo"}
    ranks = [subprocess.Popen([sys.executable, str(script), str(rank), str(port)], env=env,
                              stdout=subprocess.PIPE, text=True) for rank in (0, 1)]  # fmt: skip
    outputs = [rank.communicate(timeout=120)[0] for rank in ranks]
    assert [rank.returncode for rank in ranks] == [0, 0]
    assert [output.strip() for output in outputs] == [
        "refused: a torch.distributed process group started this process as rank "
        f"{rank} of 2, and anykeras does not yet train with a launcher's processes: each "
        "would train a copy alone. Start one process (processes=N starts N workers on this "
        "machine). Received: world size 2"
        for rank in (0, 1)
    ]
