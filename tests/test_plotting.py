"""History curves are real PNG files; matplotlib stays out of import time."""

from __future__ import annotations

import subprocess
import sys

import pytest

from anykeras.training.plots import plot_curves, plot_history, plot_metric

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HISTORY = {
    "loss": [0.6, 0.4, 0.3, 0.2],
    "accuracy": [0.7, 0.8, 0.9, 0.95],
    "val_loss": [0.55, 0.45, 0.5, 0.6],
    "val_accuracy": [0.72, 0.82, 0.81, 0.8],
}


def test_plot_history_writes_one_png_per_metric(tmp_path):
    paths = plot_history(HISTORY, tmp_path / "curves")
    assert [p.name for p in paths] == ["loss.png", "accuracy.png"]
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(PNG_MAGIC)
        assert len(data) > 5_000  # axes, dots, a line and a legend, not an empty canvas
    assert sorted(p.name for p in (tmp_path / "curves").iterdir()) == ["accuracy.png", "loss.png"]


def test_plot_curves_and_unknown_metric(tmp_path):
    path = plot_curves({"x": [1, 2], "y": [2, 1]}, tmp_path / "c.png", "t", "v")
    assert path.read_bytes().startswith(PNG_MAGIC)
    with pytest.raises(ValueError, match=r"no 'mae' values. Received keys: \['accuracy'"):
        plot_metric(HISTORY, "mae", tmp_path / "mae.png")
    assert not (tmp_path / "mae.png").exists()


def test_anykeras_imports_without_matplotlib_and_plotting_says_what_to_install(tmp_path):
    # Setting sys.modules["matplotlib"] = None makes every import of it fail, as if
    # it were not installed: anykeras must still import, and plotting must say why not.
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import anykeras, anykeras.training, anykeras.training.plots as plotting\n"
        "try:\n"
        "    plotting.plot_metric({'loss': [1.0]}, 'loss', sys.argv[1])\n"
        "except ModuleNotFoundError as error:\n"
        "    print(error)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "loss.png")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == (
        "plotting needs matplotlib, which is not installed: pip install 'anykeras[plot]'"
    )
    assert not (tmp_path / "loss.png").exists()
