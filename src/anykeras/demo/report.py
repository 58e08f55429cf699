"""The cross-backend comparison report: reads the demo's artifacts, checks the tolerances.

Needs NumPy and matplotlib only (it never imports Keras or a backend), so it runs
after the per-backend processes have finished:

    python -m anykeras.demo.report demo-artifacts demo-report [--quick]

Writes ``report.md`` (the 3x3 table and the equivalence figures), ``curves.png``
(validation accuracy of all nine runs) and ``summary.json``, prints the table, and
exits non-zero, naming the failing cell, when a check fails.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from anykeras.saving import atomic_path, write_json_atomically
from anykeras.spec import BACKENDS, STYLES

# Tolerances, and why (see the demo issue and DESIGN.md, "The same model"):
# the three styles run the same ops in the same order, so within a backend only
# float32 rounding can separate them;
STYLE_ATOL = 1e-5
# from identical weights, every backend computes the same untrained outputs;
UNTRAINED_ATOL = 1e-5
# training drifts slowly across backends (different kernels round differently),
# so after training only the test accuracies are held to a point of each other;
ACCURACY_SPREAD = 0.01
# a saved model is the same numbers wherever it is loaded;
LOADED_ATOL = 1e-5
# and the course's recipe reaches about 88% (87% is the floor for any seed).
MIN_ACCURACY = 0.87


def read_artifacts(artifacts: Path) -> dict[str, Any]:
    """Load every cell's JSON and arrays, and every backend's loaded-model results."""
    cells, predictions, untrained, histories, loaded = {}, {}, {}, {}, []
    for backend, style in itertools.product(BACKENDS, STYLES):
        folder = artifacts / backend / style
        if not (folder / "cell.json").is_file():
            raise FileNotFoundError(
                f"missing demo results for {backend}/{style}: expected {folder / 'cell.json'} "
                "(run `nox -s demo`)"
            )
        key = (backend, style)
        cells[key] = json.loads((folder / "cell.json").read_text(encoding="utf-8"))
        histories[key] = json.loads((folder / "history.json").read_text(encoding="utf-8"))
        predictions[key] = np.load(folder / "predictions.npy", allow_pickle=False)
        untrained[key] = np.load(folder / "untrained.npy", allow_pickle=False)
    for backend in BACKENDS:
        path = artifacts / backend / "loaded.json"
        if path.is_file():
            loaded += json.loads(path.read_text(encoding="utf-8"))
    return {
        "cells": cells,
        "predictions": predictions,
        "untrained": untrained,
        "histories": histories,
        "loaded": loaded,
    }


def _max_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)))


def figures(data: dict[str, Any]) -> dict[str, Any]:
    """The equivalence figures: largest differences within and across backends."""
    cells, predictions, untrained = data["cells"], data["predictions"], data["untrained"]

    def across(arrays: dict, style: str) -> float:
        return max(_max_diff(arrays[b, style], arrays[BACKENDS[0], style]) for b in BACKENDS)

    accuracies = {s: [cells[b, s]["test_accuracy"] for b in BACKENDS] for s in STYLES}
    return {
        "styles_within_backend": {
            b: max(_max_diff(predictions[b, s], predictions[b, STYLES[0]]) for s in STYLES)
            for b in BACKENDS
        },
        "untrained_across_backends": {s: across(untrained, s) for s in STYLES},
        "trained_predictions_across_backends": {s: across(predictions, s) for s in STYLES},
        "test_accuracy_spread_across_backends": {
            s: max(values) - min(values) for s, values in accuracies.items()
        },
        "loaded_models": {
            f"{r['saver']}/{r['style']} loaded by {r['loader']}": r["max_abs_diff"]
            for r in data["loaded"]
        },
    }


def check(data: dict[str, Any], quick: bool) -> tuple[dict[str, Any], list[str]]:
    """The equivalence figures and the list of failures (empty when all checks hold)."""
    found = figures(data)
    loaded = found["loaded_models"]
    failures = [
        f"{backend}: styles differ by {value:.2e} > {STYLE_ATOL:g}"
        for backend, value in found["styles_within_backend"].items()
        if value > STYLE_ATOL
    ]
    failures += [
        f"{style}: untrained outputs differ across backends by {value:.2e}"
        for style, value in found["untrained_across_backends"].items()
        if value > UNTRAINED_ATOL
    ]
    failures += [
        f"{style}: test accuracies across backends spread {value:.4f} > 0.01"
        for style, value in found["test_accuracy_spread_across_backends"].items()
        if value > ACCURACY_SPREAD
    ]
    expected_loads = len(BACKENDS) * (len(BACKENDS) - 1) * len(STYLES)
    if len(loaded) != expected_loads:
        failures.append(f"expected {expected_loads} cross-backend loads, found {len(loaded)}")
    failures += [
        f"{k}: differs by {v:.2e} > {LOADED_ATOL:g}" for k, v in loaded.items() if v > LOADED_ATOL
    ]
    if not quick:
        failures += [
            f"{b}/{s}: test accuracy {c['test_accuracy']:.4f} < {MIN_ACCURACY}"
            for (b, s), c in data["cells"].items()
            if c["test_accuracy"] < MIN_ACCURACY
        ]
    tolerances = {
        "styles_within_backend": STYLE_ATOL,
        "untrained_across_backends": UNTRAINED_ATOL,
        "test_accuracy_spread_across_backends": ACCURACY_SPREAD,
        "loaded_models": LOADED_ATOL,
        "min_test_accuracy": None if quick else MIN_ACCURACY,
    }
    equivalence = {
        "tolerances": tolerances,
        **found,
        # -1: no model was loaded (a failure above); summary.json stays strict JSON.
        "max_loaded_model_difference": max(loaded.values(), default=-1.0),
    }
    return equivalence, failures


def table(cells: dict[tuple[str, str], dict[str, Any]]) -> str:
    """The 3x3 grid as Markdown: one row per backend and style."""
    lines = [
        "| backend | style | test accuracy | test loss | median epoch (s) | params | device |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    lines += [
        f"| {c['backend']} | {c['style']} | {c['test_accuracy']:.4f} | {c['test_loss']:.4f} "
        f"| {c['epoch_s']:.3f} | {c['params']:,} | {c['device']} |"
        for c in cells.values()
    ]
    return "\n".join(lines)


def _figures(equivalence: dict[str, Any]) -> str:
    lines = ["| check | largest difference | tolerance |", "|---|---:|---:|"]
    tol = equivalence["tolerances"]
    rows = [
        ("styles within {} (test predictions)", "styles_within_backend", ".2e"),
        ("{} untrained outputs across backends", "untrained_across_backends", ".2e"),
        ("{} test accuracy across backends", "test_accuracy_spread_across_backends", ".4f"),
        (
            "{} trained predictions across backends (drift)",
            "trained_predictions_across_backends",
            ".2e",
        ),
    ]
    for label, key, form in rows:
        limit = format(tol[key], "g") if key in tol else "-"
        lines += [
            f"| {label.format(name)} | {format(value, form)} | {limit} |"
            for name, value in equivalence[key].items()
        ]
    lines.append(
        f"| loaded models, {len(equivalence['loaded_models'])} cross-backend loads "
        f"| {equivalence['max_loaded_model_difference']:.2e} | {tol['loaded_models']:g} |"
    )
    return "\n".join(lines)


def plot_validation_curves(
    histories: dict[tuple[str, str], dict[str, list[float]]], path: Path
) -> None:
    """Validation accuracy per epoch of all nine runs in one figure."""
    from anykeras.training.plots import plot_curves

    curves = {f"{b} / {s}": h["val_accuracy"] for (b, s), h in histories.items()}
    plot_curves(curves, path, "Validation accuracy: 3 backends x 3 styles", "Validation accuracy")


def write_report(artifacts: Path, out: Path, quick: bool) -> dict[str, Any]:
    """Read ``artifacts``, write report.md, curves.png and summary.json to ``out``."""
    data = read_artifacts(artifacts)
    equivalence, failures = check(data, quick)
    summary = {
        "cells": list(data["cells"].values()),
        "equivalence": equivalence,
        "passed": not failures,
        "failures": failures,
        "quick": quick,
    }
    grid = table(data["cells"])
    mode = "synthetic IMDB-format data (--quick)" if quick else "the real IMDB reviews"
    verdict = "PASSED" if not failures else "FAILED:\n\n" + "\n".join(f"- {f}" for f in failures)
    markdown = (
        f"# anykeras demo: one classifier, three styles, three backends\n\n"
        f"Trained on {mode}; every run starts from the same initial weights and sees the\n"
        f"data in the same order. Test metrics after the 4-epoch retrain on all training data.\n\n"
        f"{grid}\n\n## Equivalence\n\n{_figures(equivalence)}\n\n"
        f"![validation accuracy](curves.png)\n\n## Verdict\n\n{verdict}\n"
    )
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "report.md") as tmp:
        tmp.write_text(markdown, encoding="utf-8")
    plot_validation_curves(data["histories"], out / "curves.png")
    write_json_atomically(out / "summary.json", summary)
    print(grid)
    print(
        f"\nlargest differences: styles {max(equivalence['styles_within_backend'].values()):.2e}, "
        f"untrained across backends {max(equivalence['untrained_across_backends'].values()):.2e}, "
        f"loaded models {equivalence['max_loaded_model_difference']:.2e}"
    )
    print(f"report written to {out}/report.md: {verdict.splitlines()[0]}")
    for failure in failures:
        print(f"  FAILED {failure}", file=sys.stderr)
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m anykeras.demo.report ARTIFACTS OUT [--quick]``; exit 1 when a check fails."""
    parser = argparse.ArgumentParser(prog="python -m anykeras.demo.report")
    parser.add_argument("artifacts", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--quick", action="store_true", help="synthetic data: no accuracy floor")
    args = parser.parse_args(argv)
    # The demo keeps quick and real runs apart (anykeras.demo.artifacts_dir).
    artifacts = args.artifacts / ("quick" if args.quick else "real")
    if not artifacts.is_dir():
        artifacts = args.artifacts
    try:
        summary = write_report(artifacts, args.out, args.quick)
    except FileNotFoundError as error:
        print(f"anykeras report: error: {error}", file=sys.stderr)
        return 1
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
