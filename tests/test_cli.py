"""The `anykeras` command, called in-process through `anykeras.cli.main` (and once for real)."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from anykeras import RunConfig
from anykeras.cli import build_parser, main
from anykeras.cli.train import RUN_FIELDS
from anykeras.speed import FASTEST

BACKEND = keras.backend.backend()
QUICK = ["--quick", "--backend", BACKEND, "--verbose", "0"]


def run(*args: str) -> tuple[int, str, str]:
    """``anykeras ARGS`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse's usage errors
            code = int(exit_.code or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> tuple[Path, str]:
    """One quick `train` run (synthetic IMDB-format data) shared by the tests below."""
    out = tmp_path_factory.mktemp("runs") / "run"
    code, stdout, stderr = run(
        "train", "--dataset", "imdb", "--style", "subclassed", "--epochs", "3", "--out", str(out),
        *QUICK,
    )  # fmt: skip
    assert code == 0, stderr
    return out, stdout


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory) -> tuple[Path, str]:
    """The quick run again, on the course's plain route."""
    out = tmp_path_factory.mktemp("runs") / "plain"
    code, stdout, stderr = run(
        "train", "--dataset", "imdb", "--style", "subclassed", "--route", "plain",
        "--epochs", "3", "--out", str(out), *QUICK,
    )  # fmt: skip
    assert code == 0, stderr
    return out, stdout


def assert_same_run(out: Path, reference: Path) -> None:
    """Two run folders with the same best epoch, test metrics and curves (to 1e-5)."""
    metrics = json.loads((out / "metrics.json").read_text())
    plain = json.loads((reference / "metrics.json").read_text())
    assert plain["retrain_epochs"] == metrics["retrain_epochs"]
    for key in ("test_accuracy", "test_loss"):
        assert metrics[key] == pytest.approx(plain[key], abs=1e-5), key
    history = json.loads((out / "history.json").read_text())
    for key, values in json.loads((reference / "history.json").read_text()).items():
        np.testing.assert_allclose(history[key], values, rtol=0, atol=1e-5, err_msg=key)


def test_train_says_which_route_it_took_and_gives_the_plain_results(quick_run, plain_run):
    out, stdout = quick_run
    route = FASTEST[BACKEND]
    reason = f"the fastest on {BACKEND} with the same results"
    assert stdout.splitlines()[0].startswith(f"anykeras: backend: {BACKEND} (from --backend)")
    assert stdout.splitlines()[1].endswith(f", {route} route ({reason})")
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["route"], metrics["route_reason"]) == (route, reason)
    assert "plain route (asked for)" in plain_run[1]
    assert json.loads((plain_run[0] / "metrics.json").read_text())["route"] == "plain"
    assert_same_run(out, plain_run[0])


def test_train_on_2_processes_gives_the_one_device_results(plain_run, tmp_path):
    # The backend's own engine (jax.distributed, MultiWorkerMirroredStrategy or
    # DistributedDataParallel) in 2 worker processes, the same seeded batches.
    out = tmp_path / "two"
    code, stdout, stderr = run(
        "train", "--dataset", "imdb", "--style", "subclassed", "--processes", "2",
        "--epochs", "3", "--out", str(out), *QUICK,
    )  # fmt: skip
    assert code == 0, stderr
    assert "data-parallel route (data-parallel on 2 replicas: " in stdout
    assert_same_run(out, plain_run[0])
    assert keras.saving.load_model(out / "model.keras").count_params() > 0


def test_train_writes_history_curves_model_and_metrics(quick_run):
    out, stdout = quick_run
    assert sorted(p.name for p in out.iterdir()) == [
        "accuracy.png", "history.json", "log.csv", "loss.png", "metrics.json", "model.keras",
    ]  # fmt: skip
    assert not any(p.name.startswith(".") for p in out.parent.iterdir())  # no work folder left
    history = json.loads((out / "history.json").read_text())
    assert sorted(history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(history["loss"]) == 3
    metrics = json.loads((out / "metrics.json").read_text())
    assert json.loads(stdout[stdout.index("{") :]) == {
        **{k: v for k, v in metrics.items() if k not in ("seconds", "settings")},
        "seconds": pytest.approx(metrics["seconds"], abs=5),
        "settings": metrics["settings"],
        "out": str(out),
        "files": sorted(str(p) for p in out.iterdir()),  # where each file went
    }
    assert metrics["backend"] == BACKEND
    assert metrics["style"] == "subclassed"
    assert metrics["best_epoch"] == int(np.argmin(history["val_loss"])) + 1
    assert metrics["retrain_epochs"] == metrics["best_epoch"]
    assert metrics["validation_epochs"] == 3
    assert metrics["params"] == 160_305
    assert 0.5 < metrics["test_accuracy"] <= 1.0
    assert metrics["test_loss"] > 0
    rows = (out / "log.csv").read_text().splitlines()
    assert rows[0] == "epoch,accuracy,loss,val_accuracy,val_loss"
    assert len(rows) == 1 + 3
    assert (out / "loss.png").read_bytes()[:4] == b"\x89PNG"


def test_best_epoch_is_the_lowest_val_loss_even_when_the_retrain_is_longer(tmp_path):
    """Regression: metrics.json once wrote the retrain length as the best epoch."""
    code, _, stderr = run(
        "train", "--dataset", "imdb", "--epochs", "2", "--retrain-epochs", "5",
        "--route", "plain", "--out", str(tmp_path / "run"), *QUICK,
    )  # fmt: skip
    assert code == 0, stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert metrics["best_epoch"] == int(np.argmin(history["val_loss"])) + 1 <= 2
    assert metrics["retrain_epochs"] == 5
    assert metrics["validation_epochs"] == 2


def test_evaluate_reproduces_the_saved_test_metrics(quick_run):
    out, _ = quick_run
    code, stdout, stderr = run("evaluate", "--model", str(out / "model.keras"), *QUICK)
    assert code == 0, stderr
    metrics = json.loads(stdout)
    saved = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] == pytest.approx(saved["test_accuracy"], abs=1e-6)
    assert metrics["test_loss"] == pytest.approx(saved["test_loss"], rel=1e-5)


def test_predict_scores_typed_reviews(quick_run, shared_file, tmp_path):
    shared_file("imdb/imdb_word_index.json")  # encoding new text needs the real word index
    out, _ = quick_run
    reviews = tmp_path / "reviews.txt"
    reviews.write_text("A moving film.\n\nDull and far too long.\n", encoding="utf-8")
    code, stdout, stderr = run("predict", "--model", str(out / "model.keras"),
                               "--file", str(reviews), "--backend", BACKEND)  # fmt: skip
    assert code == 0, stderr
    predictions = json.loads(stdout)["predictions"]
    assert [p["text"] for p in predictions] == ["A moving film.", "Dull and far too long."]
    for p in predictions:
        assert 0.0 <= p["probability_positive"] <= 1.0
        assert p["label"] == ("positive" if p["probability_positive"] >= 0.5 else "negative")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--dataset", "cifar", "--out", "x"], "invalid choice: 'cifar'"),
        (["train", "--epochs", "-2", "--out", "x"], "expected a positive integer. Received: '-2'"),
        (["train", "--quick"], "the following arguments are required: --out"),
        (["predict", "--model", "missing.keras", "--text", "hi"], "missing.keras does not exist"),
        (["train", "--route", "fast", "--out", "x"], "invalid choice: 'fast'"),
        (
            ["train", "--quick", "--dataset", "housing", "--route", "sparse", "--out", "x"],
            "the sparse route reads multi-hot word rows (the imdb and reuters recipes); other "
            "data takes the plain route. Received: --dataset housing, --route sparse",
        ),
        (
            ["train", "--quick", "--path", "sparse", "--checkpoint", "--out", "x"],
            "use route 'compact' with checkpoints",
        ),
        (
            ["train", "--quick", "--processes", "2", "--route", "sparse", "--out", "x"],
            "data-parallel training takes the plain route (the faster routes run on one "
            "device). Received: --processes 2, --route sparse",
        ),
        (
            [
                "train",
                "--quick",
                "--processes",
                "2",
                "--backup",
                "--early-stopping",
                "0",
                "--out",
                "x",
            ],
            "data-parallel training runs in worker processes, where early stopping, backup "
            "cannot run; drop them, or train on one device. Received: --processes 2, "
            "--early-stopping 0, --backup",
        ),
        (
            ["train", "--quick", "--devices", "2", "--processes", "2", "--out", "x"],
            "one of devices and processes may be more than 1, not both. "
            "Received: --devices 2, --processes 2",
        ),
        (
            ["train", "--quick", "--dataset", "housing", "--processes", "2", "--out", "x"],
            "k-fold validation (4 folds, the housing recipe's way) trains on one device. "
            "Received: --processes 2",
        ),
        (
            ["train", "--quick", "--processes", "3", "--out", "x"],
            "the batch size must split evenly over the 3 replicas. "
            "Received: --batch-size 512, --processes 3",
        ),
        (
            ["train", "--quick", "--processes", "512", "--out", "x"],
            "worker processes needs a CPU core of its own, and this machine gives this program",
        ),
        (
            ["train", "--quick", "--processes", "2", "--tensorboard", "--out", "x"],
            "where tensorboard cannot run; drop it, or train on one device",
        ),
        (["train", "--quick", "--devices", "0", "--out", "x"], "expected a positive integer"),
    ],
)
def test_usage_errors_exit_2_with_one_clear_message(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = run(*args, "--backend", BACKEND)
    assert code == 2
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert "Traceback" not in stderr
    assert stdout == ""
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_sweep_refuses_an_out_that_is_a_file_before_training(tmp_path):
    taken = tmp_path / "table.md"
    taken.write_text("mine\n")
    code, stdout, stderr = run("sweep", "--out", str(taken), "--backend", BACKEND, *QUICK)
    assert (code, stdout) == (2, "")
    assert stderr == f"anykeras sweep: error: --out {taken} is a file; give a folder\n"
    assert taken.read_text() == "mine\n"


@pytest.mark.skipif(BACKEND != "torch", reason="PyTorch trains one device per process")
def test_devices_on_torch_is_refused_before_the_data_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("ANYKERAS_DATA_DIR", str(tmp_path / "no-data"))  # read: exit 1
    code, _, stderr = run("train", "--devices", "2", "--out", str(tmp_path / "x"))
    assert code == 2
    assert stderr.startswith(
        "anykeras train: error: --devices 2, --processes 1 is not supported on torch"
    )


def test_train_prints_each_phase_and_the_settings_it_used(quick_run):
    out, stdout = quick_run
    lines = stdout.splitlines()
    assert "anykeras: validation run: 3 epochs on 1,500 reviews, 500 held out to validate" in lines
    metrics = json.loads((out / "metrics.json").read_text())
    epochs = metrics["retrain_epochs"]
    assert f"anykeras: retraining: {epochs} epochs (the best epoch of 3) on 2,000 reviews" in lines
    assert any(line.startswith("anykeras: test: accuracy ") for line in lines)
    assert any(line.startswith("anykeras: finished in ") and str(out) in line for line in lines)
    used = metrics["used"]  # the recipe's values, typed, where the command gave none
    assert used == {"epochs": 3, "retrain_epochs": epochs, "folds": None, "batch_size": 512,
                    "optimizer": "rmsprop", "learning_rate": 0.001, "loss": "binary_crossentropy",
                    "validation_size": 0.25, "seed": 0, "shuffle": True}  # fmt: skip


def test_quiet_prints_the_result_only(tmp_path):
    out = tmp_path / "run"
    code, stdout, stderr = run("train", "--epochs", "1", "--retrain-epochs", "1", "--out",
                               str(out), "--quick", "--backend", BACKEND, "-q")  # fmt: skip
    assert code == 0, stderr
    assert json.loads(stdout)["out"] == str(out)  # nothing but the JSON


def test_the_run_settings_in_metrics_are_typed_values(quick_run):
    out, _ = quick_run
    settings = json.loads((out / "metrics.json").read_text())["settings"]
    assert settings["early_stopping"] is None
    assert settings["epochs"] == 3
    assert settings["checkpoint"] is False
    assert settings["recipe"] == "imdb"
    assert RunConfig.from_dict(settings).to_dict() == settings


def test_an_unknown_command_and_the_version():
    code, _, stderr = run("frobnicate")
    assert (code, len(stderr.strip().splitlines())) == (2, 1)
    assert "invalid choice: 'frobnicate'" in stderr
    code, stdout, _ = run("--version")
    assert code == 0
    assert stdout.strip() == f"anykeras {__import__('anykeras').__version__}"


def test_train_help_names_every_option_and_no_default_of_none():
    code, stdout, _ = run("train", "--help")
    assert code == 0
    text = " ".join(stdout.split())  # the same, however the lines are wrapped
    fields = ("dataset", "out", *RUN_FIELDS, "backend")  # --dataset is RunConfig's recipe
    options = [f"--{name.replace('_', '-')}" for name in fields]
    assert [o for o in options if not re.search(rf"(?<![\w-]){o}\b", text)] == []
    assert "(default: None)" not in text
    assert "(default: False)" not in text


def test_every_option_of_every_command_has_help():
    parser = build_parser()
    (commands,) = [a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    without = [
        f"{name} {'/'.join(action.option_strings)}"
        for name, command in commands.items()
        for action in command._actions
        if not action.help
    ]
    assert without == []
    for name in commands:
        code, stdout, _ = run(name, "--help")
        assert code == 0, name
        assert "(default: None)" not in " ".join(stdout.split()), name


def test_a_backend_that_is_not_installed_is_refused_clearly():
    missing = [b for b in ("jax", "torch", "tensorflow") if importlib.util.find_spec(b) is None]
    if not missing:
        pytest.skip("every backend is installed in this environment")
    code, _, stderr = run("train", "--quick", "--backend", missing[0], "--out", "x")
    assert code == 2
    assert f"the {missing[0]} backend is not installed" in stderr
    assert f"pip install 'anykeras[{missing[0]}]'" in stderr


def test_missing_data_gives_one_message_without_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("ANYKERAS_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    code, _, stderr = run("train", "--dataset", "mnist", "--backend", BACKEND,
                          "--out", str(tmp_path / "out"))  # fmt: skip
    assert code == 1
    assert "mnist.npz" in stderr
    assert "ANYKERAS_DATA_DIR" in stderr
    assert stderr.startswith("anykeras train: error: Could not find the data file mnist.npz")
    assert "Traceback" not in stderr
    assert not (tmp_path / "out").exists()


def test_sweep_writes_a_table_json_and_plot(tmp_path):
    code, stdout, stderr = run("sweep", "--epochs", "1", "--out", str(tmp_path), *QUICK)
    assert code == 0, stderr
    table = (tmp_path / "sweep.md").read_text().splitlines()
    assert len(table) == 2 + 7
    assert table[3].startswith("| one hidden layer | 160033 | 1 |")
    rows = json.loads((tmp_path / "sweep.json").read_text())
    assert [r["params"] for r in rows][:5] == [160305, 160033, 160577, 321121, 644289]
    assert (tmp_path / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    lines = stdout.splitlines()
    assert lines[0] == f"anykeras: backend: {BACKEND} (from --backend)"
    assert lines[1].startswith("anykeras: sweep: variant 1 of 7, baseline")
    assert "anykeras: sweep: variant 7 of 7, tanh activation (about " in stdout
    table_start = lines.index(next(line for line in lines if line.startswith("| experiment |")))
    assert lines[table_start : table_start + 9] == table
    assert json.loads("\n".join(lines[table_start + 9 :]))["files"] == [
        str(tmp_path / name) for name in ("sweep.md", "sweep.json", "sweep.png")
    ]


def test_the_default_backend_is_one_that_is_installed(tmp_path, monkeypatch):
    from anykeras.cli import default_backend
    from anykeras.spec import BACKENDS

    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # no keras.json yet
    installed = [b for b in BACKENDS if importlib.util.find_spec(b) is not None]
    assert default_backend() == ("tensorflow" if "tensorflow" in installed else installed[0])
    for missing in sorted(set(BACKENDS) - set(installed)):  # as Keras writes on first use
        (tmp_path / "keras.json").write_text(json.dumps({"backend": missing}))
        assert default_backend() in installed
    (tmp_path / "keras.json").write_text(json.dumps({"backend": installed[-1]}))
    assert default_backend() == installed[-1]
    (tmp_path / "keras.json").write_text("not json")
    assert default_backend() in installed
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert default_backend() == "torch"


def test_the_installed_command_runs_in_a_fresh_process(tmp_path):
    """The console entry point, as a user runs it: the backend chosen before Keras starts."""
    result = subprocess.run(
        [sys.executable, "-m", "anykeras", "train", "--epochs", "1", "--retrain-epochs", "1",
         "--out", str(tmp_path / "run"), *QUICK],
        capture_output=True, text=True, env={**os.environ, "KERAS_BACKEND": ""},
        timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()[:2]
    assert first == f"anykeras: backend: {BACKEND} (from --backend)"
    assert f"{BACKEND} backend" in second
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["backend"] == BACKEND
