"""The `anykeras` command, run as a real process under this session's backend."""

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

BACKEND = keras.backend.backend()


def anykeras(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m anykeras ARGS`` in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "anykeras", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> Path:
    """One quick `train` run (synthetic IMDB-format data) shared by the tests below."""
    out = tmp_path_factory.mktemp("run")
    result = anykeras(
        "train", "--quick", "--dataset", "imdb", "--style", "subclassed",
        "--backend", BACKEND, "--epochs", "3", "--out", str(out), "--verbose", "0",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (out / "stdout.txt").write_text(result.stdout, encoding="utf-8")
    return out


def test_train_says_which_path_it_took_and_gives_the_plain_results(quick_run, tmp_path):
    from anykeras.paths import FASTEST

    path = FASTEST[BACKEND]
    said = (quick_run / "stdout.txt").read_text(encoding="utf-8").splitlines()[0]
    assert said.endswith(f", {path} path (the fastest on {BACKEND} with the same results)")
    metrics = json.loads((quick_run / "metrics.json").read_text())
    assert (metrics["path"], metrics["path_reason"]) == (path, "the fastest on " + BACKEND +
                                                         " with the same results")  # fmt: skip
    result = anykeras(
        "train", "--quick", "--dataset", "imdb", "--style", "subclassed", "--path", "plain",
        "--backend", BACKEND, "--epochs", "3", "--out", str(tmp_path), "--verbose", "0",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "plain path (asked for)" in result.stdout
    plain = json.loads((tmp_path / "metrics.json").read_text())
    assert plain["path"] == "plain"
    assert plain["retrain_epochs"] == metrics["retrain_epochs"]
    for key in ("test_accuracy", "test_loss"):
        assert metrics[key] == pytest.approx(plain[key], abs=1e-5), key
    fast_history = json.loads((quick_run / "history.json").read_text())
    for key, values in json.loads((tmp_path / "history.json").read_text()).items():
        np.testing.assert_allclose(fast_history[key], values, rtol=0, atol=1e-5, err_msg=key)


def test_train_writes_history_curves_model_and_metrics(quick_run):
    assert sorted(p.name for p in quick_run.iterdir()) == [
        "accuracy.png", "history.json", "log.csv", "loss.png", "metrics.json", "model.keras",
        "stdout.txt",
    ]  # fmt: skip
    history = json.loads((quick_run / "history.json").read_text())
    assert sorted(history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(history["loss"]) == 3
    metrics = json.loads((quick_run / "metrics.json").read_text())
    assert metrics["backend"] == BACKEND
    assert metrics["style"] == "subclassed"
    assert metrics["retrain_epochs"] == int(np.argmin(history["val_loss"])) + 1
    assert metrics["params"] == 160_305
    assert 0.5 < metrics["test_accuracy"] <= 1.0
    assert metrics["test_loss"] > 0
    assert (quick_run / "loss.png").read_bytes()[:4] == b"\x89PNG"


def test_evaluate_reproduces_the_saved_test_metrics(quick_run):
    result = anykeras("evaluate", "--quick", "--model", str(quick_run / "model.keras"),
                      "--backend", BACKEND)  # fmt: skip
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    saved = json.loads((quick_run / "metrics.json").read_text())
    assert metrics["test_accuracy"] == pytest.approx(saved["test_accuracy"], abs=1e-6)
    assert metrics["test_loss"] == pytest.approx(saved["test_loss"], rel=1e-5)


def test_predict_scores_typed_reviews(quick_run, shared_file):
    shared_file("imdb/imdb_word_index.json")  # encoding new text needs the real word index
    reviews = quick_run / "reviews.txt"
    reviews.write_text("A moving film.\n\nDull and far too long.\n", encoding="utf-8")
    result = anykeras("predict", "--model", str(quick_run / "model.keras"),
                      "--file", str(reviews), "--backend", BACKEND)  # fmt: skip
    assert result.returncode == 0, result.stderr
    predictions = json.loads(result.stdout)["predictions"]
    assert [p["text"] for p in predictions] == ["A moving film.", "Dull and far too long."]
    for p in predictions:
        assert 0.0 <= p["probability_positive"] <= 1.0
        assert p["label"] == ("positive" if p["probability_positive"] >= 0.5 else "negative")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--dataset", "cifar", "--out", "x"], "invalid choice: 'cifar'"),
        (["train", "--epochs", "-2", "--out", "x"], "expected a positive integer, received '-2'"),
        (["train", "--quick"], "the following arguments are required: --out"),
        (["predict", "--model", "missing.keras", "--text", "hi"], "missing.keras does not exist"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["train", "--path", "fast", "--out", "x"], "invalid choice: 'fast'"),
        (
            ["train", "--quick", "--dataset", "housing", "--path", "sparse", "--out", "x"],
            "--path sparse: path 'sparse' needs multi-hot word inputs (IMDB or Reuters)",
        ),
        (
            ["train", "--quick", "--path", "sparse", "--checkpoint", "--out", "x"],
            "use path 'compact' with checkpoints",
        ),
    ],
)
def test_usage_errors_exit_2_with_one_clear_message(args, message):
    result = anykeras(*args, "--backend", BACKEND) if args[0] != "frobnicate" else anykeras(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_backend_that_is_not_installed_is_refused_clearly():
    missing = [b for b in ("jax", "torch", "tensorflow") if importlib.util.find_spec(b) is None]
    if not missing:
        pytest.skip("every backend is installed in this environment")
    result = anykeras("train", "--quick", "--backend", missing[0], "--out", "x")
    assert result.returncode == 2
    assert f"the {missing[0]} backend is not installed" in result.stderr
    assert f"pip install 'anykeras[{missing[0]}]'" in result.stderr


def test_missing_data_gives_one_message_without_a_traceback(tmp_path):
    env = {"ANYKERAS_DATA_DIR": str(tmp_path / "empty"), "KERAS_HOME": str(tmp_path / "keras")}
    result = anykeras("train", "--dataset", "mnist", "--backend", BACKEND,
                      "--out", str(tmp_path / "out"), env=env)  # fmt: skip
    assert result.returncode == 1
    assert "mnist.npz" in result.stderr
    assert "ANYKERAS_DATA_DIR" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_sweep_writes_a_table_json_and_plot(tmp_path):
    result = anykeras("sweep", "--quick", "--epochs", "1", "--backend", BACKEND,
                      "--out", str(tmp_path))  # fmt: skip
    assert result.returncode == 0, result.stderr
    table = (tmp_path / "sweep.md").read_text().splitlines()
    assert len(table) == 2 + 7
    assert table[3].startswith("| one hidden layer | 160033 | 1 |")
    rows = json.loads((tmp_path / "sweep.json").read_text())
    assert [r["params"] for r in rows][:5] == [160305, 160033, 160577, 321121, 644289]
    assert (tmp_path / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    assert result.stdout.startswith("anykeras: sweep on the compact path (uint8 multi-hot rows)\n")
