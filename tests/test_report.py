"""The demo report: tolerances checked on artifact files, failures named, no Keras needed."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from anykeras.demo.report import BACKENDS, STYLES, main


def write_artifacts(root, accuracy=0.88, style_noise=0.0, load_noise=0.0):
    rng = np.random.default_rng(0)
    predictions = rng.uniform(size=(50, 1)).astype("float32")
    untrained = rng.uniform(size=(8, 1)).astype("float32")
    for backend in BACKENDS:
        for i, style in enumerate(STYLES):
            folder = root / backend / style
            folder.mkdir(parents=True)
            cell = {
                "backend": backend, "style": style, "test_accuracy": accuracy,
                "test_loss": 0.3, "epoch_s": 0.5, "params": 160305, "device": "cpu (cpu)",
            }  # fmt: skip
            (folder / "cell.json").write_text(json.dumps(cell))
            history = {"val_accuracy": [0.85, 0.88], "val_loss": [0.3, 0.28]}
            (folder / "history.json").write_text(json.dumps(history))
            np.save(folder / "predictions.npy", predictions + i * style_noise)
            np.save(folder / "untrained.npy", untrained)
        loads = [
            {"saver": saver, "loader": backend, "style": style, "max_abs_diff": 1e-7 + load_noise}
            for saver in BACKENDS
            if saver != backend
            for style in STYLES
        ]
        (root / backend / "loaded.json").write_text(json.dumps(loads))


def test_all_checks_hold_and_the_files_are_written(tmp_path, capsys):
    write_artifacts(tmp_path / "a")
    assert main([str(tmp_path / "a"), str(tmp_path / "r")]) == 0
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["passed"] is True
    assert len(summary["cells"]) == 9
    assert {(c["backend"], c["style"]) for c in summary["cells"]} == {
        (b, s) for b in BACKENDS for s in STYLES
    }
    assert summary["equivalence"]["max_loaded_model_difference"] == pytest.approx(1e-7)
    assert len(summary["equivalence"]["loaded_models"]) == 18
    assert (tmp_path / "r" / "curves.png").read_bytes()[:4] == b"\x89PNG"
    report = (tmp_path / "r" / "report.md").read_text()
    assert "| torch | subclassed | 0.8800 | 0.3000 | 0.500 | 160,305 | cpu (cpu) |" in report
    assert "| jax | sequential | 0.8800" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("kwargs", "failure"),
    [
        ({"accuracy": 0.86}, "jax/sequential: test accuracy 0.8600 < 0.87"),
        ({"style_noise": 1e-3}, "jax: styles differ by 2.00e-03 > 1e-05"),
        ({"load_noise": 1e-4}, "jax/sequential loaded by torch: differs by 1.00e-04 > 1e-05"),
    ],
)
def test_a_broken_tolerance_fails_and_names_the_cell(tmp_path, kwargs, failure):
    write_artifacts(tmp_path / "a", **kwargs)
    assert main([str(tmp_path / "a"), str(tmp_path / "r")]) == 1
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["passed"] is False
    assert failure in summary["failures"]


def test_quick_mode_has_no_accuracy_floor(tmp_path):
    write_artifacts(tmp_path / "a", accuracy=0.6)
    assert main([str(tmp_path / "a"), str(tmp_path / "r"), "--quick"]) == 0


def test_missing_artifacts_are_one_clear_error(tmp_path, capsys):
    assert main([str(tmp_path / "none"), str(tmp_path / "r")]) == 1
    assert "missing demo results for jax/sequential" in capsys.readouterr().err


def test_the_report_never_imports_keras(tmp_path):
    write_artifacts(tmp_path / "a")
    code = (
        "import sys; from anykeras.demo.report import main\n"
        "main([sys.argv[1], sys.argv[2]]); print('keras' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "a"), str(tmp_path / "r")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip().splitlines()[-1] == "False"
