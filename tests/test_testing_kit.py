"""anykeras.testing finds the mistakes that tie a model to one backend, and passes good models.

Each broken model below is wrong in one way users get wrong: NumPy on tensors in
``call``, a direct ``torch`` import, a ``tf.``-only op, a subclassed model without
``get_config``, a custom layer that is not registered, weights created in another
order (between two "same" models, or on another backend). Each must be caught with a
message that says what to fix; the correct models must pass. The model code is written
as text into a temporary folder: it is the user's code, not anykeras's.

The cross-process checks start real Python processes, one per backend and phase (a
few seconds each, more on a busy machine); the one across all three backends is marked
``slow``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from anykeras.spec import BACKENDS
from anykeras.testing import (
    assert_backend_agnostic,
    assert_same_model,
    assert_save_reload,
    check_golden,
    check_portable,
    find_backend_code,
    lint,
    make_golden,
    nox_sessions,
    plugin,
)
from anykeras.testing import golden as golden_cli
from anykeras.testing.interpreters import find_pythons
from anykeras.testing.model_fn import import_module

HERE = keras.backend.backend()
OTHER = "torch" if HERE != "torch" else "jax"  # a backend pair with torch's weight order

# --- the user's models, as text -------------------------------------------------------

MODELS = '''
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kit")
class Scale(keras.layers.Layer):
    """Correct: weights in build(), keras.ops only, get_config, registered."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, x):
        return ops.tanh(x * self.w * self.factor)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def good():
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(5, activation="relu")(Scale(0.5)(inputs))
    hidden = keras.layers.Dropout(0.5)(hidden)
    return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))


def good_sequential():
    return keras.Sequential([
        keras.Input((6,)), Scale(0.5), keras.layers.Dense(5, activation="relu"),
        keras.layers.Dropout(0.5), keras.layers.Dense(1, activation="sigmoid"),
    ])


class Unregistered(keras.layers.Layer):
    """Wrong: not registered, so a .keras file cannot name it."""

    def call(self, x):
        return x * 2.0


def unregistered():
    return keras.Sequential([keras.Input((6,)), Unregistered(), keras.layers.Dense(1)])


class Spec:
    def __init__(self, units):
        self.units = units


@keras.saving.register_keras_serializable(package="kit")
class NoConfigNet(keras.Model):
    """Wrong: __init__ takes a non-JSON argument and there is no get_config."""

    def __init__(self, spec, **kwargs):
        super().__init__(**kwargs)
        self.spec = spec
        self.hidden = keras.layers.Dense(spec.units, activation="relu")
        self.head = keras.layers.Dense(1)

    def call(self, x):
        return self.head(self.hidden(x))


def no_get_config():
    return NoConfigNet(Spec(4))


class Affine(keras.layers.Layer):
    def __init__(self, units=3, bias_first=False, **kwargs):
        super().__init__(**kwargs)
        self.units, self.bias_first = units, bias_first

    def build(self, input_shape):
        make = {
            "kernel": lambda: self.add_weight(shape=(input_shape[-1], self.units), name="kernel"),
            "bias": lambda: self.add_weight(shape=(self.units,), initializer="zeros", name="bias"),
        }
        order = ("bias", "kernel") if self.bias_first else ("kernel", "bias")
        for name in order:
            setattr(self, name, make[name]())

    def call(self, x):
        return ops.matmul(x, self.kernel) + self.bias


def affine(bias_first=False):
    return keras.Sequential([keras.Input((6,)), Affine(3, bias_first), keras.layers.Dense(1)])


@keras.saving.register_keras_serializable(package="kit")
class BackendOrder(Affine):
    """Wrong: a "fast path" for PyTorch creates the bias first, on that backend only."""

    def __init__(self, units=3, **kwargs):
        super().__init__(units, bias_first=keras.backend.backend() == "torch", **kwargs)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def backend_order():
    return keras.Sequential([keras.Input((6,)), BackendOrder(3), keras.layers.Dense(1)])


class TwoMatrices(keras.layers.Layer):
    """x @ a @ b; `swap` creates b before a (same shapes: only the values tell)."""

    def __init__(self, swap=False, **kwargs):
        super().__init__(**kwargs)
        self.swap = swap

    def build(self, input_shape):
        names = ("b", "a") if self.swap else ("a", "b")
        for name in names:
            setattr(self, name, self.add_weight(shape=(6, 6), name=name))

    def call(self, x):
        return ops.matmul(ops.matmul(x, self.a), self.b)


def two_matrices(swap=False):
    return keras.Sequential([keras.Input((6,)), TwoMatrices(swap)])
'''

NUMPY_IN_CALL = """\
import keras
import numpy as np
from numpy import mean as np_mean

SCALE = np.float32(2.0)  # module level: fine


class Standardize(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.eps = np.float32(1e-6)  # not in call: fine

    def call(self, x):
        centered = x - np.mean(x, axis=-1, keepdims=True)
        scale = np.linalg.norm(centered) + np_mean(x)
        noise = np.random.normal(size=x.shape)
        return centered / scale + x.numpy() + noise
"""

TORCH_IMPORT = """\
import keras
import torch


class TorchGelu(keras.layers.Layer):
    def call(self, x):
        return torch.nn.functional.gelu(x)
"""

TF_ONLY_OP = """\
import keras
import tensorflow as tf


class Resize(keras.layers.Layer):
    def call(self, images):
        return tf.image.resize(images, (8, 8))
"""

OPS_ONLY = """\
import keras
import numpy as np
from keras import ops

EPSILON = float(np.finfo("float32").eps)  # NumPy outside call: fine


class Standardize(keras.layers.Layer):
    def call(self, x):
        centered = x - ops.mean(x, axis=-1, keepdims=True)
        return centered / (ops.std(x) + EPSILON)
"""


@pytest.fixture(scope="module")
def models_file(tmp_path_factory) -> Path:
    """The user's model file (imported here once, so its classes register once)."""
    path = tmp_path_factory.mktemp("user_project") / "kit_models.py"
    path.write_text(MODELS, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def kit(models_file):
    return import_module(str(models_file))


@pytest.fixture
def xy() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 6)).astype("float32")
    return x, rng.integers(0, 2, size=(8, 1)).astype("float32")


BINARY = {"optimizer": "rmsprop", "loss": "binary_crossentropy", "metrics": ["accuracy"]}


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(source, encoding="utf-8")
    return path


# --- the lint ----------------------------------------------------------------------------


def test_lint_finds_numpy_on_tensors_inside_call(tmp_path):
    findings = find_backend_code([write(tmp_path, "layers.py", NUMPY_IN_CALL)])
    assert [(f.line, f.code) for f in findings] == [
        (14, "numpy-in-call"),
        (15, "numpy-in-call"),
        (15, "numpy-in-call"),
        (16, "numpy-in-call"),
        (17, "numpy-method-in-call"),
    ]
    messages = [f.message for f in findings]
    assert messages[0].startswith("np.mean(...) in Standardize.call: NumPy needs concrete values")
    assert messages[0].endswith("use keras.ops.mean")
    assert messages[1].endswith("use keras.ops.norm")
    assert messages[2].startswith("np_mean(...)")  # imported from numpy under another name
    assert messages[3].endswith("use keras.random.normal with a keras.random.SeedGenerator")
    assert messages[4].startswith("x.numpy() in Standardize.call: a traced tensor has no values")
    assert str(findings[0]).startswith(f"{tmp_path / 'layers.py'}:14:24: numpy-in-call np.mean")


def test_lint_finds_a_direct_torch_import_and_a_tf_only_op(tmp_path):
    torch_file = write(tmp_path, "torch_layer.py", TORCH_IMPORT)
    tf_file = write(tmp_path, "tf_layer.py", TF_ONLY_OP)
    findings = find_backend_code([tmp_path])
    assert [(f.path.name, f.line, f.code) for f in findings] == [
        ("tf_layer.py", 2, "backend-import"),
        ("torch_layer.py", 2, "backend-import"),
    ]
    assert findings[0].message == (
        "imports tensorflow: a backend; use keras.ops (or keras.random, keras.layers) instead"
    )
    with pytest.raises(AssertionError, match=r"2 place\(s\) tie the code to one backend:\n"):
        assert_backend_agnostic([torch_file, tf_file])


def test_lint_catches_every_import_form_and_nothing_else(tmp_path):
    source = (
        "import torch\nimport jax.numpy as jnp\nfrom tensorflow.keras import layers\n"
        "import importlib\nnn = importlib.import_module('torch.nn')\nlib = __import__('jaxlib')\n"
        "import numpy\nfrom . import torch as local\nimport torchvision_like\nimport keras\n"
    )
    findings = find_backend_code([write(tmp_path, "forms.py", source)])
    assert [(f.line, f.message.split(":")[0]) for f in findings] == [
        (1, "imports torch"),
        (2, "imports jax.numpy"),
        (3, "imports tensorflow.keras"),
        (5, "imports torch.nn"),
        (6, "imports jaxlib"),
    ]


def test_lint_passes_correct_code_and_honours_the_allow_list(tmp_path):
    write(tmp_path, "good.py", OPS_ONLY)
    (tmp_path / "loops").mkdir()
    write(tmp_path / "loops", "torch_step.py", TORCH_IMPORT)
    write(tmp_path, "marked.py", "import jax  # anykeras: allow\n")
    (tmp_path / ".venv").mkdir()
    write(tmp_path / ".venv", "site.py", TORCH_IMPORT)  # hidden folders are not searched
    files = assert_backend_agnostic([tmp_path], allow=["*/loops/*"])
    assert sorted(f.name for f in files) == ["good.py", "marked.py", "torch_step.py"]
    assert [f.path.name for f in find_backend_code([tmp_path])] == ["torch_step.py"]


def test_lint_command_line(tmp_path, capsys):
    bad = write(tmp_path, "bad.py", TORCH_IMPORT)
    assert lint.main([str(bad)]) == 1
    assert capsys.readouterr().out == (
        f"{bad}:2:1: backend-import imports torch: a backend; use keras.ops "
        "(or keras.random, keras.layers) instead\n"
    )
    assert lint.main([str(bad), "--allow", "*/bad.py"]) == 0
    assert capsys.readouterr().out == "1 file(s) checked: no backend-specific code found\n"
    with pytest.raises(SystemExit) as exit_:
        lint.main([str(tmp_path / "missing.py")])
    assert exit_.value.code == 2
    assert "missing.py does not exist" in capsys.readouterr().err


def test_lint_reports_a_file_that_does_not_parse(tmp_path):
    [finding] = find_backend_code([write(tmp_path, "broken.py", "def call(:\n")])
    assert (finding.line, finding.code) == (1, "syntax-error")


# --- the same model ------------------------------------------------------------------------


def test_same_model_passes_the_same_model_written_two_ways(kit, xy):
    x, y = xy
    functional, sequential = kit.good(), kit.good_sequential()
    assert_same_model(functional, sequential, x=x, y=y, compile=BINARY, steps=3)
    # The first model's weights were copied, and both trained the same from them.
    for a, b in zip(functional.get_weights(), sequential.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert functional.layers[-2].rate == 0.5  # dropout is back on after the check


def test_same_model_names_the_weight_created_in_another_order(kit, xy):
    with pytest.raises(AssertionError) as error:
        assert_same_model(kit.affine(), kit.affine(bias_first=True), x=xy[0])
    assert str(error.value).startswith(
        "model 1 differs from model 0 at weight 0: model 0 has 'sequential/affine/kernel' "
        "(6, 3), model 1 has 'sequential_1/affine_1/bias' (3,) "
        "(4 weights, 25 parameters in model 0; "
        "4 weights, 25 parameters in model 1). Create the weights in the same order"
    )


def test_same_model_points_at_swapped_weights_of_the_same_shape(kit, xy):
    with pytest.raises(AssertionError) as error:
        assert_same_model(kit.two_matrices(), kit.two_matrices(swap=True), x=xy[0])
    message = str(error.value)
    assert message.startswith("with model 0's weights, output 0 of model 1 differs by ")
    assert message.endswith(
        "Weights in another order? weight 0 is 'a' in model 0 but 'b' here; "
        "weight 1 is 'b' in model 0 but 'a' here."
    )


def test_same_model_names_the_training_step_that_differs(kit, xy):
    x, y = xy
    frozen = kit.good_sequential()
    frozen.layers[1].trainable = False  # same weights and predictions; trains differently
    with pytest.raises(AssertionError, match=r"^training step 2: loss of model 1 is "):
        assert_same_model(kit.good_sequential(), frozen, x=x, y=y, compile=BINARY, steps=2)


def test_same_model_refuses_bad_arguments(kit, xy):
    with pytest.raises(ValueError, match=r"needs two models or more\. Received: 1"):
        assert_same_model(kit.good(), x=xy[0])
    with pytest.raises(ValueError, match="steps > 0 trains the models: pass y and compile"):
        assert_same_model(kit.good(), kit.good(), x=xy[0], steps=1)


# --- save and reload in this process -------------------------------------------------------


def test_save_reload_passes_a_correct_model(kit, xy, tmp_path):
    model = kit.good()
    model.compile(**BINARY)
    model.train_on_batch(*xy)
    reloaded = assert_save_reload(model, xy[0], tmp_path / "good.keras")
    assert type(reloaded).__name__ == "Functional"
    assert reloaded.optimizer.iterations.numpy() == 1


def test_save_reload_says_to_add_get_config(kit, xy, tmp_path):
    model = kit.no_get_config()
    model(xy[0])
    with pytest.raises(AssertionError) as error:
        assert_save_reload(model, xy[0], tmp_path / "net.keras")
    message = str(error.value)
    assert message.startswith("saving NoConfigNet failed: NotImplementedError: Object NoConfigNet")
    assert (
        "\nFix: Add a get_config() to the custom class that returns every __init__ argument "
        "(config = super().get_config(); config.update(units=self.units, ...)), and a "
        "from_config() if an argument is not plain JSON (a layer, a spec object).\n"
    ) in message
    assert message.endswith(
        "\nevery serialization problem found (1):\n  - NoConfigNet.get_config() fails: "
        "NotImplementedError: Object NoConfigNet was created by passing non-serializable "
        "argument values in `__init__()`, and therefore the object must override "
        "`get_config()` in order to be serializable. Please implement `get_config()`."
    )
    assert not (tmp_path / "net.keras").exists()  # nothing half-written


def test_save_reload_says_to_register_the_layer(kit, xy, tmp_path):
    with pytest.raises(AssertionError) as error:
        assert_save_reload(kit.unregistered(), xy[0], tmp_path / "layer.keras")
    message = str(error.value)
    assert message.startswith(f"loading {tmp_path / 'layer.keras'} failed: TypeError: ")
    assert "\nFix: not registered with Keras: Unregistered. Register every custom class with " in (
        message
    )
    assert "@keras.saving.register_keras_serializable(package=...)" in message
    assert "config={" not in message  # Keras's dump of the whole config is cut


# --- golden files --------------------------------------------------------------------------


def test_golden_files_round_trip_and_name_what_differs(models_file, kit, xy, tmp_path):
    x, y = xy
    folder = tmp_path / "golden"
    make_golden(f"{models_file}:good", x, folder, y=y, compile=BINARY)
    assert sorted(p.name for p in folder.iterdir())[:3] == [
        "golden.json",
        "model.keras",
        "outputs.0.npy",
    ]
    result = check_golden(folder)
    margins = str(result.pop("margins"))
    assert result == {"backend": HERE, "made_on": HERE, "output_diff": 0.0, "step_diff": 0.0}
    assert margins == (
        "largest output difference: output 0 0.0e+00 (0% of atol=1e-05)\n"
        "largest step difference: scale/w 0.0e+00 (0% of step_atol=1e-04)"
    )
    with pytest.raises(FileExistsError, match="already holds golden files; pass overwrite=True"):
        make_golden(f"{models_file}:good", x, folder)
    np.save(folder / "outputs.0.npy", np.load(folder / "outputs.0.npy") + 0.5)
    with pytest.raises(AssertionError, match=r"^output 0 differs by 0\.5 \(atol 1e-05\)$"):
        check_golden(folder)


def test_golden_step_names_the_weight_that_moved_differently(models_file, xy, tmp_path):
    x, y = xy
    make_golden(f"{models_file}:good", x, tmp_path, y=y, compile=BINARY)
    np.save(tmp_path / "step.2.npy", np.load(tmp_path / "step.2.npy") + 1e-3)
    with pytest.raises(AssertionError) as error:
        check_golden(tmp_path)
    assert str(error.value) == (
        "after one step, weight 2 (dense/bias) differs by 0.001 (atol 0.0001); "
        "5 weights, 5 expected"
    )


def test_golden_command_line(models_file, xy, tmp_path, capsys):
    np.save(tmp_path / "x.npy", xy[0])
    np.save(tmp_path / "y.npy", xy[1])
    folder = tmp_path / "golden"
    argv = ["make", f"{models_file}:good", str(folder), "--x", str(tmp_path / "x.npy")]
    assert (
        golden_cli.main([*argv, "--y", str(tmp_path / "y.npy"), "--compile", json.dumps(BINARY)])
        == 0
    )
    assert capsys.readouterr().out == f"wrote golden files to {folder}\n"
    assert golden_cli.main(["check", str(folder)]) == 0
    assert capsys.readouterr().out == (
        f"{folder}: made on {HERE}, reproduced on {HERE}: outputs differ by 0.0e+00, "
        "one step by 0.0e+00\nlargest output difference: output 0 0.0e+00 (0% of atol=1e-05)\n"
        "largest step difference: scale/w 0.0e+00 (0% of step_atol=1e-04)\n"
    )
    assert golden_cli.main(["check", str(tmp_path / "nothing")]) == 2
    assert "holds no golden files (golden.json): run make first" in capsys.readouterr().err


def test_golden_files_made_on_another_backend_check_here(models_file, xy, tmp_path):
    found, skipped = find_pythons([OTHER])
    if OTHER in skipped:
        pytest.skip(skipped[OTHER])
    np.save(tmp_path / "x.npy", xy[0])
    np.save(tmp_path / "y.npy", xy[1])
    command = [found[OTHER], "-m", "anykeras.testing.golden", "--backend", OTHER, "make",
               f"{models_file}:good", str(tmp_path / "golden"), "--x", str(tmp_path / "x.npy"),
               "--y", str(tmp_path / "y.npy"), "--compile", json.dumps(BINARY)]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=600)
    result = check_golden(tmp_path / "golden")
    assert (result["made_on"], result["backend"]) == (OTHER, HERE)
    assert result["output_diff"] < 1e-5
    assert result["step_diff"] < 1e-4


# --- check_portable: real processes --------------------------------------------------------


def test_check_portable_says_to_register_a_layer_another_process_cannot_load(models_file, xy):
    with pytest.raises(AssertionError) as error:
        check_portable(f"{models_file}:unregistered", xy[0], backends=[HERE])
    message = str(error.value)
    assert message.startswith(f"{models_file}:unregistered is not portable:\n")
    assert f"{HERE:<11} {HERE:<11} -          -          FAILED" in message
    assert f"  {HERE} -> {HERE}: loading " in message
    assert "Fix: not registered with Keras: Unregistered. Register every custom class" in message


def test_check_portable_says_to_add_get_config(models_file, xy):
    report = check_portable(
        f"{models_file}:no_get_config", xy[0], backends=[HERE], raise_on_failure=False
    )
    assert not report.passed
    assert report.pairs == []  # nothing was saved, so nothing was loaded
    assert report.save_errors[HERE].startswith(
        "saving failed: NotImplementedError: Object NoConfigNet was created by passing "
        "non-serializable argument values in `__init__()`, and therefore the object must "
        "override `get_config()` in order to be serializable. Please implement `get_config()`."
        "\nFix: Add a get_config()"
    )
    assert "Fix: Add a get_config() to the custom class" in report.save_errors[HERE]


def test_check_portable_skips_what_is_not_installed_and_never_passes_it(models_file, xy):
    report = check_portable(
        f"{models_file}:good", xy[0], backends=[OTHER], pythons={OTHER: "/nowhere/python"},
        raise_on_failure=False,
    )  # fmt: skip
    assert report.pairs == []
    assert not report.passed
    assert report.skipped == {
        OTHER: f"/nowhere/python does not exist (pass pythons={{'{OTHER}': "
        "'/path/to/python'} to use another environment)"
    }
    assert report.failures() == ["no backend was checked: every one was skipped"]
    with pytest.raises(AssertionError, match="no backend was checked"):
        check_portable(f"{models_file}:good", xy[0], backends=[OTHER], pythons={OTHER: "/no"})


def test_check_portable_refuses_bad_arguments(models_file, xy):
    with pytest.raises(ValueError, match=r"backends must be one of .* Received: backends='mxnet'"):
        check_portable(f"{models_file}:good", xy[0], backends=["mxnet"])
    with pytest.raises(TypeError, match="compile is sent to other processes, so it must be JSON"):
        check_portable(f"{models_file}:good", xy[0], compile={"optimizer": object()})
    with pytest.raises(ValueError, match=r"model_fn must name a function as 'package\.module:"):
        check_portable("kit_models.good", xy[0])


@pytest.mark.slow
def test_check_portable_passes_a_correct_model_on_every_backend(models_file, xy):
    x, y = xy
    report = check_portable(f"{models_file}:good", x, y=y, compile=BINARY)
    checked = [b for b in BACKENDS if b not in report.skipped]
    assert HERE in checked
    assert [(p.saver, p.loader) for p in report.pairs] == [(a, b) for a in checked for b in checked]
    for pair in report.pairs:
        assert pair.passed, pair.problem()
        assert pair.weights_diff == 0.0  # the file holds the weights exactly
        assert pair.output_diff <= 1e-5
        assert pair.step_diff <= 1e-4
    assert report.notes == ["switched off for the step: dropout"]


def test_check_portable_catches_weights_created_in_a_backend_dependent_order(models_file, xy):
    x, y = xy
    report = check_portable(
        f"{models_file}:backend_order", x, backends=[HERE, OTHER], y=y, compile=BINARY,
        raise_on_failure=False,
    )  # fmt: skip
    if OTHER in report.skipped:
        pytest.skip(report.skipped[OTHER])
    failed = sorted((p.saver, p.loader) for p in report.pairs if not p.passed)
    assert failed == sorted([(HERE, OTHER), (OTHER, HERE)])  # each backend loads its own
    for line in report.failures():
        assert "The shape of the target variable and the shape of the target value" in line
        assert "Fix: The weights in the file do not fit this backend's model" in line


# --- nox sessions and the pytest plugin ----------------------------------------------------


class FakeNox:
    """What a noxfile's ``nox`` module does with sessions, recorded."""

    def __init__(self):
        self.options = {}

    def session(self, **options):
        def register(function):
            self.options[options["name"]] = options
            return function

        return register


class FakeSession:
    def __init__(self, posargs=()):
        self.posargs = list(posargs)
        self.calls = []

    def install(self, *args):
        self.calls.append(("install", args))

    def run(self, *args, env):
        self.calls.append(("run", args, env))


def test_nox_sessions_give_one_test_session_per_backend():
    nox = FakeNox()
    sessions = nox_sessions(nox, install=("-e", ".[{backend}]", "{backend_package}"),
                            pytest_args=("-q",), python="3.11")  # fmt: skip
    assert sorted(sessions) == ["test-jax", "test-tensorflow", "test-torch"]
    assert nox.options["test-jax"] == {"name": "test-jax", "python": "3.11", "tags": ["test"]}
    session = FakeSession(posargs=["-k", "portable"])
    sessions["test-jax"](session)
    assert session.calls == [
        ("install", ("-e", ".[jax]", "jax[cpu]")),
        ("run", ("pytest", "-q", "-k", "portable"),
         {"KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2"}),
    ]  # fmt: skip
    assert "under the jax backend" in sessions["test-jax"].__doc__
    torch = nox_sessions(FakeNox(), backends=["torch"], install=lambda b: ["-r", f"{b}.txt"])
    session = FakeSession()
    torch["test-torch"](session)
    assert session.calls[0] == ("install", ("-r", "torch.txt"))
    with pytest.raises(ValueError, match="backends must be one of"):
        nox_sessions(FakeNox(), backends=["theano"])


class FakeItem:
    """A collected test carrying ``backends(*names)`` markers."""

    def __init__(self, *marks: tuple[str, ...]):
        self.nodeid = "test_x.py::test_y"
        self.marks = [SimpleNamespace(name="backends", args=names) for names in marks]

    def iter_markers(self, name):
        return [mark for mark in self.marks if mark.name == name]

    def add_marker(self, marker):
        self.marks.append(marker.mark)

    def skip_reasons(self):
        return [mark.kwargs["reason"] for mark in self.marks if mark.name == "skip"]


def test_the_backends_marker_skips_other_backends_only():
    items = [FakeItem(), FakeItem((HERE, OTHER)), FakeItem((OTHER,))]
    plugin.pytest_collection_modifyitems(items)
    assert [item.skip_reasons() for item in items] == [
        [], [], [f"runs on {OTHER} only; this session runs on {HERE}"]
    ]  # fmt: skip
    with pytest.raises(pytest.UsageError, match=r"test_x.py::test_y: backends\(\) takes names"):
        plugin.pytest_collection_modifyitems([FakeItem(("theano",))])


def test_the_plugin_does_not_import_keras_when_pytest_starts():
    code = (
        "import sys, anykeras.testing, anykeras.testing.plugin\n"
        "print(sorted(m for m in ('keras', 'jax', 'torch', 'tensorflow') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"


USER_TESTS = """
import numpy as np
import pytest

import my_models

x = np.random.default_rng(0).normal(size=(4, 6)).astype("float32")


def test_backend(keras_backend):
    assert keras_backend == "{here}"


def test_same_model(assert_same_model):
    assert_same_model(my_models.good(), my_models.good_sequential(), x=x)


def test_save_reload(assert_save_reload):
    assert assert_save_reload(my_models.good(), x).count_params() == 47


def test_the_unregistered_layer_is_caught(assert_save_reload):
    with pytest.raises(AssertionError, match="register_keras_serializable"):
        assert_save_reload(my_models.unregistered(), x)


def test_check_portable_is_there(check_portable):
    assert check_portable.__name__ == "check_portable"


@pytest.mark.backends("{other}")
def test_only_on_another_backend():
    raise AssertionError("must have been skipped")


@pytest.mark.backends("{here}")
def test_only_here(keras_backend):
    assert keras_backend == "{here}"
"""


def test_a_user_project_runs_pytest_with_the_plugin(tmp_path):
    write(tmp_path, "my_models.py", MODELS)
    write(tmp_path, "test_my_models.py", USER_TESTS.format(here=HERE, other=OTHER))
    # The project chooses its backend in conftest.py: the plugin must not have started
    # Keras before (the environment names a backend this venv may not even have).
    write(tmp_path, "conftest.py", f"import os\n\nos.environ['KERAS_BACKEND'] = '{HERE}'\n")
    env = {**os.environ, "KERAS_BACKEND": OTHER, "TF_CPP_MIN_LOG_LEVEL": "2"}
    plugin_only = ["-p", "no:anykeras", "-p", "anykeras.testing.plugin", "-p", "no:cacheprovider"]
    command = [sys.executable, "-m", "pytest", *plugin_only, "--strict-markers", "-q", "-rs"]
    done = subprocess.run(
        [*command, str(tmp_path)], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"runs on {OTHER} only; this session runs on {HERE}" in done.stdout
    assert "6 passed, 1 skipped" in done.stdout


# --- the three keras.io models -------------------------------------------------------------


@pytest.fixture(scope="module")
def keras_io():
    return import_module(str(Path(__file__).parents[1] / "examples" / "portable_keras_io.py"))


@pytest.mark.filterwarnings("ignore:Explicitly requested dtype int64:UserWarning")  # JAX, x64 off
@pytest.mark.parametrize("name", ["mnist_convnet", "text_classifier", "ticket_classifier"])
def test_keras_io_models_build_and_round_trip_here(keras_io, name, tmp_path):
    x, _ = keras_io.MODELS[name](np.random.default_rng(0), 2)
    model = getattr(keras_io, name)()
    assert model.compiled
    reloaded = assert_save_reload(model, x, tmp_path / f"{name}.keras", atol=1e-5)
    assert reloaded.count_params() == {
        "mnist_convnet": 34826, "text_classifier": 2_806_273, "ticket_classifier": 1_392_097,
    }[name]  # fmt: skip
