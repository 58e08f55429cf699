"""History curves to PNG, as in the course's Listings 4.8 and 4.9.

Training values are dots, validation values a line. matplotlib is imported only
when a plot is drawn (install the ``plot`` extra), so the rest of anykeras never
needs it. In a Jupyter notebook each figure written is also shown in the notebook,
and `show_markdown` shows a Markdown table as a table (it prints it elsewhere).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from anykeras.saving import save_atomically


def plotting_available() -> bool:
    """Whether matplotlib is installed (the ``plot`` extra), so curves can be drawn."""
    return importlib.util.find_spec("matplotlib") is not None


def _pyplot() -> Any:
    try:
        import matplotlib as mpl
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "plotting needs matplotlib, which is not installed: pip install 'anykeras[plot]'"
        ) from None
    mpl.use("Agg")  # files only: no window, works on machines without a display
    import matplotlib.pyplot as plt

    return plt


def _notebook() -> Any:
    """The running Jupyter kernel's IPython shell, or None (plain Python, terminal IPython).

    Only a kernel shows rich output; a terminal would print ``<Image object>``.
    """
    ipython = sys.modules.get("IPython")  # never imported here: only when already running
    shell = ipython.get_ipython() if ipython is not None else None
    return shell if getattr(shell, "kernel", None) is not None else None


def _saved(figure: Any, path: str | Path) -> Path:
    """Write ``figure`` to the PNG ``path`` atomically; in a notebook, show it there too."""
    path = save_atomically(path, lambda tmp: figure.savefig(tmp, format="png", dpi=100))
    if _notebook() is not None:
        from IPython.display import Image, display

        display(Image(filename=str(path)))
    return path


def show_markdown(text: str) -> None:
    r"""Show Markdown (a table from `sweep_table`) rendered in a notebook; print it elsewhere.

    Example:
    >>> show_markdown("| a | b |\n|---|---|\n| 1 | 2 |")
    | a | b |
    |---|---|
    | 1 | 2 |
    """
    if _notebook() is None:
        print(text)
        return
    from IPython.display import Markdown, display

    display(Markdown(text))


def plot_metric(
    history: Mapping[str, Sequence[float]],
    metric: str,
    path: str | Path,
    title: str | None = None,
) -> Path:
    """Plot ``metric`` (training, dots) and ``val_<metric>`` (validation, line) per epoch.

    Args:
        history: ``History.history``: a list of per-epoch values for each key.
        metric: ``"loss"``, ``"accuracy"``, ``"mae"``, ...
        path: The PNG file to write (written atomically).
        title: Figure title; defaults to "Training and validation <metric>".

    Returns:
        The path written.

    Example:
    >>> import tempfile
    >>> history = {"loss": [0.6, 0.4, 0.3], "val_loss": [0.55, 0.45, 0.5]}
    >>> plot_metric(history, "loss", Path(tempfile.mkdtemp()) / "loss.png").suffix
    '.png'
    """
    if metric not in history:
        raise ValueError(f"the history has no {metric!r} values. Received keys: {sorted(history)}")
    plt = _pyplot()
    epochs = range(1, len(history[metric]) + 1)
    figure, axes = plt.subplots(figsize=(6, 4))
    try:
        axes.plot(epochs, history[metric], "bo", label=f"Training {metric}")
        if f"val_{metric}" in history:
            axes.plot(epochs, history[f"val_{metric}"], "b", label=f"Validation {metric}")
        axes.xaxis.get_major_locator().set_params(integer=True)  # whole epochs only
        axes.set_title(title or f"Training and validation {metric}")
        axes.set_xlabel("Epochs")
        axes.set_ylabel(metric.capitalize())
        axes.legend()
        figure.tight_layout()
        return _saved(figure, path)
    finally:
        plt.close(figure)


def plot_history(history: Mapping[str, Sequence[float]], directory: str | Path) -> list[Path]:
    """Write one PNG per metric in ``history`` (``loss.png``, ``accuracy.png``, ...).

    In a Jupyter notebook each figure is shown as well.

    Returns:
        The paths written, loss first.
    """
    metrics = [key for key in history if not key.startswith("val_")]
    return [plot_metric(history, m, Path(directory) / f"{m}.png") for m in metrics]


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    path: str | Path,
    title: str,
    ylabel: str,
) -> Path:
    """Overlay several per-epoch curves (one line each, labelled by key) in one PNG.

    Example:
    >>> import tempfile
    >>> curves = {"a": [0.8, 0.85], "b": [0.79, 0.86]}
    >>> plot_curves(curves, Path(tempfile.mkdtemp()) / "c.png", "Runs", "Accuracy").name
    'c.png'
    """
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7, 4.5))
    try:
        for label, values in curves.items():
            axes.plot(range(1, len(values) + 1), values, marker=".", label=label)
        axes.xaxis.get_major_locator().set_params(integer=True)  # whole epochs only
        axes.set_title(title)
        axes.set_xlabel("Epochs")
        axes.set_ylabel(ylabel)
        axes.legend(fontsize="small")
        figure.tight_layout()
        return _saved(figure, path)
    finally:
        plt.close(figure)
