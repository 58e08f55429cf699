"""The scripts in examples/: each runs end to end in quick mode and reaches its numbers.

Each script is imported from its file (it only sets KERAS_BACKEND with `setdefault`,
so the backend the session chose is kept) and its `main` is called on small synthetic
data. The thresholds leave a wide margin below what every backend reaches.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import runpy
import sys
from pathlib import Path
from types import ModuleType

import keras
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = ("imdb_binary", "reuters_multiclass", "housing_regression", "mnist_dense")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def load_example(name: str) -> ModuleType:
    """Import examples/<name>.py as a module, without running its `__main__` block."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_results(out: Path, plots: tuple[str, ...]) -> dict:
    """Check that ``out`` holds the plots (real PNGs) and return results.json."""
    for name in plots:
        assert (out / name).read_bytes()[:8] == PNG_MAGIC, name
    results = json.loads((out / "results.json").read_text())
    assert results["backend"] == keras.backend.backend()
    assert results["quick"] is True
    return results


def test_imdb_binary(tmp_path):
    metrics = load_example("imdb_binary").main(quick=True, out=tmp_path)

    assert set(metrics) == {"loss", "accuracy"}
    assert metrics["accuracy"] > 0.8  # about 0.93 on the synthetic reviews
    results = read_results(tmp_path, ("loss.png", "accuracy.png"))
    assert results["test"] == metrics
    assert 1 <= results["best_epoch"] <= 3
    assert results["best_epoch"] == 1 + min(
        range(3), key=lambda epoch: results["history"]["val_loss"][epoch]
    )
    [score] = results["new_reviews"].values()  # a decoded test review, typed back in
    assert 0 <= score <= 1
    one_call = json.loads((tmp_path / "one_call" / "metrics.json").read_text())
    assert one_call["test_accuracy"] == results["one_call"]["test_accuracy"] > 0.8
    assert one_call["validation_epochs"] == 3


def test_reuters_multiclass(tmp_path):
    metrics = load_example("reuters_multiclass").main(quick=True, out=tmp_path)

    assert set(metrics) == {"loss", "accuracy"}
    assert metrics["accuracy"] > 0.7  # about 0.9 on the synthetic wires; chance is 1/46
    results = read_results(tmp_path, ("loss.png", "accuracy.png"))
    assert results["test"] == metrics
    assert results["random_baseline"] < 0.1
    assert len(results["history"]["val_loss"]) == 6


def test_housing_regression(tmp_path):
    metrics = load_example("housing_regression").main(quick=True, out=tmp_path)

    assert set(metrics) == {"loss", "mae"}
    # Predicting the mean price gives an MAE of about 5.9 on these rows; the model
    # reaches about 3.5 after 10 epochs per fold.
    assert metrics["mae"] < 5
    assert metrics["loss"] < 40  # the MSE (a NaN fails too)
    results = read_results(tmp_path, ("loss.png", "mae.png", "folds_val_mae.png"))
    mean_mae = results["mean_history"]["val_mae"]
    assert len(mean_mae) == 10
    assert mean_mae[results["best_epoch"] - 1] == min(mean_mae)


def test_mnist_dense(tmp_path):
    metrics = load_example("mnist_dense").main(quick=True, out=tmp_path)

    assert set(metrics) == {"loss", "accuracy"}
    assert metrics["accuracy"] > 0.9  # the synthetic digits are easy: about 1.0
    results = read_results(tmp_path, ("loss.png", "accuracy.png"))
    assert results["test"] == metrics


@pytest.mark.parametrize("name", SCRIPTS)
def test_command_line_options(name, monkeypatch, capsys):
    """`python examples/<name>.py --help` lists --quick, --style (the three styles), --out."""
    monkeypatch.setattr(sys, "argv", [f"{name}.py", "--help"])

    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="__main__")

    assert exit_info.value.code == 0
    usage = capsys.readouterr().out
    for option in ("--quick", "--style", "--out", "{sequential,functional,subclassed}"):
        assert option in usage


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_sets_the_backend_first_without_overriding(name):
    """The first code is `import os` and `os.environ.setdefault("KERAS_BACKEND", ...)`."""
    source = (EXAMPLES / f"{name}.py").read_text()
    body = [
        node
        for node in ast.parse(source).body
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ]  # skip the docstring and the prose blocks

    assert ast.unparse(body[0]) == "import os"
    assert ast.unparse(body[1]) == "os.environ.setdefault('KERAS_BACKEND', 'jax')"
    assert "os.environ[" not in source  # never overrides the user's choice
    docstring = ast.get_docstring(ast.parse(source))
    assert docstring is not None
    for field in ("Title: ", "Author: anykeras developers", "Description: "):
        assert field in docstring
