"""Time an IMDB epoch trained data-parallel on 1 and on 2 processes, on this process's backend.

Run once per backend, after ``routes_bench.py`` (``nox -s bench`` runs all three):

    KERAS_BACKEND=jax python benchmarks/distributed_bench.py --out bench-results/parts

`anykeras.loops.distributed.fit` trains a compiled model data-parallel through the
backend's own engine (`anykeras.loops.distributed.ENGINES`): with ``processes=1`` it is
``keras.Model.fit`` in the calling process, with ``processes=2`` it saves the model and
the data into a folder, starts two worker processes on this machine (JAX's
``jax.distributed``, TensorFlow's ``MultiWorkerMirroredStrategy``, PyTorch's
``DistributedDataParallel`` over ``gloo``), and loads the trained weights back. This
script measures what that costs; there is no speed goal, the machine has few cores and
two replicas share them.

The data is the course's one IMDB epoch: the 15,000 training reviews its validation run
trains on (the training reviews after the first 10,000, which it holds out), as
multi-hot ``uint8`` rows of 10,000 words (`fit` casts each batch to float32), the
labels as float32; Dense 16-16-1, rmsprop, batch 512, in the seeded order of
``EpochOrder(0)`` (``seed=0``). ``--data synthetic`` (the default when IMDB is not on
disk, ``--data`` as in ``bench.py``) takes 1,500 synthetic reviews instead, 2,000
`anykeras.data.synthetic.imdb_like` reviews less the first 500: a smoke run.

For each process count, `fit` trains ``EPOCHS`` epochs in its own fresh child process
(started as the ``anykeras`` command starts, `anykeras.cli.select_backend`, like
``routes_bench.py``'s), so the run pays the start-up a user pays. The workers time
each epoch themselves (``history.params["epoch_seconds"]``), so:

- ``epoch_s``: the median of the epochs after the first (the first traces and
  compiles), as the process that trained measured them;
- ``first_epoch_s``: the first epoch;
- ``overhead_s``: the `fit` call's wall time less its epochs: with 2 processes, the
  workers' start (interpreters, backends, ``jax.distributed`` / ``gloo`` rendezvous),
  the model file and the data written and read back; with 1 process, nearly nothing.

With ``--rounds N`` each child runs N times, interleaved, and each figure is the least
of its rounds. The records, one per process count, go to
``OUT/<backend>-distributed.jsonl`` as ``{"impl": "data-parallel", "processes": n,
"engine": ..., "epoch_s", "first_epoch_s", "overhead_s", "fit_s", "load"}`` (``load``:
the 1-minute load average when the runs ended; the children's before and after are in
``loads``), with the losses of every run (1 and 2 processes train the same batches to
the same weights, up to the order of float32 sums); ``benchmarks/report.py`` merges
them.
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
    PeakMemory,
    _imdb_on_disk,
    _load,
    backend_from_env,
    run_rounds,
    write_records,
)

from anykeras.spec import BACKENDS  # Keras-free: the parent process never imports Keras

PROCESSES = (1, 2)
EPOCHS = 4
WORDS, BATCH_SIZE, SEED = 10_000, 512, 0
HELD_OUT = {"imdb": 10_000, "synthetic": 500}  # the validation reviews the epoch skips


def load_epoch_data(data: str) -> tuple:
    """The reviews of one course epoch as uint8 multi-hot rows, and float32 labels."""
    import numpy as np

    from anykeras.data import imdb
    from anykeras.data.encoding import multi_hot
    from anykeras.data.synthetic import imdb_like

    if data == "imdb":
        (x_train, y_train), _ = imdb.load_data(num_words=WORDS)
    else:
        (x_train, y_train), _ = imdb_like(2_000, 0, WORDS, seed=0)
    start = HELD_OUT[data]
    x = multi_hot(x_train[start:], WORDS, dtype="uint8")
    return x, np.asarray(y_train[start:], dtype="float32")


def run_fit(processes: int, epochs: int, data: str) -> dict:
    """One `fit` of ``epochs`` epochs on ``processes`` processes; the child's record."""
    from anykeras.cli import select_backend

    select_backend(os.environ["KERAS_BACKEND"])  # as `anykeras train` starts
    import keras

    from anykeras import ClassifierSpec, build, compile_model
    from anykeras.loops.distributed import fit

    record: dict = {
        "backend": keras.backend.backend(),
        "impl": "data-parallel",
        "processes": processes,
        "epochs": epochs,
        "load_before": _load(),
    }
    start = time.perf_counter()
    x, y = load_epoch_data(data)
    record["data_s"] = time.perf_counter() - start
    spec = ClassifierSpec(input_shape=(WORDS,), hidden=(16, 16))
    keras.utils.set_random_seed(0)  # the same initial weights in every child
    model = compile_model(build(spec), spec)
    with PeakMemory() as memory:
        start = time.perf_counter()
        history = fit(model, x, y, batch_size=BATCH_SIZE, epochs=epochs, processes=processes,
                      seed=SEED)  # fmt: skip
        record["fit_s"] = time.perf_counter() - start
    params = history.params or {}
    record["epoch_seconds"] = list(params.get("epoch_seconds") or [])
    record.update(
        engine=params.get("engine"),
        replicas=params.get("replicas"),
        devices=params.get("devices"),
        loss=[float(v) for v in history.history["loss"]],
        accuracy=[float(v) for v in history.history.get("accuracy", [])],
        peak_mib=round(memory.peak_mib, 1),  # this process's; the workers' are their own
        data=data,
        rows=len(x),
        words=WORDS,
        batch_size=BATCH_SIZE,
        seed=SEED,
        load_after=_load(),
    )
    return record


def run_name(processes: int) -> str:
    """A child's name: ``2 processes``."""
    return f"{processes} process{'es' if processes > 1 else ''}"


def child_commands(args: argparse.Namespace) -> dict[str, list[str]]:
    """The child processes to run, by name: one per process count."""
    commands = {}
    for processes in PROCESSES:
        command = [sys.executable, __file__, "--child", "--data", args.data]
        commands[run_name(processes)] = [*command, "--processes", str(processes)]
    return commands


def summarize(backend: str, runs: dict[str, list[dict]]) -> list[dict]:
    """One record per process count: its epoch, first epoch and overhead (least of rounds)."""
    records = []
    for processes in PROCESSES:
        rounds = runs[run_name(processes)]
        steady = [statistics.median(r["epoch_seconds"][1:]) for r in rounds]
        overheads = [r["fit_s"] - sum(r["epoch_seconds"]) for r in rounds]
        last = rounds[-1]
        records.append(
            {
                "backend": backend,
                "impl": "data-parallel",
                "processes": processes,
                "engine": last["engine"],
                "replicas": last["replicas"],
                "epoch_s": min(steady),
                "first_epoch_s": min(r["epoch_seconds"][0] for r in rounds),
                "overhead_s": min(overheads),
                "fit_s": min(r["fit_s"] for r in rounds),
                "epochs": EPOCHS,
                "rounds_epoch_seconds": [r["epoch_seconds"] for r in rounds],
                "rounds_fit_s": [r["fit_s"] for r in rounds],
                "loss": last["loss"],
                "peak_mib": max(r["peak_mib"] for r in rounds),
                "data_s": min(r["data_s"] for r in rounds),
                "data": last["data"],
                "rows": last["rows"],
                "words": last["words"],
                "batch_size": last["batch_size"],
                "seed": last["seed"],
                "cpus": os.cpu_count(),
                "loads": [[r["load_before"], r["load_after"]] for r in rounds],
                "load": _load(),
            }
        )
    return records


def table(records: list[dict]) -> str:
    header = (
        f"{'processes':>9} {'epoch_s':>8} {'first_s':>8} {'overhead_s':>10} {'fit_s':>7} "
        f"{'vs 1 proc':>9} {'load':>5}  engine"
    )
    rows = [header, "-" * (len(header) + 30)]
    one = next((r for r in records if r["processes"] == 1), None)
    for r in records:
        ratio = f"{r['epoch_s'] / one['epoch_s']:>8.2f}x" if one and one["epoch_s"] > 0 else ""
        rows.append(
            f"{r['processes']:>9} {r['epoch_s']:>8.3f} {r['first_epoch_s']:>8.3f} "
            f"{r['overhead_s']:>10.2f} {r['fit_s']:>7.2f} {ratio:>9} {r['load']!s:>5}  "
            f"{r['engine']}"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench-results/parts"))
    parser.add_argument("--rounds", type=int, default=1, help="runs of every child, interleaved")
    parser.add_argument("--data", choices=("auto", "imdb", "synthetic"), default="auto")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--processes", type=int, choices=PROCESSES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.data == "auto":
        args.data = "imdb" if _imdb_on_disk() else "synthetic"
    if args.child:
        print(json.dumps(run_fit(args.processes, EPOCHS, args.data)))
        return 0

    backend = backend_from_env(BACKENDS)
    if backend is None:
        return 2
    runs = run_rounds(child_commands(args), args.rounds, backend)
    if runs is None:
        return 1
    records = summarize(backend, runs)
    out = write_records(args.out / f"{backend}-distributed.jsonl", records)
    r0 = records[0]
    print(
        f"\n{backend}: one IMDB epoch data-parallel ({r0['data']} data, {r0['rows']:,} rows of "
        f"{r0['words']:,} words, batch {r0['batch_size']}), {EPOCHS} epochs in a fresh process"
    )
    print(table(records))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
