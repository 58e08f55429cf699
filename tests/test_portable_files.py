"""Files saved here load with plain Keras, in a fresh process, on every backend.

This session's backend saves every kind of model anykeras builds, compiled (one
training step, so the optimizer has state) and not, with `anykeras.saving.save_model`
(and, uncompiled, with plain ``model.save``). Then each backend's Python, in a fresh
process that does nothing but ``import keras, anykeras`` (or ``import anykeras,
keras``), loads every file with `keras.saving.load_model` and writes its predictions;
they must match this process's (atol 1e-5). One process per loading backend.

Each backend's Python is its nox session's (``.nox/test-<backend>/bin/python``); a
backend whose session is not on this machine is skipped, saying so. CI has all three.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from anykeras import ClassifierSpec, ConvSpec, SequenceSpec, build
from anykeras.builders.sparse import build_sparse
from anykeras.layers import MultiHot, SimpleDense
from anykeras.metrics import BinaryCrossentropy, RootMeanSquaredError
from anykeras.saving import save_model

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("jax", "torch", "tensorflow")
HERE = keras.backend.backend()
TIMEOUT_S = 300  # a fresh TensorFlow process on a busy 2-core machine, with room to spare

# Modules registration must import (it is what lets plain Keras find the classes),
# and modules it must not (registering stays as light as Keras itself).
REGISTERING = {
    "anykeras.layers",
    "anykeras.metrics",
    "anykeras.builders.subclassed",
    "anykeras.builders.convnet",
    "anykeras.builders.recurrent",
}
HEAVY = {"anykeras.training", "anykeras.speed", "anykeras.loops", "anykeras.demo", "anykeras.cli"}

# The loading process: everything after its first line, which imports keras and
# anykeras in the order under test. argv: the folder of files, the folder for results.
LOADER = """
import json
import sys
import warnings
from pathlib import Path

import numpy as np

folder, out = Path(sys.argv[1]), Path(sys.argv[2])
manifest = json.loads((folder / "manifest.json").read_text())
report = {
    "backend": keras.backend.backend(),
    "modules": sorted(sys.modules),
    "import_hooks_left": [type(f).__name__ for f in sys.meta_path if "After" in type(f).__name__],
    "files": {},
}
with np.load(folder / "inputs.npz") as inputs:
    for name, entry in manifest.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.simplefilter("ignore", DeprecationWarning)  # the libraries' own business
            model = keras.saving.load_model(folder / name)
            outputs = model(inputs[entry["kind"]], training=False)  # eager: no compiling
            np.save(out / f"{name}.npy", keras.ops.convert_to_numpy(outputs))
        report["files"][name] = {
            "class": type(model).__name__,
            "compiled": model.compiled,
            "iterations": int(model.optimizer.iterations) if model.compiled else None,
            "jit_compile": bool(model.jit_compile) if model.compiled else None,
            "warnings": [str(w.message)[:200] for w in caught],
        }
(out / "report.json").write_text(json.dumps(report))
"""


# --- the models: tiny, one of each kind anykeras builds --------------------------------


def _ids(rng: np.random.Generator, num_tokens: int) -> np.ndarray:
    return rng.integers(0, num_tokens, size=(4, 5)).astype("int32")


def _custom_layers() -> keras.Model:
    """A model of anykeras's own layers: word ids -> MultiHot -> SimpleDense -> Dense."""
    ids = keras.Input(shape=(5,), dtype="int32", name="word_ids")
    hidden = SimpleDense(3, activation="relu", name="hidden")(MultiHot(num_tokens=20)(ids))
    return keras.Model(ids, keras.layers.Dense(1, name="output")(hidden), name="custom_layers")


DENSE = ClassifierSpec(input_shape=(6,), hidden=(4,))


def _binary() -> dict[str, Any]:
    return {"loss": "binary_crossentropy", "metrics": ["accuracy"]}


def _anykeras_metrics() -> dict[str, Any]:
    """anykeras's own loss and metric, made afresh: a metric belongs to one model."""
    return {"loss": BinaryCrossentropy(), "metrics": [RootMeanSquaredError()]}


# kind -> (build the model, make its input, make its labels, the compile arguments)
KINDS: dict[str, tuple[Callable[[], keras.Model], Callable, Callable, Callable]] = {
    "subclassed": (
        lambda: build(DENSE, "subclassed"),
        lambda rng: rng.normal(size=(4, 6)).astype("float32"),
        lambda rng: rng.integers(0, 2, size=(4, 1)).astype("float32"),
        _anykeras_metrics,
    ),
    "functional": (
        lambda: build(DENSE, "functional"),
        lambda rng: rng.normal(size=(4, 6)).astype("float32"),
        lambda rng: rng.integers(0, 2, size=(4, 1)).astype("float32"),
        lambda: {"loss": "binary_crossentropy", "metrics": [RootMeanSquaredError()]},
    ),
    "sequential": (
        lambda: build(DENSE, "sequential"),
        lambda rng: rng.normal(size=(4, 6)).astype("float32"),
        lambda rng: rng.integers(0, 2, size=(4, 1)).astype("float32"),
        _binary,
    ),
    "convnet": (
        lambda: build(ConvSpec(input_shape=(8, 8, 1), filters=(2, 3), num_classes=3), "subclassed"),
        lambda rng: rng.normal(size=(4, 8, 8, 1)).astype("float32"),
        lambda rng: rng.integers(0, 3, size=(4,)).astype("int32"),
        lambda: {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
    ),
    "sequence": (
        lambda: build(SequenceSpec(num_words=20, maxlen=5, embedding_dim=3, units=2), "subclassed"),
        lambda rng: _ids(rng, 20),
        lambda rng: rng.integers(0, 2, size=(4, 1)).astype("float32"),
        _binary,
    ),
    "sparse": (
        lambda: build_sparse(ClassifierSpec(input_shape=(20,), hidden=(3,))),
        lambda rng: _ids(rng, 20),
        lambda rng: rng.integers(0, 2, size=(4, 1)).astype("float32"),
        _anykeras_metrics,
    ),
    "custom_layers": (
        _custom_layers,
        lambda rng: _ids(rng, 20),
        lambda rng: rng.normal(size=(4, 1)).astype("float32"),
        lambda: {"loss": "mse", "metrics": [RootMeanSquaredError()]},
    ),
}


def _predict(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """As the loading process predicts: one eager call, nothing to compile."""
    return keras.ops.convert_to_numpy(model(x, training=False))


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[Path, dict[str, np.ndarray], dict[str, dict[str, Any]]]:
    """The folder of saved files, this process's predictions, and the manifest."""
    folder = tmp_path_factory.mktemp(f"saved_by_{HERE}")
    rng = np.random.default_rng(0)
    inputs, expected, manifest = {}, {}, {}
    for kind, (make, make_x, make_y, compile_args) in KINDS.items():
        x = inputs[kind] = make_x(rng)
        model = make()
        expected[f"plain_{kind}.keras"] = _predict(model, x)
        model.save(folder / f"plain_{kind}.keras")
        manifest[f"plain_{kind}.keras"] = {"kind": kind, "compiled": False}
        save_model(model, folder / f"neutral_{kind}.keras")
        expected[f"neutral_{kind}.keras"] = expected[f"plain_{kind}.keras"]
        manifest[f"neutral_{kind}.keras"] = {"kind": kind, "compiled": False}

        model = make()
        model.compile(optimizer="rmsprop", **compile_args())
        model.train_on_batch(x, make_y(rng))  # the optimizer now has state to save
        save_model(model, folder / f"neutral_{kind}_compiled.keras")
        expected[f"neutral_{kind}_compiled.keras"] = _predict(model, x)
        manifest[f"neutral_{kind}_compiled.keras"] = {"kind": kind, "compiled": True}
    np.savez(folder / "inputs.npz", **inputs)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder, expected, manifest


def _python(backend: str) -> Path:
    """This backend's Python: this process's own, or its nox session's; else a skip."""
    if backend == HERE:
        return Path(sys.executable)
    python = ROOT / ".nox" / f"test-{backend}" / "bin" / "python"
    if not python.is_file():
        pytest.skip(
            f"no {backend} environment on this machine ({python} not found); "
            f"`nox -s test-{backend}` makes it"
        )
    return python


def _load_in_fresh_process(backend: str, first_line: str, folder: Path, out: Path) -> dict:
    """Run LOADER under ``backend`` with ``first_line`` first; return its report."""
    out.mkdir()
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [str(_python(backend)), "-c", first_line + "\n" + LOADER, str(folder), str(out)],
        cwd=out,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, f"loading under {backend} failed:\n{done.stderr[-3000:]}"
    return json.loads((out / "report.json").read_text())


def _assert_same_models(report: dict, saved: tuple, out: Path) -> None:
    _, expected, manifest = saved
    assert len(manifest) == 3 * len(KINDS)
    assert sorted(report["files"]) == sorted(manifest)
    for name, entry in manifest.items():
        loaded = report["files"][name]
        predictions = np.load(out / f"{name}.npy", allow_pickle=False)
        assert predictions.shape == expected[name].shape, name
        np.testing.assert_allclose(predictions, expected[name], atol=1e-5, err_msg=name)
        assert loaded["compiled"] is entry["compiled"], name
        assert loaded["warnings"] == [], name
        if entry["compiled"]:
            assert loaded["iterations"] == 1, name  # the optimizer's state came along
            if report["backend"] == "torch":
                assert loaded["jit_compile"] is False, name  # no torch.compile from a JAX file
            if report["backend"] == "jax":
                assert loaded["jit_compile"] is True, name  # nor eager JAX from a torch file
    assert report["files"]["neutral_subclassed.keras"]["class"] == "Classifier"
    assert report["files"]["neutral_convnet.keras"]["class"] == "ConvClassifier"
    assert report["files"]["neutral_sequence.keras"]["class"] == "SequenceClassifier"


@pytest.mark.parametrize("loader", BACKENDS)
def test_files_saved_here_load_with_plain_keras_on_every_backend(saved, tmp_path, loader):
    report = _load_in_fresh_process(loader, "import keras, anykeras", saved[0], tmp_path / "out")
    assert report["backend"] == loader
    _assert_same_models(report, saved, tmp_path / "out")
    assert set(report["modules"]) >= REGISTERING  # registered at `import anykeras`


def test_files_load_when_anykeras_is_imported_before_keras(saved, tmp_path):
    # The import hook's route: anykeras first (as the CLI does), Keras registers later.
    report = _load_in_fresh_process(HERE, "import anykeras, keras", saved[0], tmp_path / "out")
    _assert_same_models(report, saved, tmp_path / "out")
    assert report["import_hooks_left"] == []  # one shot: it removed itself
    assert set(report["modules"]) >= REGISTERING
    assert HEAVY & set(report["modules"]) == set()  # registering imports nothing heavy
