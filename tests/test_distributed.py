"""Data parallelism: the same training on 4 virtual CPU devices as on one.

JAX fixes its device count when it starts, so the 4-device run happens in a fresh
process started with ``XLA_FLAGS=--xla_force_host_platform_device_count=4``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import anykeras
from anykeras.loops.distributed import check_backend, data_parallel, per_device_batch_size

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
