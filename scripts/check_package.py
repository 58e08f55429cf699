"""Build anykeras's wheel and sdist, check them, and use the wheel from a fresh venv.

Run by ``nox -s package``. In a new virtual environment that holds no checkout (the
working directory is a temporary folder, so nothing of the repository is on
``sys.path``), it installs the wheel with one backend's extra and checks what a user
does first: ``anykeras --version``, a quick ``anykeras train``, ``from anykeras import
build``, and loading the trained model with plain Keras. Exits non-zero on the first
failure; prints one line per check.

    python scripts/check_package.py --backend jax
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import venv
import zipfile
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent


def run(*command: str | Path, cwd: Path | None = None, env: dict | None = None) -> str:
    """Run ``command``; return its stdout, or exit with its output on failure."""
    result = subprocess.run(
        [str(c) for c in command],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"FAILED: {' '.join(map(str, command))}\n{result.stdout}\n{result.stderr}")
    return result.stdout


def build(dist: Path) -> tuple[Path, Path]:
    """The wheel and the sdist, built from the repository into ``dist``."""
    run(sys.executable, "-m", "build", "--outdir", dist, ROOT)
    wheel, sdist = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheel) != 1 or len(sdist) != 1:
        sys.exit(f"FAILED: expected one wheel and one sdist in {dist}, found {wheel + sdist}")
    run(sys.executable, "-m", "twine", "check", "--strict", wheel[0], sdist[0])
    return wheel[0], sdist[0]


def check(name: str, ok: bool, detail: str = "") -> None:
    """One line per check; exit at the first failure."""
    print(f"{'ok' if ok else 'FAILED'}: {name}{f' ({detail})' if detail else ''}")
    if not ok:
        sys.exit(1)


USER_MODEL = """
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="shop")
class Scale(keras.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return ops.multiply(x, self.factor)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def make_model():
    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(1)(Scale()(inputs)))
"""

USER_TEST = """
import numpy as np
import pytest
from anykeras.testing import find_backend_code

from shop_model import make_model


def test_model_saves_and_reloads(assert_save_reload, keras_backend):
    assert keras_backend in ("jax", "torch", "tensorflow")
    assert_save_reload(make_model(), np.ones((3, 4), "float32"))


def test_the_source_is_backend_agnostic():
    assert find_backend_code(["shop_model.py"]) == []


def test_a_numpy_call_in_call_is_caught(tmp_path):
    bad = tmp_path / "bad.py"
    code = "import numpy as np\\nclass L:\\n    def call(self, x):\\n        return np.mean(x)\\n"
    bad.write_text(code)
    findings = find_backend_code([bad])
    assert len(findings) == 1 and "keras.ops.mean" in str(findings[0])
"""


def check_user_project(python: Path, project: Path, env: dict[str, str]) -> None:
    """A project of a user's own, testing its model with the plugin the wheel installed."""
    project.mkdir()
    (project / "shop_model.py").write_text(USER_MODEL)
    (project / "test_shop.py").write_text(USER_TEST)
    run(python, "-m", "pip", "install", "--quiet", "pytest")
    shown = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project, env=env)
    last = shown.strip().splitlines()[-1]
    check("a user project's pytest, with the plugin from the wheel", "3 passed" in last, last)


def main() -> None:
    """Build, then check the wheel from a fresh venv under ``--backend``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="jax", choices=("jax", "torch", "tensorflow"))
    backend = parser.parse_args().backend
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"].get("version")
    source = (ROOT / "src/anykeras/__init__.py").read_text(encoding="utf-8")
    declared = re.search(r'__version__ = "([^"]+)"', source)
    check("the version is written in one place", version is None and declared is not None)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wheel, sdist = build(work / "dist")
        check("wheel and sdist built, twine check --strict passes", True, wheel.name)
        check("the wheel carries the version", declared.group(1) in wheel.name)
        shipped = sorted(n for n in zipfile.ZipFile(wheel).namelist() if "/_tutorial/" in n)
        check("the wheel ships the tutorial and the examples", len(shipped) == 8, str(shipped))
        venv.create(work / "venv", with_pip=True)
        python = work / "venv" / ("Scripts" if os.name == "nt" else "bin") / "python"
        run(python, "-m", "pip", "install", "--quiet", f"{wheel}[{backend}]")
        env = {"KERAS_BACKEND": backend, "PYTHONPATH": "", "TF_CPP_MIN_LOG_LEVEL": "2"}
        anykeras = python.parent / "anykeras"
        shown = run(anykeras, "--version", cwd=work, env=env).strip()
        check("anykeras --version", shown == f"anykeras {declared.group(1)}", shown)
        out = work / "run"
        run(anykeras, "train", "--quick", "--epochs", "1", "--retrain-epochs", "1",
            "--verbose", "0", "--out", out, cwd=work, env=env)  # fmt: skip
        metrics = json.loads((out / "metrics.json").read_text())
        check(
            "anykeras train --quick",
            metrics["backend"] == backend,
            f"{metrics['test_accuracy']=:.3f}",
        )
        code = (
            "import anykeras, keras, numpy as np\n"
            "from anykeras import ClassifierSpec, build\n"
            "assert 'site-packages' in anykeras.__file__, anykeras.__file__\n"
            "model = keras.saving.load_model(r'%s')\n"
            "print(build(ClassifierSpec(input_shape=(8,)), 'subclassed').count_params(),"
            " model.predict(np.zeros((2, 10000), 'float32'), verbose=0).shape)\n"
        ) % (out / "model.keras")
        shown = run(python, "-c", code, cwd=work, env=env).strip()
        check("import from the wheel, plain keras.saving.load_model", shown == "433 (2, 1)", shown)
        course = work / "course"
        run(anykeras, "tutorial", "--out", course, cwd=work, env=env)
        notebook = json.loads((course / "tutorial.ipynb").read_text(encoding="utf-8"))
        check(
            "anykeras tutorial writes the notebook and the examples",
            (course / "examples" / "imdb_binary.py").is_file(),
            f"{len(notebook['cells'])} cells",
        )
        check_user_project(python, work / "project", env)
        print(f"package: wheel {wheel.name}, sdist {sdist.name}, checked under {backend}")


if __name__ == "__main__":
    main()
