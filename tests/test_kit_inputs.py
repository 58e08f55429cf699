"""The testing kit's inputs: damaged golden folders, bad model functions, non-models.

Each case is built on disk for real (a golden folder `make_golden` wrote, then
damaged) and the command runs as a user runs it, ``python -m anykeras.testing.golden``
in its own process: one line on stderr naming the file and the key, the exit status,
no traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import pytest

from anykeras.testing import assert_same_model, assert_save_reload, check_portable, make_golden
from anykeras.testing import golden as golden_cli
from anykeras.testing.golden_files import GoldenFileError, read_manifest
from anykeras.testing.model_fn import ModelBuildError

# Model functions as a user writes them; this module imports Keras only in `good`, so
# a bad reference is refused before Keras loads.
MODELS = """
def good():
    import keras
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])

def returns_int():
    return 3

def returns_none():
    return None

def raises():
    raise RuntimeError("no weights here")
"""
COMPILE = {"optimizer": "sgd", "loss": "mse"}


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("models") / "kit_models.py"
    path.write_text(MODELS)
    return path


@pytest.fixture(scope="module")
def made(models, tmp_path_factory) -> Path:
    """A golden folder as `make_golden` writes it, with one optimizer step."""
    folder = tmp_path_factory.mktemp("golden") / "golden"
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
    make_golden(f"{models}:good", x, folder, y=y, compile=COMPILE)
    return folder


@pytest.fixture
def golden(made, tmp_path) -> Path:
    folder = tmp_path / "golden"
    shutil.copytree(made, folder)
    return folder


def golden_command(*args: str, cwd: Path) -> tuple[int, str]:
    """``python -m anykeras.testing.golden ARGS``: (exit status, stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "anykeras.testing.golden", *args],
        capture_output=True, text=True, timeout=300, check=False, cwd=cwd,
        env={**os.environ, "KERAS_BACKEND": keras.backend.backend()},
    )  # fmt: skip
    return done.returncode, done.stderr


def json_error(data: bytes) -> str:
    try:
        json.loads(data.decode())
    except ValueError as error:
        return str(error)
    raise AssertionError(data)


def edit(folder: Path, **changes: object) -> None:
    """Change keys of ``folder``'s golden.json (a value of None removes the key)."""
    manifest = json.loads((folder / "golden.json").read_text())
    for key, value in changes.items():
        if value is None:
            del manifest[key]
        else:
            manifest[key] = value
    (folder / "golden.json").write_text(json.dumps(manifest))


# Each damage to a golden folder, as a function that makes it and returns the line
# that follows "error: ".
DAMAGE: dict[str, Callable[[Path], str]] = {}


def damage(name: str) -> Callable[[Callable[[Path], str]], Callable[[Path], str]]:
    def register(make: Callable[[Path], str]) -> Callable[[Path], str]:
        DAMAGE[name] = make
        return make

    return register


OUTSIDE = "golden files name only files in their folder"


@damage("random bytes")
def random_bytes(folder: Path) -> str:
    (folder / "golden.json").write_bytes(bytes(range(255, 0, -1)))
    return f"{folder}/golden.json: is not UTF-8 text"


@damage("cut short")
def cut_short(folder: Path) -> str:
    data = (folder / "golden.json").read_bytes()[:20]
    (folder / "golden.json").write_bytes(data)
    return f"{folder}/golden.json: is not JSON ({json_error(data)})"


@damage("of the wrong type")
def wrong_type(folder: Path) -> str:
    (folder / "golden.json").write_text("[1, 2]")
    return f"{folder}/golden.json: holds a JSON array where an object belongs"


@damage("missing a key")
def missing_key(folder: Path) -> str:
    edit(folder, outputs=None)
    return f"{folder}/golden.json: key 'outputs' is missing; make the golden files again"


@damage("a key of the wrong type")
def key_of_wrong_type(folder: Path) -> str:
    edit(folder, x=3)
    return f"{folder}/golden.json: key 'x' holds a JSON number; expected string or object"


@damage("a missing array")
def missing_array(folder: Path) -> str:
    (folder / "outputs.0.npy").unlink()
    return (
        f"{folder}/golden.json: key 'outputs' names outputs.0.npy, which is missing from {folder}"
    )


@damage("a damaged array")
def damaged_array(folder: Path) -> str:
    path = folder / "x.npy"
    path.write_bytes(b"\x93NUMPY nonsense")
    try:  # numpy's own words, quoted in the line
        np.load(path, allow_pickle=False)
    except ValueError as error:
        numpy_says = str(error)
    return f"{folder}/golden.json: key 'x': {path} is not a .npy array ({numpy_says})"


@damage("a damaged model file")
def damaged_model(folder: Path) -> str:
    (folder / "model.keras").write_bytes(b"not a zip")
    return f"{folder}/model.keras: is not a .keras model file (File is not a zip file)"


@damage("a path with ..")
def dot_dot(folder: Path) -> str:
    edit(folder, x="../x.npy")
    return f"{folder}/golden.json: key 'x' names ../x.npy, outside {folder}; {OUTSIDE}"


@damage("an absolute path")
def absolute(folder: Path) -> str:
    edit(folder, y={"list": ["/etc/hostname"]})
    return f"{folder}/golden.json: key 'y' names /etc/hostname, outside {folder}; {OUTSIDE}"


@damage("a link leading out")
def link_out(folder: Path) -> str:
    outside = folder.parent / "elsewhere.npy"
    shutil.move(folder / "x.npy", outside)
    (folder / "x.npy").symlink_to(outside)
    link = f"a link to {outside} outside {folder}"
    return f"{folder}/golden.json: key 'x' names x.npy, {link}; {OUTSIDE}"


@pytest.mark.parametrize("damage", DAMAGE)
def test_golden_check_names_the_damaged_file_and_key_in_one_line(damage, golden, tmp_path):
    line = DAMAGE[damage](golden)
    code, stderr = golden_command("check", str(golden), cwd=tmp_path)
    assert (code, stderr) == (1, f"anykeras golden check: error: {line}\n")


def test_the_reader_raises_one_golden_file_error(golden):
    (golden / "golden.json").write_text('"made on jax"')
    with pytest.raises(GoldenFileError) as error:
        read_manifest(golden)
    assert str(error.value) == f"{golden}/golden.json: holds a JSON string where an object belongs"
    assert isinstance(error.value, ValueError)


def test_golden_make_refuses_a_reference_to_no_function(models, tmp_path):
    np.save(tmp_path / "x.npy", np.ones((2, 3), "float32"))
    make = ["make", "--x", str(tmp_path / "x.npy")]
    code, stderr = golden_command(*make, "no_such_module:build", "out", cwd=tmp_path)
    assert (code, stderr) == (
        2, "anykeras golden make: error: model_fn no_such_module:build: "
        "No module named 'no_such_module'\n",
    )  # fmt: skip
    code, stderr = golden_command(*make, f"{models}:missing", "out", cwd=tmp_path)
    assert (code, stderr) == (
        2, f"anykeras golden make: error: model_fn {models}:missing: {models} has no 'missing'\n"
    )  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.npy"]  # nothing written


def test_golden_make_says_the_function_returned_no_model(models, tmp_path):
    np.save(tmp_path / "x.npy", np.ones((2, 3), "float32"))
    ref = f"{models}:returns_int"
    code, stderr = golden_command("make", ref, "out", "--x", str(tmp_path / "x.npy"), cwd=tmp_path)
    assert (code, stderr) == (
        1, f"anykeras golden make: error: expected a function returning a Keras model, "
        f"received int from {ref}\n",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("function", "line"),
    [("returns_none", "expected a function returning a Keras model, received NoneType from "
                      "{ref}"),
     ("raises", "{ref} failed: RuntimeError: no weights here")],
)  # fmt: skip
def test_golden_make_reports_a_failing_function_in_one_line(
    models, function, line, tmp_path, capsys
):
    np.save(tmp_path / "x.npy", np.ones((2, 3), "float32"))
    ref = f"{models}:{function}"
    code = golden_cli.main(["make", ref, str(tmp_path / "out"), "--x", str(tmp_path / "x.npy")])
    assert (code, capsys.readouterr().err) == (
        1, f"anykeras golden make: error: {line.format(ref=ref)}\n"
    )  # fmt: skip
    with pytest.raises(ModelBuildError, match=r"received NoneType|no weights here"):
        make_golden(ref, np.ones((2, 3)), tmp_path / "out")


def not_a_model():
    return None


@pytest.mark.parametrize(
    ("value", "name"), [("model.keras", "str"), (None, "NoneType"), (not_a_model, "function")]
)
def test_the_kit_says_what_it_received_instead_of_a_model(value, name, tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    x = np.ones((2, 3), "float32")
    with pytest.raises(TypeError) as error:
        assert_same_model(model, value, x=x)
    assert str(error.value) == f"expected a Keras model, received {name} (model 1)"
    with pytest.raises(TypeError) as error:
        assert_save_reload(value, x, tmp_path / "m.keras")
    assert str(error.value) == f"expected a Keras model, received {name} (the model to save)"
    with pytest.raises(TypeError) as error:
        golden_cli.assert_outputs(value, x, np.ones((2, 2)))
    assert str(error.value) == f"expected a Keras model, received {name} (assert_outputs)"


@pytest.mark.parametrize(("value", "name"), [(None, "NoneType"), (3, "int")])
def test_check_portable_says_it_needs_a_function_returning_a_model(value, name):
    with pytest.raises(TypeError) as error:
        check_portable(value, np.ones((2, 3)))
    assert str(error.value) == (
        f"expected a function returning a Keras model, or 'module:function', received {name}"
    )
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(TypeError, match=r"or 'module:function', received Sequential$"):
        check_portable(model, np.ones((2, 3)))


def test_golden_make_names_an_input_file_that_is_no_array_in_one_line(
    models, tmp_path, capsys, monkeypatch
):
    np.save(tmp_path / "x.npy", np.ones((2, 3), "float32"))
    (tmp_path / "text.npy").write_text("1,2,3")
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 cut short")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    cases = {
        ("--x", "text.npy"): "expected a .npy array file (it does not start with NumPy's .npy "
        "header)",
        ("--x", "missing.npy"): "expected a .npy array file; there is none",
        ("--x", str(tmp_path)): "expected a .npy array file; that is not a regular file",
        ("--x", "broken.npz"): "expected a .npz archive of arrays (File is not a zip file)",
        ("--x", "objects.npy"): "expected a .npy array file (Object arrays cannot be loaded "
        "when allow_pickle=False)",
        ("--y", "text.npy"): "expected a .npy array file (it does not start with NumPy's .npy "
        "header)",
    }
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    for (option, name), reason in cases.items():
        inputs = ["--x", "x.npy", option, name] if option == "--y" else [option, name]
        assert golden_cli.main(["make", *inputs, f"{models}:good", "out"]) == 1
        assert capsys.readouterr().err == (
            f"anykeras golden make: error: {option} {name}: {reason}\n"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
