"""Data parallelism: the same training on N devices or N processes as on one.

Each backend's session tests its own engine through `distributed.fit`: JAX's
``keras.distribution.DataParallel`` (4 virtual CPU devices in one process, and 2
processes joined by ``jax.distributed``), TensorFlow's ``MirroredStrategy`` (4 logical
CPU devices) and ``MultiWorkerMirroredStrategy`` (2 processes), PyTorch's
``DistributedDataParallel`` (2 processes, gloo). Every run starts from the same
weights as a one-device `fit` on the same batches in the same order and must end
with the same history and weights, within float32 summation-order tolerance. The
workers are fresh processes on this machine, talking over loopback only.

JAX fixes its device count when it starts, so `data_parallel`'s own 4-device check
runs in a fresh process started with ``XLA_FLAGS=--xla_force_host_platform_device_count=4``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

import anykeras
from anykeras import ClassifierSpec, build, compile_model
from anykeras.loops import distributed, distributed_workers
from anykeras.loops.distributed import check_backend, data_parallel, per_device_batch_size
from anykeras.training.batches import EpochOrder, SeededBatches

BACKEND = keras.backend.backend()
DEVICES = 4
# Measured: histories identical (0.0) and weights within 6e-8 after 3 epochs (24 steps).
ATOL = 1e-6

# Runs in the subprocess: single-device training, then the same training under
# DataParallel, from the same initial weights on the same batches.
SCRIPT = """
import json
import keras
import numpy as np
from anykeras import ClassifierSpec, build, compile_model
from anykeras.loops.distributed import data_parallel

spec = ClassifierSpec(input_shape=(20,), hidden=(16, 16))
rng = np.random.default_rng(0)
x = rng.normal(size=(256, 20)).astype("float32")
y = (x[:, :5].sum(1) > 0).astype("float32")[:, None]
keras.utils.set_random_seed(0)
initial = build(spec).get_weights()


def train():
    model = build(spec)
    model.set_weights(initial)
    compile_model(model, spec, "rmsprop")
    history = model.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0)
    return model, history.history


single, single_history = train()
distribution = data_parallel()
parallel, parallel_history = train()

batch = keras.distribution.distribute_tensor(x[:32], distribution.get_data_layout((32, 20)))
print(json.dumps({
    "devices": keras.distribution.list_devices(),
    "mesh_shape": list(distribution.device_mesh.shape),
    "variable_devices": sorted(
        len(v.value.sharding.device_set) for v in parallel.trainable_variables
    ),
    "shard_shapes": sorted(list(shard.data.shape) for shard in batch.addressable_shards),
    "single_history": single_history,
    "parallel_history": parallel_history,
    "initial": [w.tolist() for w in initial],
    "single_weights": [w.tolist() for w in single.get_weights()],
    "parallel_weights": [w.tolist() for w in parallel.get_weights()],
}))
"""


@pytest.fixture
def no_distribution():
    """Whatever a test sets, the next one starts without a global distribution."""
    yield
    if BACKEND == "jax":
        keras.distribution.set_distribution(None)


def max_difference(a, b) -> float:
    return max(
        float(np.max(np.abs(np.asarray(u) - np.asarray(v)))) for u, v in zip(a, b, strict=True)
    )


@pytest.mark.skipif(
    importlib.util.find_spec("jax") is None,
    reason="JAX is not installed here; the multi-device run is checked in the test-jax session",
)
def test_data_parallel_on_4_devices_matches_one_device(tmp_path):
    script = tmp_path / "data_parallel.py"
    script.write_text(SCRIPT, encoding="utf-8")
    flag = f"--xla_force_host_platform_device_count={DEVICES}"
    env = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "XLA_FLAGS": f"{os.environ.get('XLA_FLAGS', '')} {flag}".strip(),
        "PYTHONPATH": os.pathsep.join(
            [str(Path(anykeras.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]
        ),
        "JAX_PLATFORMS": "cpu",
    }
    done = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])

    # Four devices, one mesh axis over all of them; the model lives on all four and
    # a batch of 32 is cut into four shards of 8.
    assert result["devices"] == [f"cpu:{i}" for i in range(DEVICES)]
    assert result["mesh_shape"] == [DEVICES]
    assert set(result["variable_devices"]) == {DEVICES}
    assert result["shard_shapes"] == [[8, 20]] * DEVICES

    single, parallel = result["single_history"], result["parallel_history"]
    assert set(single) == set(parallel) == {"loss", "accuracy"}
    for key in single:
        assert len(single[key]) == len(parallel[key]) == 3
        assert max_difference(single[key], parallel[key]) <= ATOL, key
    assert max_difference(result["single_weights"], result["parallel_weights"]) <= ATOL
    # ... and training did move the weights, so the comparison means something.
    assert max_difference(result["initial"], result["single_weights"]) > 1e-3


def test_check_backend_names_the_backend_and_the_way_out():
    check_backend("jax")
    with pytest.raises(RuntimeError, match=r"JAX backend only .* Received: backend='torch'"):
        check_backend("torch")
    with pytest.raises(RuntimeError, match=r"Received: backend='tensorflow'.*MirroredStrategy"):
        check_backend("tensorflow")


@pytest.mark.skipif(BACKEND == "jax", reason="keras.distribution trains on JAX")
def test_data_parallel_refuses_other_backends():
    with pytest.raises(RuntimeError, match=rf"JAX backend only .* Received: backend='{BACKEND}'"):
        data_parallel()


@pytest.mark.skipif(BACKEND != "jax", reason="keras.distribution trains on JAX only")
@pytest.mark.usefixtures("no_distribution")
def test_data_parallel_in_process_on_jax():
    # This process started with one CPU device: a mesh of one, set globally or not.
    available = keras.distribution.list_devices()
    distribution = data_parallel(activate=False, auto_shard_dataset=False)
    assert tuple(distribution.device_mesh.shape) == (len(available),)
    assert distribution.auto_shard_dataset is False
    assert keras.distribution.distribution() is None
    distribution = data_parallel(devices=1)
    assert keras.distribution.distribution() is distribution
    assert distribution.device_mesh.devices.tolist() == available[:1]
    with pytest.raises(ValueError, match=rf"devices must be a count in \[1, {len(available)}\]"):
        data_parallel(devices=len(available) + 1)
    with pytest.raises(ValueError, match=r"distinct names from keras.distribution.list_devices"):
        data_parallel(devices=["tpu:9"])
    with pytest.raises(ValueError, match=r"Received: devices=\[\]"):
        data_parallel(devices=[])


def test_per_device_batch_size():
    assert per_device_batch_size(64, 4) == 16
    assert per_device_batch_size(7, 1) == 7
    with pytest.raises(ValueError, match=r"multiple of the 4 devices. Received: batch_size=30"):
        per_device_batch_size(30, 4)
    with pytest.raises(ValueError, match=r"num_devices must be a positive integer"):
        per_device_batch_size(8, 0)
    # The last batch counts too: 250 = 7 * 32 + 26, and 26 does not split over 4.
    assert per_device_batch_size(32, 4, num_samples=256) == 8
    assert per_device_batch_size(32, 4, num_samples=252) == 8  # last batch of 28
    with pytest.raises(ValueError, match=r"leave 26. .* Received: num_samples=250"):
        per_device_batch_size(32, 4, num_samples=250)


# ---------------------------------------------------------------------------------------
# distributed.fit: the same model through each backend's own engine.
# ---------------------------------------------------------------------------------------

# Measured on this machine (2 epochs = 8 steps of 16 samples, Dense 8-4-1, RMSprop):
# histories within 6e-8, weights within 3e-8 (jax 0.10.2, torch 2.13, tf 2.21).
FIT_ATOL = 1e-6
SPEC = ClassifierSpec(input_shape=(8,), hidden=(4,))
EPOCHS, BATCH = 2, 16
LAYOUTS = {
    "jax": [{"devices": 4}, {"processes": 2}],
    "tensorflow": [{"devices": 4}, {"processes": 2}],
    "torch": [{"processes": 2}],
}.get(BACKEND, [])


def tiny_data(samples=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, 8)).astype("float32")
    y = (x[:, :3].sum(axis=1) > 0).astype("float32")[:, None]
    return x, y


# The workflow's own settings: the samples in anykeras's seeded epoch order, and a
# validation set evaluated after every epoch.
ORDER_SEED = 3
VALIDATION = tiny_data(32, seed=1)


def compiled(weights=None):
    model = build(SPEC)
    compile_model(model, SPEC, "rmsprop")
    if weights is not None:
        model.set_weights(weights)
    return model


def as_numpy(variables):
    return [keras.ops.convert_to_numpy(v) for v in variables]


@pytest.fixture(scope="module")
def one_device():
    """The reference: plain `fit` on one device, its initial weights and its result."""
    keras.utils.set_random_seed(0)
    x, y = tiny_data()
    model = compiled()
    initial = model.get_weights()
    batches = SeededBatches(x, y, BATCH, EpochOrder(ORDER_SEED))
    history = model.fit(
        batches,
        epochs=EPOCHS,
        shuffle=False,
        validation_data=VALIDATION,
        validation_batch_size=BATCH,
        callbacks=[batches.follow_epochs()],
        verbose=0,
    )
    return {
        "initial": initial,
        "history": history.history,
        "weights": model.get_weights(),
        "optimizer": as_numpy(model.optimizer.variables),
        "predictions": model.predict(x, verbose=0),
    }


_PARALLEL: dict[str, dict] = {}
SETTINGS = {
    "batch_size": BATCH,
    "epochs": EPOCHS,
    "seed": ORDER_SEED,
    "validation_data": VALIDATION,
}


def train_parallel(layout, one_device):
    """`distributed.fit` from the reference's initial weights (cached per layout)."""
    key = json.dumps(layout, sort_keys=True)
    if key not in _PARALLEL:
        x, y = tiny_data()
        model = compiled(one_device["initial"])
        start = time.perf_counter()
        history = distributed.fit(model, x, y, **SETTINGS, **layout)
        _PARALLEL[key] = {
            "model": model,
            "history": history,
            "seconds": time.perf_counter() - start,
        }
    return _PARALLEL[key]


@pytest.mark.parametrize(
    "layout", LAYOUTS, ids=lambda layout: "-".join(f"{k}{v}" for k, v in layout.items())
)
def test_fit_on_n_replicas_matches_one_device(layout, one_device, tmp_path):
    run = train_parallel(layout, one_device)
    model, history = run["model"], run["history"]
    replicas = layout.get("devices", 1) * layout.get("processes", 1)
    # Trained through the backend's own engine, on as many replicas as asked.
    engine = distributed.check_engine(BACKEND, layout.get("devices", 1), layout.get("processes", 1))
    assert history.params["engine"] == engine
    assert history.params["replicas"] == replicas == len(history.params["devices"])
    assert history.params["processes"] == layout.get("processes", 1)
    seconds = history.params["epoch_seconds"]
    assert len(seconds) == EPOCHS
    assert all(0 < s < run["seconds"] for s in seconds)

    single = one_device["history"]
    assert set(history.history) == set(single) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    history_diff = max(max_difference(single[key], history.history[key]) for key in single)
    weights_diff = max_difference(one_device["weights"], model.get_weights())
    optimizer_diff = max_difference(one_device["optimizer"], as_numpy(model.optimizer.variables))
    print(  # shown with -s: the figures the docs quote
        f"{BACKEND} {layout}: history {history_diff:.1e}, weights {weights_diff:.1e}, "
        f"optimizer {optimizer_diff:.1e}, {run['seconds']:.1f} s"
    )
    assert all(len(values) == EPOCHS for values in history.history.values())
    assert history_diff <= FIT_ATOL
    assert weights_diff <= FIT_ATOL
    assert optimizer_diff <= FIT_ATOL  # the optimizer state came back too
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == EPOCHS * 64 // BATCH
    # ... and training did move the weights, so the comparison means something.
    assert max_difference(one_device["initial"], model.get_weights()) > 1e-3

    # The model trained data-parallel saves to a plain file that predicts as one device's.
    from anykeras.saving import save_model

    path = save_model(model, tmp_path / "parallel.keras")
    reloaded = keras.saving.load_model(path)
    x, _ = tiny_data()
    assert max_difference(one_device["predictions"], reloaded.predict(x, verbose=0)) <= FIT_ATOL


OTHER_BACKEND = {"jax": "torch", "torch": "tensorflow", "tensorflow": "jax"}.get(BACKEND)
LOAD_SCRIPT = """
import sys
import numpy as np
import anykeras
import keras
model = keras.saving.load_model(sys.argv[1])
np.save(sys.argv[3], model.predict(np.load(sys.argv[2]), verbose=0))
"""


def sibling_python(backend: str | None) -> Path | None:
    """The interpreter of nox's venv for ``backend`` (next to this one), if there is one."""
    if backend is None:
        return None
    venvs = Path(sys.prefix).parent
    python = venvs / f"test-{backend}" / ("Scripts" if os.name == "nt" else "bin") / "python"
    return python if venvs.name == ".nox" and python.exists() else None


@pytest.mark.skipif(not LAYOUTS, reason=f"no distributed engine on {BACKEND}")
@pytest.mark.skipif(
    sibling_python(OTHER_BACKEND) is None,
    reason=f"no venv with {OTHER_BACKEND} beside this one (nox -s test-{OTHER_BACKEND})",
)
def test_a_model_trained_data_parallel_loads_on_another_backend(one_device, tmp_path):
    from anykeras.saving import save_model

    run = train_parallel(LAYOUTS[-1], one_device)
    path = save_model(run["model"], tmp_path / "parallel.keras")
    x, _ = tiny_data()
    np.save(tmp_path / "x.npy", x)
    script = tmp_path / "load.py"
    script.write_text(LOAD_SCRIPT, encoding="utf-8")
    env = {**os.environ, "KERAS_BACKEND": OTHER_BACKEND, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [str(sibling_python(OTHER_BACKEND)), str(script), str(path), str(tmp_path / "x.npy"),
         str(tmp_path / "y.npy")],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    predictions = np.load(tmp_path / "y.npy")
    assert max_difference(one_device["predictions"], predictions) <= FIT_ATOL


@pytest.mark.skipif(not LAYOUTS, reason=f"no distributed engine on {BACKEND}")
def test_a_worker_that_dies_fails_the_whole_run(monkeypatch):
    # Worker 1 kills itself (SIGKILL) after its first step; worker 0 is then blocked in
    # a collective. The run must fail at once, saying so, not wait for any timeout.
    monkeypatch.setenv(distributed_workers.FAULT_ENV, "1")
    x, y = tiny_data()
    start = time.perf_counter()
    with pytest.raises(RuntimeError, match=r"worker 1 was killed by SIGKILL") as failure:
        distributed.fit(compiled(), x, y, batch_size=BATCH, epochs=EPOCHS, processes=2, timeout=240)
    assert "processes=2" in str(failure.value)
    assert time.perf_counter() - start < 240
    assert worker_processes() == []


def worker_processes() -> list[int]:
    """Live children of this process that are distributed.fit's workers (Linux)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and b"anykeras.loops.distributed" in command:
            found.append(int(entry.name))
    return found


#: A launcher that trains for a long time: ``python -c LONG_FIT``, its job folder in $TMPDIR.
LONG_FIT = """
import numpy as np
from anykeras import ClassifierSpec, build, compile_model
from anykeras.loops import distributed
spec = ClassifierSpec(input_shape=(8,), hidden=(4,))
model = build(spec)
compile_model(model, spec, "rmsprop")
x = np.random.default_rng(0).normal(size=(64, 8)).astype("float32")
distributed.fit(model, x, (x[:, :1] > 0).astype("float32"), batch_size=16, epochs=100_000,
                processes=2, timeout=600)
"""


def processes_of(folder: Path) -> list[int]:
    """Live processes whose command line names ``folder`` (a job folder under it)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(folder).encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.mark.skipif(not LAYOUTS or not Path("/proc").is_dir(), reason="needs workers and /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_workers_and_their_folder_end_with_the_launcher(sig, tmp_path):
    # What a supervisor sends (SIGTERM), and what no process can catch (SIGKILL).
    env = {**os.environ, "TMPDIR": str(tmp_path), "KERAS_BACKEND": BACKEND}
    launcher = subprocess.Popen([sys.executable, "-c", LONG_FIT], env=env)
    try:
        assert wait_for(lambda: len(processes_of(tmp_path)) == 2, 120), "no workers started"
        jobs = list(tmp_path.glob("anykeras-distributed-*"))
        assert len(jobs) == 1
        assert (jobs[0] / "x.npy").is_file()
        launcher.send_signal(sig)
        assert launcher.wait(timeout=20) == (-sig if sig == signal.SIGKILL else 128 + sig)
        assert wait_for(lambda: processes_of(tmp_path) == [], 20), processes_of(tmp_path)
        assert wait_for(lambda: not jobs[0].exists(), 5), sorted(jobs[0].iterdir())
    finally:
        launcher.kill()
        for pid in processes_of(tmp_path):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not LAYOUTS, reason=f"no distributed engine on {BACKEND}")
def test_a_run_past_its_timeout_is_stopped():
    x, y = tiny_data()
    with pytest.raises(RuntimeError, match=r"ran past timeout=1 s: worker\(s\) \[0, 1\]"):
        distributed.fit(compiled(), x, y, batch_size=BATCH, epochs=1, processes=2, timeout=1)
    assert worker_processes() == []


def test_one_replica_is_plain_fit(one_device):
    x, y = tiny_data()
    model = compiled(one_device["initial"])
    history = distributed.fit(model, x, y, **SETTINGS)
    assert history.params["engine"] == "keras.Model.fit on one device"
    assert history.history == one_device["history"]
    assert max_difference(one_device["weights"], model.get_weights()) == 0.0


def test_unsupported_combinations_say_what_works():
    with pytest.raises(ValueError, match=r"^devices=2, processes=1 is not supported on torch; "
                       r"what works there: processes=N \(one process per device"):  # fmt: skip
        distributed.check_engine("torch", 2, 1)
    for backend in ("jax", "tensorflow", "torch"):
        with pytest.raises(
            ValueError, match=rf"devices=2, processes=2 is not supported on {backend}"
        ):
            distributed.check_engine(backend, 2, 2)
    with pytest.raises(ValueError, match=r"on numpy; what works there: nothing"):
        distributed.check_engine("numpy", 1, 2)
    assert distributed.check_engine("tensorflow", 4, 1) == "tf.distribute.MirroredStrategy"
    assert distributed.check_engine("jax", 1, 2).startswith("keras.distribution.DataParallel")
    with pytest.raises(ValueError, match=r"processes must be a positive integer"):
        distributed.check_engine("jax", 1, 0)
    with pytest.raises(ValueError, match=r"not supported on torch") as one_line:
        distributed.check_engine("torch", 4, 1)
    assert "\n" not in str(one_line.value)


def test_fit_checks_its_arguments_before_starting_anything():
    x, y = tiny_data()
    workers = {"processes": 2} if BACKEND != "tensorflow" else {"devices": 2}
    with pytest.raises(ValueError, match=r"must be compiled"):
        distributed.fit(build(SPEC), x, y, batch_size=BATCH, **workers)
    # 64 samples in batches of 12 leave 4; fine for 2 replicas, not for 3 (or 8).
    with pytest.raises(ValueError, match=r"the last batch must also split over the 3 devices"):
        distributed.fit(compiled(), x, y, batch_size=12, processes=3, devices=1)
    with pytest.raises(ValueError, match=r"same, non-zero number of samples"):
        distributed.fit(compiled(), x, y[:10], batch_size=BATCH, **workers)
    with pytest.raises(TypeError, match=r"one array"):
        distributed.fit(compiled(), [x, x], y, batch_size=BATCH, **workers)


def test_local_rows_split_every_global_batch_in_order():
    # Two replicas, batches of 4 over 10 samples: [0..3], [4..7], [8, 9].
    assert distributed.local_rows(10, 4, 0, 2).tolist() == [0, 1, 4, 5, 8]
    assert distributed.local_rows(10, 4, 1, 2).tolist() == [2, 3, 6, 7, 9]
    both = np.sort(np.concatenate([distributed.local_rows(64, 16, r, 4) for r in range(4)]))
    assert both.tolist() == list(range(64))
    with pytest.raises(ValueError, match=r"leave 2"):
        distributed.local_rows(10, 4, 0, 4)


def test_replicas_take_their_slices_of_the_seeded_global_batches():
    # In epoch 2 with seed 5, global batch k is order[16k : 16k + 16]; 4 replicas split it.
    order = EpochOrder(5).permutation(64, 2)
    parts = [distributed.replica_rows(64, 16, r, 4, seed=5, epoch=2) for r in range(4)]
    for k in range(4):
        step = np.concatenate([part[4 * k : 4 * k + 4] for part in parts])
        assert step.tolist() == order[16 * k : 16 * k + 16].tolist()
    x, y = np.arange(128, dtype="uint8").reshape(64, 2), np.arange(64)
    batches = distributed_workers.ReplicaBatches(x, y, 16, part=3, parts=4, seed=5)
    batches.epoch = 2
    xb, yb = batches[1]
    assert yb.tolist() == order[28:32].tolist()
    assert xb.dtype == np.float32
    assert xb.tolist() == x[order[28:32]].astype("float32").tolist()
