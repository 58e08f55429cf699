"""The course's "further experiments" on the IMDB model, run as a sweep that writes a table.

The slides suggest changing one thing at a time: one or three hidden layers
instead of two; 32 or 64 units instead of 16; ``mse`` instead of
``binary_crossentropy``; ``tanh`` instead of ``relu``. `run_sweep` trains each
variant with the same recipe (`sweep_configs`: one `RunConfig` each) and `sweep_table`
turns the results into Markdown.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

from anykeras.training.progress import LOG, duration, time_left
from anykeras.training.run_config import RunConfig
from anykeras.training.workflow import run


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One variant: spec fields to change and, optionally, another loss."""

    name: str
    spec_changes: dict[str, Any] = dataclasses.field(default_factory=dict)
    loss: str | None = None


FURTHER_EXPERIMENTS = (
    Experiment("baseline: 16-16, relu, binary crossentropy"),
    Experiment("one hidden layer", {"hidden": (16,)}),
    Experiment("three hidden layers", {"hidden": (16, 16, 16)}),
    Experiment("32 units", {"hidden": (32, 32)}),
    Experiment("64 units", {"hidden": (64, 64)}),
    Experiment("mse loss", loss="mse"),
    Experiment("tanh activation", {"activation": "tanh"}),
)


def sweep_configs(
    base: RunConfig, experiments: Sequence[Experiment] = FURTHER_EXPERIMENTS
) -> list[tuple[str, RunConfig]]:
    """Each experiment as a `RunConfig`: ``base`` with that one change (all checked now).

    Example:
    >>> [name for name, _ in sweep_configs(RunConfig(quick=True))][:2]
    ['baseline: 16-16, relu, binary crossentropy', 'one hidden layer']
    """
    spec = base.model_spec()
    return [
        (e.name, base.replace(spec=spec.replace(**e.spec_changes), loss=e.loss or base.loss))
        for e in experiments
    ]


def run_sweep(variants: Sequence[tuple[str, RunConfig]]) -> list[dict[str, Any]]:
    """Train every variant (`sweep_configs`): its validation run, then retrain and test.

    Variants without ``data`` share the data of the first one's recipe, read once.

    Returns:
        One row per experiment: ``name``, ``params``, ``best_epoch`` (lowest
        validation loss), ``val_loss`` and ``val_accuracy`` at that epoch,
        ``test_accuracy`` after retraining for that many epochs on all training
        data, ``seconds``, and the per-epoch ``val_accuracy_curve``.
    """
    shared = None
    rows: list[dict[str, Any]] = []
    began = time.perf_counter()
    for name, config in variants:
        left = time_left(len(rows), len(variants), time.perf_counter() - began)
        LOG.info("sweep: variant %d of %d, %s (%s)", len(rows) + 1, len(variants), name, left)
        started = time.perf_counter()
        if config.data is None:
            shared = shared or config.base_recipe().dataset()
        result = run(config if config.data is not None else config.replace(data=shared))
        history, epoch = result.history, result.best_epoch
        rows.append(
            {
                "name": name,
                "params": result.model.count_params(),
                "best_epoch": epoch,
                "val_loss": history["val_loss"][epoch - 1],
                "val_accuracy": history["val_accuracy"][epoch - 1],
                "test_accuracy": result.test_metrics["accuracy"],
                "seconds": time.perf_counter() - started,
                "val_accuracy_curve": history["val_accuracy"],
            }
        )
    LOG.info("sweep: %d variants in %s", len(rows), duration(time.perf_counter() - began))
    return rows


def sweep_table(rows: Sequence[dict[str, Any]]) -> str:
    """The sweep as a Markdown table (losses differ in kind across rows: compare accuracy).

    Example:
    >>> print(sweep_table([{"name": "a", "params": 10, "best_epoch": 3, "val_loss": 0.28,
    ...     "val_accuracy": 0.889, "test_accuracy": 0.881, "seconds": 4.0}]))
    | experiment | params | best epoch | val loss | val accuracy | test accuracy | seconds |
    |---|---:|---:|---:|---:|---:|---:|
    | a | 10 | 3 | 0.2800 | 0.8890 | 0.8810 | 4.0 |
    """
    lines = [
        "| experiment | params | best epoch | val loss | val accuracy | test accuracy | seconds |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['name']} | {r['params']} | {r['best_epoch']} | {r['val_loss']:.4f} "
        f"| {r['val_accuracy']:.4f} | {r['test_accuracy']:.4f} | {r['seconds']:.1f} |"
        for r in rows
    ]
    return "\n".join(lines)
