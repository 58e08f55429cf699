"""Time the course's whole IMDB workflow on each training route, on this process's backend.

Run once per backend, after ``bench.py`` (``nox -s bench`` runs both):

    KERAS_BACKEND=jax python benchmarks/routes_bench.py --out bench-results/parts

`anykeras.speed` offers three routes that train the IMDB model with the same results
(``plain``, ``compact``, ``sparse``; `anykeras.spec.ROUTES`), and ``anykeras train
--route auto`` takes the one `anykeras.speed.choose_route` picks from
`anykeras.speed.FASTEST` for its backend. This script checks that choice. Each route
runs `anykeras.training.recipes.train_and_evaluate` in its own child process: the data
is loaded and encoded, the 20-epoch validation run, the retrain for the best epoch, the
test. That is what a user waits for. On the real reviews when they are on disk
(``--data``, as in ``bench.py``), else on the quick synthetic recipe.

The sparse route runs once per layout (``--sparse-layout both``, the default):
``padded`` rows and ``packed`` batches, both in the same seeded order on every backend;
``--sparse-layout auto`` runs only the backend's entry of `anykeras.speed.SPARSE_LAYOUTS`.

Each child starts as the ``anykeras`` command starts (`anykeras.cli.select_backend`).
Per route it records ``seconds`` (least of ``--rounds`` runs, interleaved), ``peak_mib``
(as ``bench.py`` measures it), and ``best_epoch``, ``test_accuracy``, ``test_loss``:
the routes must agree on those. ``--busy-rounds`` (1 by default) runs every route again
beside one competing CPU-bound process (``bench.CompetingLoad``): ``busy_seconds``, so
that ``auto`` is checked on a busy machine too. The records go to ``OUT/<backend>-routes.jsonl`` as
``{"impl": "workflow", "route": ..., "layout": ...}`` (``layout`` only for ``sparse``;
``auto`` names what ``--route auto`` takes, the same way); ``benchmarks/report.py``
merges them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from bench import (  # the sibling script (Python puts the script's folder on sys.path)
    LAYOUTS,
    PeakMemory,
    _imdb_on_disk,
    _load,
    best_of,
    label,
    run_rounds,
    write_records,
)

from anykeras.spec import ROUTES


def run_route(name: str, layout: str | None, data: str) -> dict:
    """One whole workflow on route ``name`` (in ``layout``, for sparse); the child's record."""
    from anykeras.cli import select_backend

    select_backend(os.environ["KERAS_BACKEND"])  # as `anykeras train` starts
    import keras

    from anykeras.speed import SparseRoute, choose_route, get_route
    from anykeras.training.recipes import get_recipe, quick, train_and_evaluate

    recipe = get_recipe("imdb")
    if data == "synthetic":
        recipe = quick(recipe)
    route = SparseRoute(layout) if name == "sparse" else get_route(name)
    auto, _ = choose_route(words=True)
    record = {
        "backend": keras.backend.backend(),
        "impl": "workflow",
        "route": name,
        "layout": getattr(route, "layout", None),
        "auto": label({"route": auto.name, "layout": getattr(auto, "layout", None)}, "route"),
        "load_before": _load(),
    }
    with PeakMemory() as memory:
        start = time.perf_counter()
        result = train_and_evaluate(recipe, "functional", route=route)
        record["seconds"] = time.perf_counter() - start
    record.update(
        peak_mib=round(memory.peak_mib, 1),
        best_epoch=result.best_epoch,
        validation_epochs=len(result.history["loss"]),
        validation_epoch_s=statistics.median(result.epoch_seconds),
        test_accuracy=result.test_metrics["accuracy"],
        test_loss=result.test_metrics["loss"],
        data=data,
        load_after=_load(),
    )
    return record


def child_commands(args: argparse.Namespace) -> dict[str, list[str]]:
    """The child processes to run, by label: one per route, the sparse one per layout."""
    layouts = {"both": LAYOUTS, "auto": (None,)}.get(args.sparse_layout, (args.sparse_layout,))
    commands = {}
    for name in ROUTES:
        for layout in layouts if name == "sparse" else (None,):
            command = [sys.executable, __file__, "--child", name, "--data", args.data]
            if layout:
                command += ["--layout", layout]
            commands[label({"route": name, "layout": layout}, "route")] = command
    return commands


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench-results/parts"))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--busy-rounds", type=int, default=1, help="rounds beside a competing process; 0: none"
    )
    parser.add_argument("--data", choices=("auto", "imdb", "synthetic"), default="auto")
    parser.add_argument(
        "--sparse-layout",
        choices=("both", "auto", *LAYOUTS),
        default="both",
        help="the sparse route's layout: both (default: one run each), auto (the "
        "backend's entry of anykeras.speed.SPARSE_LAYOUTS), padded or packed",
    )
    parser.add_argument("--child", choices=ROUTES, help=argparse.SUPPRESS)
    parser.add_argument("--layout", choices=LAYOUTS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.data == "auto":
        args.data = "imdb" if _imdb_on_disk() else "synthetic"
    if args.child:
        print(json.dumps(run_route(args.child, args.layout, args.data)))
        return 0

    backend = os.environ.get("KERAS_BACKEND")
    commands = child_commands(args)
    runs = run_rounds(commands, args.rounds, backend)
    busy = run_rounds(commands, args.busy_rounds, backend, busy=True)
    if runs is None or busy is None:
        return 1
    records = best_of(runs, busy, "seconds", ("seconds",))
    out = write_records(args.out / f"{backend}-routes.jsonl", records)
    print(f"\n{backend}: the whole IMDB workflow ({args.data} data) per training route")
    for r in records:
        busy_s = f"  busy {r['busy_seconds']:6.1f} s" if "busy_seconds" in r else ""
        print(
            f"  {label(r, 'route'):<14} {r['seconds']:6.1f} s{busy_s}  peak "
            f"{r['peak_mib']:7.1f} MiB  best epoch {r['best_epoch']}  test accuracy "
            f"{r['test_accuracy']:.5f}"
        )
    fastest = label(min(records, key=lambda r: r["seconds"]), "route")
    print(f"  auto takes {records[0]['auto']}; fastest here: {fastest}")
    if all("busy_seconds" in r for r in records):
        busiest = label(min(records, key=lambda r: r["busy_seconds"]), "route")
        print(f"  fastest beside a competing process: {busiest}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
