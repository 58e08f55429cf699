"""anykeras.saving: neutral files, clear errors; and anykeras's registration with Keras.

Loading on the other backends, in fresh processes, is in test_portable_files.py.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

import anykeras
from anykeras import ClassifierSpec, build
from anykeras.saving import _neutral, load_model, save_model

SRC = Path(anykeras.__file__).parent


def _config(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))


def _trained(style: str = "subclassed") -> tuple[keras.Model, np.ndarray]:
    model = build(ClassifierSpec(input_shape=(5,), hidden=(3,)), style)
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    x = np.linspace(-1, 1, 20, dtype="float32").reshape(4, 5)
    model.train_on_batch(x, np.array([[0], [1], [1], [0]], dtype="float32"))
    return model, x


# --- save_model ------------------------------------------------------------------------


def test_save_model_writes_a_backend_neutral_compile_config(tmp_path):
    model, x = _trained()
    path = save_model(model, tmp_path / "model.keras")
    assert path == tmp_path / "model.keras"
    optimizer = _config(path)["compile_config"]["optimizer"]
    assert optimizer["module"] == "keras.optimizers"  # never keras.src.backend.torch...
    assert optimizer["class_name"] == "RMSprop"
    assert optimizer["registered_name"] is None
    assert _config(path)["compile_config"]["jit_compile"] == "auto"
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]

    loaded = keras.saving.load_model(path)  # plain Keras
    assert type(loaded) is type(model)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert int(loaded.optimizer.iterations) == 1  # the optimizer's state came along
    for saved, restored in zip(model.optimizer.variables, loaded.optimizer.variables, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(restored), saved)
    fresh, _ = _trained()  # compiled with jit_compile="auto" here
    assert loaded.jit_compile == fresh.jit_compile  # this backend's "auto", not the saver's
    if keras.backend.backend() == "torch":
        assert loaded.jit_compile is False  # no torch.compile unless asked for


def test_save_model_rewrites_only_the_compile_config(tmp_path):
    model, _ = _trained("functional")
    model.save(tmp_path / "plain.keras")
    save_model(model, tmp_path / "neutral.keras")
    plain, neutral = _config(tmp_path / "plain.keras"), _config(tmp_path / "neutral.keras")
    assert neutral["compile_config"] == _neutral(plain["compile_config"])
    del plain["compile_config"], neutral["compile_config"]
    assert neutral == plain


def test_save_model_of_an_uncompiled_model_is_what_keras_writes(tmp_path):
    model = build(ClassifierSpec(input_shape=(5,), hidden=(3,)), "sequential")
    model.save(tmp_path / "plain.keras")
    save_model(model, tmp_path / "neutral.keras")
    assert not _config(tmp_path / "neutral.keras").get("compile_config")  # Keras writes {}
    assert _config(tmp_path / "neutral.keras") == _config(tmp_path / "plain.keras")


def test_save_model_replaces_a_file_atomically_and_leaves_no_temporary_files(tmp_path):
    model, _ = _trained()
    path = tmp_path / "model.keras"
    path.write_bytes(b"the previous model")

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    model.save = broken_save  # an instance attribute: only this model
    with pytest.raises(OSError, match="disk full"):
        save_model(model, path)
    assert path.read_bytes() == b"the previous model"  # untouched by the failed save
    del model.save
    save_model(model, path)
    assert zipfile.is_zipfile(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]


def test_save_model_wants_a_keras_file_name(tmp_path):
    with pytest.raises(ValueError, match=r"path must end in \.keras.*Received: path=.*model\.h5"):
        save_model(build(ClassifierSpec(input_shape=(2,))), tmp_path / "model.h5")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="only PyTorch swaps in its own optimizer class"
)
def test_plain_model_save_still_names_the_torch_optimizer_class(tmp_path):
    # Why save_model exists (see saving.py's docstring). If Keras ever writes the public
    # class here, plain model.save is portable and that docstring should say so.
    model, _ = _trained()
    model.save(tmp_path / "plain.keras")
    optimizer = _config(tmp_path / "plain.keras")["compile_config"]["optimizer"]
    assert optimizer["module"] == "keras.src.backend.torch.optimizers.torch_rmsprop"


# --- load_model and the neutral compile config -------------------------------------------


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"expected a saved \.keras model file; .*nope"):
        load_model(tmp_path / "nope.keras")


def test_backend_specific_optimizer_classes_are_made_neutral():
    config = {
        "optimizer": {
            "module": "keras.src.backend.torch.optimizers.torch_rmsprop",
            "class_name": "RMSprop",
            "config": {"learning_rate": 0.001},
            "registered_name": "RMSprop",
        },
        "loss": "binary_crossentropy",
        "jit_compile": False,
    }
    neutral = _neutral(config)
    assert neutral == {
        "optimizer": {
            "module": "keras.optimizers",
            "class_name": "RMSprop",
            "config": {"learning_rate": 0.001},
            "registered_name": None,
        },
        "loss": "binary_crossentropy",
        "jit_compile": "auto",
    }
    assert config["optimizer"]["module"].startswith("keras.src.backend.torch")  # not mutated
    plain = {"optimizer": {"module": "keras.optimizers", "class_name": "Adam"}}
    assert _neutral(plain) == plain


def test_nested_optimizers_are_made_neutral_and_unknown_classes_are_left_alone():
    inner = {"module": "keras.src.backend.torch.optimizers.torch_adam", "class_name": "Adam"}
    custom = {"module": "keras.src.backend.torch.optimizers.torch_x", "class_name": "NotKeras"}
    config = {
        "optimizer": {
            "module": "keras.optimizers",
            "class_name": "LossScaleOptimizer",
            "config": {"inner_optimizer": inner},
        },
        "metrics": [custom],
    }
    neutral = _neutral(config)
    assert neutral["optimizer"]["config"]["inner_optimizer"]["module"] == "keras.optimizers"
    assert neutral["metrics"] == [custom]  # no public Keras optimizer of that name


# --- registration with Keras ------------------------------------------------------------


def _registering_modules() -> set[str]:
    """Every anykeras module that decorates a class with register_keras_serializable."""
    found = set()
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                "register_keras_serializable" in ast.unparse(d) for d in node.decorator_list
            ):
                parts = path.relative_to(SRC.parent).with_suffix("").parts
                found.add(".".join(p for p in parts if p != "__init__"))
    return found


def test_import_anykeras_imports_every_module_that_registers_a_class():
    modules = _registering_modules()
    assert {"anykeras.layers", "anykeras.metrics", "anykeras.builders.subclassed"} <= modules
    anykeras._register_with_keras()
    assert modules <= set(sys.modules)
    for name in ("Classifier", "ConvClassifier", "SequenceClassifier", "SparseDense"):
        assert keras.saving.get_registered_object(f"anykeras>{name}") is not None, name


@pytest.fixture
def fake_module(tmp_path, monkeypatch):
    """A function: ``fake_module(name)`` writes an importable module ``name``.

    It is removed from `sys.modules` after the test; `sys.meta_path` is restored.
    """
    names = []
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))

    def write(name: str) -> str:
        (tmp_path / f"{name}.py").write_text("COMPLETE = True\n", encoding="utf-8")
        names.append(name)
        return name

    yield write
    for name in names:
        sys.modules.pop(name, None)


def test_after_import_hook_runs_once_the_module_has_finished_importing(fake_module):
    name = fake_module("anykeras_fake_keras")
    calls = []

    def then():
        module = sys.modules[name]
        calls.append((module.COMPLETE, type(module.__loader__).__name__))

    hook = anykeras._AfterImport(name, then)
    sys.meta_path.insert(0, hook)
    assert importlib.util.find_spec(name) is not None  # a lookup only
    assert calls == []
    assert hook in sys.meta_path

    module = importlib.import_module(name)
    # Called after the module's code ran, with the module's own loader given back.
    assert calls == [(True, "SourceFileLoader")]
    assert type(module.__spec__.loader).__name__ == "SourceFileLoader"
    assert hook not in sys.meta_path  # one shot
    importlib.import_module(name)
    assert len(calls) == 1


def test_a_failing_registration_warns_and_the_import_still_succeeds(fake_module):
    name = fake_module("anykeras_fake_keras_2")

    def then():
        raise ImportError("broken anykeras module")

    hook = anykeras._AfterImport(name, then)
    sys.meta_path.insert(0, hook)
    with pytest.warns(RuntimeWarning, match="could not register.*broken anykeras module"):
        module = importlib.import_module(name)
    assert module.COMPLETE is True
    assert hook not in sys.meta_path


# --- the shared check (conftest.py's assert_save_reload) ---------------------------------


def test_assert_save_reload_passes_for_a_compiled_model_and_returns_it(assert_save_reload):
    model, x = _trained("functional")
    reloaded = assert_save_reload(model, x)
    assert reloaded is not model
    assert reloaded.compiled
    assert int(reloaded.optimizer.iterations) == 1


def test_assert_save_reload_fails_when_the_reloaded_model_differs(assert_save_reload, monkeypatch):
    model, x = _trained("sequential")
    load = keras.saving.load_model

    def load_and_perturb(path, **kwargs):
        reloaded = load(path, **kwargs)
        reloaded.set_weights([w + 0.5 for w in reloaded.get_weights()])
        return reloaded

    monkeypatch.setattr(keras.saving, "load_model", load_and_perturb)
    with pytest.raises(AssertionError):
        assert_save_reload(model, x)
