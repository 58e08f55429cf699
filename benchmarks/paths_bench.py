"""Time the course's whole IMDB workflow on each training path, on this process's backend.

Run once per backend, after ``bench.py`` (``nox -s bench`` runs both):

    KERAS_BACKEND=jax python benchmarks/paths_bench.py --out bench-results/parts

`anykeras.paths` offers three ways to train the IMDB model with the same results
(``plain``, ``compact``, ``sparse``), and ``anykeras train --path auto`` takes the entry
of `anykeras.paths.FASTEST` for its backend. This script checks that choice. Each path
runs `anykeras.recipes.train_and_evaluate` in its own child process: the data is loaded
and encoded, the 20-epoch validation run, the retrain for the best epoch, the test.
That is what a user waits for. On the real reviews when they are on disk (``--data``,
as in ``bench.py``), else on the quick synthetic recipe.

Per path it records ``seconds`` (least of ``--rounds`` runs, interleaved), ``peak_mib``
(as ``bench.py`` measures it), and ``best_epoch``, ``test_accuracy``, ``test_loss``:
the paths must agree on those. The records go to ``OUT/<backend>-paths.jsonl`` as
``{"impl": "workflow", "path": ...}``; ``benchmarks/report.py`` merges them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from bench import (  # the sibling script (Python puts the script's folder on sys.path)
    PeakMemory,
    _imdb_on_disk,
    _load,
    run_rounds,
    write_records,
)

PATHS = ("plain", "compact", "sparse")  # as anykeras.paths.PATHS


def run_path(path: str, data: str) -> dict:
    """One whole workflow on ``path``; the child process's record."""
    import keras

    from anykeras.paths import FASTEST
    from anykeras.recipes import get_recipe, quick, train_and_evaluate

    recipe = get_recipe("imdb")
    if data == "synthetic":
        recipe = quick(recipe)
    record = {"backend": keras.backend.backend(), "impl": "workflow", "path": path}
    record["load_before"] = _load()
    with PeakMemory() as memory:
        start = time.perf_counter()
        result = train_and_evaluate(recipe, "functional", path=path)
        record["seconds"] = time.perf_counter() - start
    record.update(
        peak_mib=round(memory.peak_mib, 1),
        best_epoch=result.best_epoch,
        validation_epochs=len(result.history["loss"]),
        test_accuracy=result.test_metrics["accuracy"],
        test_loss=result.test_metrics["loss"],
        data=data,
        auto=FASTEST[keras.backend.backend()],
        load_after=_load(),
    )
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench-results/parts"))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--data", choices=("auto", "imdb", "synthetic"), default="auto")
    parser.add_argument("--child", choices=PATHS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.data == "auto":
        args.data = "imdb" if _imdb_on_disk() else "synthetic"
    if args.child:
        print(json.dumps(run_path(args.child, args.data)))
        return 0

    backend = os.environ.get("KERAS_BACKEND")
    commands = {
        path: [sys.executable, __file__, "--child", path, "--data", args.data] for path in PATHS
    }
    runs = run_rounds(commands, args.rounds, backend)
    if runs is None:
        return 1
    records = []
    for rounds in runs.values():
        best = dict(min(rounds, key=lambda r: r["seconds"]))
        best["rounds_seconds"] = [round(r["seconds"], 2) for r in rounds]
        records.append(best)
    out = write_records(args.out / f"{backend}-paths.jsonl", records)
    print(f"\n{backend}: the whole IMDB workflow ({args.data} data) per training path")
    for r in records:
        print(
            f"  {r['path']:<8} {r['seconds']:6.1f} s  peak {r['peak_mib']:7.1f} MiB  "
            f"best epoch {r['best_epoch']}  test accuracy {r['test_accuracy']:.5f}"
        )
    fastest = min(records, key=lambda r: r["seconds"])["path"]
    auto = records[0]["auto"]
    print(f"  auto takes {auto}; fastest here: {fastest}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
