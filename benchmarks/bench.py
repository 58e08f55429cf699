"""Time the IMDB classifier on this process's Keras backend: Keras, anykeras and native code.

Run once per backend (the backend is fixed for the life of a process):

    KERAS_BACKEND=jax python benchmarks/bench.py --out bench-results/parts

It measures four implementations of the same Dense 16-16-1 binary classifier, from the
same initial weights, on the real IMDB reviews (``--data imdb``: the first 15,000
training reviews and the 25,000 test reviews, 10,000 words, through `anykeras.data.imdb`
and ``ANYKERAS_DATA_DIR``), or on synthetic IMDB-shaped data (``--data synthetic``:
`anykeras.data.synthetic.imdb_like`, the same sizes, reviews of 20-120 words). ``auto``,
the default, takes the real reviews when they are on disk. The data matters: IMDB's
reviews hold 132 distinct words on average but up to 588, and a padded sparse batch
pays for the longest.

- ``keras_fit``: ``model.fit`` / ``model.predict`` on the multi-hot NumPy arrays.
- ``anykeras_dense``: the same model through ``benchmarks/fastpath.py`` (``fast_fit`` /
  ``fast_predict``), fed the multi-hot rows as ``uint8`` (exactly the same values).
- ``anykeras_sparse``: the sparse route's model (`anykeras.speed.SparseRoute`'s
  ``model``: `anykeras.builders.sparse.build_sparse`, its packed sums on
  `anykeras.loops.segment_sum`) on `anykeras.data.encoding.unique_ids` inputs, through
  ``fast_fit`` / ``fast_predict``; the same outputs and weights as the dense model. By
  default (``--sparse-layout both``) it runs twice, once per layout: ``padded`` rows,
  and ``packed`` batches (`anykeras.speed.PackedBatches`, in anykeras's seeded order,
  fed through `anykeras.loops.feed`). ``--sparse-layout auto`` runs only the backend's
  entry of `anykeras.speed.SPARSE_LAYOUTS` (``default_layout`` in every sparse record).
- ``native``: a hand-written loop in the backend's own idioms (``native_<backend>.py``).

The two ``anykeras_*`` children start as the ``anykeras`` command starts
(`anykeras.cli.select_backend`: ``OMP_WAIT_POLICY=PASSIVE`` unless set); the others
keep the environment as it is, as a user of plain Keras or of the backend has it
(``omp_wait_policy`` in every record says which).

**Busy** (``--busy-rounds``, 1 by default): every child runs again beside one competing
CPU-bound process that the bench starts itself (`CompetingLoad`: a Python busy loop,
killed when the child ends, and ending by itself after 15 minutes whatever happens), so
the figure does not depend on who else shares the machine. ``busy_epoch_s`` and
``busy_predict_s`` (the best busy round's medians) and ``busy_load`` go into the quiet
run's record.

Each implementation runs in its own child process (a fresh interpreter with the same
backend), so that one's memory and compiled functions do not flatter another's. With
``--rounds N`` every implementation runs N times, the rounds interleaved, and each keeps
its least-disturbed run (a shared machine's busy minutes otherwise decide the ranking);
``rounds_epoch_s`` lists every round's median.

What is measured, per implementation:

- ``epoch_s``: the median wall time of ``--epochs`` shuffled training epochs (batch
  512, rmsprop) after ``--warmup`` epochs that compile and warm caches; ``epoch_min_s``
  and ``epoch_times`` are reported too (a shared machine makes medians noisy).
- ``predict_s``: the median of ``--repeats`` predictions of the test reviews (batch
  512, after one warm-up), from the encoded NumPy array to NumPy probabilities.
- ``encode_s``: the time to build the implementation's inputs from the raw word-id
  lists (multi-hot rows, or distinct ids), training and test together.
- ``peak_mib``: the extra resident memory the implementation needed: the process's
  peak resident set size (``VmHWM``, reset through ``/proc/self/clear_refs`` just before
  the inputs are encoded) minus the resident set size at that moment, in MiB. Where
  that reset is not available, ``resource.getrusage(...).ru_maxrss`` minus the same
  baseline (``peak_method`` says which).
- ``accuracy``: test accuracy after training (a check that every implementation
  learned, not a benchmark).
- ``load_before`` / ``load_after``: the machine's 1-minute load average around the run;
  a load above the core count means others' work stretched these times.

The records go to ``OUT/<backend>.jsonl`` (one JSON object a line), and a table to
stdout; ``benchmarks/report.py`` merges the backends.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from anykeras.spec import BACKENDS  # Keras-free: the parent process never imports Keras

HERE = Path(__file__).resolve().parent
IMPLS = ("keras_fit", "anykeras_dense", "anykeras_sparse", "native")
LAYOUTS = ("padded", "packed")  # the sparse model's layouts (`build_sparse(layout=...)`)
NATIVE = {backend: f"native_{backend}" for backend in BACKENDS}
MIB = 1024 * 1024


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench-results/parts"))
    parser.add_argument("--impl", nargs="+", choices=IMPLS, default=list(IMPLS))
    parser.add_argument("--train", type=int, default=15_000, help="training reviews")
    parser.add_argument("--test", type=int, default=25_000, help="test reviews")
    parser.add_argument("--words", type=int, default=10_000, help="vocabulary size")
    parser.add_argument(
        "--data",
        choices=("auto", "imdb", "synthetic"),
        default="auto",
        help="the real IMDB reviews, synthetic ones, or the real ones when on disk (default)",
    )
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=7, help="timed epochs")
    parser.add_argument("--warmup", type=int, default=2, help="untimed first epochs")
    parser.add_argument("--repeats", type=int, default=5, help="timed predictions")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: checks the script, times nothing"
    )
    parser.add_argument(
        "--strategy",
        choices=("arrays", "tensors", "batches"),
        help="the fast path's input strategy, train and predict "
        "(default: benchmarks/fastpath.py's STRATEGIES)",
    )
    parser.add_argument(
        "--sparse-layout",
        choices=("both", "auto", *LAYOUTS),
        default="both",
        help="the sparse model's layout: both (default: one run each), auto (the "
        "backend's entry of anykeras.speed.SPARSE_LAYOUTS), padded or packed",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="limit every implementation to N threads (OpenMP/MKL/OpenBLAS, TensorFlow's "
        "pools, XLA's Eigen pool when N is 1); default: each framework's own choice. On a "
        "shared machine, PyTorch's OpenMP threads wait on each other when a core is taken",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run every implementation this many times, interleaved, and keep each one's "
        "least-disturbed run (lowest median epoch); all rounds' medians are recorded",
    )
    parser.add_argument(
        "--busy-rounds",
        type=int,
        default=1,
        help="run every implementation this many more times beside one competing "
        "CPU-bound process the bench starts itself (the busy column); 0: none",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.train, args.test, args.words = 600, 400, 1000
        args.epochs, args.warmup, args.repeats = 2, 1, 2
    if args.data == "auto":
        args.data = "imdb" if _imdb_on_disk() else "synthetic"
    return args


def _imdb_on_disk() -> bool:
    """Whether ``ANYKERAS_DATA_DIR`` or Keras's cache holds ``imdb.npz`` (no download)."""
    data_dir = os.environ.get("ANYKERAS_DATA_DIR")
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    places = [keras_home / "datasets"]
    if data_dir:
        places[:0] = [Path(data_dir) / "imdb", Path(data_dir)]
    return any((place / "imdb.npz").is_file() for place in places)


# --- memory -------------------------------------------------------------------------


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class PeakMemory:
    """The extra peak resident memory of a block of code, in MiB (see the module doc)."""

    def __enter__(self) -> PeakMemory:
        self.method = "ru_maxrss"
        try:
            Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to VmRSS
            if _status_kib("VmHWM") is not None:
                self.method = "VmHWM"
        except OSError:
            pass
        self.baseline_kib = _status_kib("VmRSS") or self._maxrss_kib()
        return self

    @staticmethod
    def _maxrss_kib() -> int:
        usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return usage // 1024 if sys.platform == "darwin" else usage  # bytes on macOS

    def __exit__(self, *exc: object) -> None:
        peak = _status_kib("VmHWM") if self.method == "VmHWM" else self._maxrss_kib()
        self.peak_mib = max(0.0, ((peak or 0) - self.baseline_kib) / 1024)


# --- timing -------------------------------------------------------------------------


def timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


class CompetingLoad:
    """One competing CPU-bound process for the busy column: a fixed, reproducible load.

    A Python busy loop in its own process, started on entry and killed on exit. It
    also ends by itself after ``limit`` seconds, so a bench that dies leaves nothing
    running.
    """

    def __init__(self, limit: float = 900.0) -> None:
        self.limit = limit
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> CompetingLoad:
        end = f"time.monotonic() + {self.limit}"
        loop = f"import time\nend = {end}\nwhile time.monotonic() < end: pass"
        self.process = subprocess.Popen([sys.executable, "-c", loop])
        time.sleep(1.0)  # running before the timed child starts
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()


# --- one implementation (in a child process) ------------------------------------------


def train_native(backend: str, weights, train_in, y, args: argparse.Namespace, record: dict):
    """Train the hand-written loop; returns its epoch times and its predict function."""
    native = importlib.import_module(NATIVE[backend])
    trainer = native.Trainer(weights, batch_size=args.batch_size, seed=0)
    start = time.perf_counter()
    trainer.prepare(train_in, y)
    record["prepare_s"] = time.perf_counter() - start
    times = timed(trainer.train_epoch, args.warmup + args.epochs)
    return times, trainer.predict


def train_keras(impl: str, spec, weights, train_in, y, args: argparse.Namespace, record: dict):
    """Train a Keras model (plain fit or the anykeras fast path); returns times and predict."""
    import keras
    from fastpath import JIT_COMPILE, fast_fit, fast_predict, strategy_for  # benchmarks/

    from anykeras import build
    from anykeras.speed import SPARSE_LAYOUTS, SparseRoute
    from anykeras.training import compile_model
    from anykeras.training.callbacks import EpochTimer

    model = build(spec)
    model.set_weights(weights)
    if impl == "anykeras_sparse":
        default = SPARSE_LAYOUTS[keras.backend.backend()]
        layout = default if args.sparse_layout == "auto" else args.sparse_layout
        record["layout"], record["default_layout"] = layout, default
        model = SparseRoute(layout).model(spec, "functional", model)  # what the route trains
    compile_model(model, spec)
    timer = EpochTimer()
    bs = args.batch_size
    kwargs = {"epochs": args.warmup + args.epochs, "batch_size": bs, "shuffle": True}
    if impl == "keras_fit":
        model.fit(train_in, y, callbacks=[timer], verbose=0, **kwargs)
        return timer.seconds, lambda x: model.predict(x, batch_size=bs, verbose=0)
    train = args.strategy or strategy_for("train")
    infer = args.strategy or strategy_for("predict")
    if record.get("layout") == "packed":
        train = infer = "packed"
    record["strategy"], record["predict_strategy"] = train, infer
    record["jit_compile"] = JIT_COMPILE.get(keras.backend.backend())
    fast_fit(model, train_in, y, callbacks=[timer], verbose=0, strategy=train, **kwargs)
    return timer.seconds, lambda x: fast_predict(model, x, batch_size=bs, strategy=infer)


def run_impl(impl: str, args: argparse.Namespace) -> dict:
    """Encode, train, time and predict with one implementation; returns its record."""
    if impl.startswith("anykeras"):  # start as the `anykeras` command starts
        from anykeras.cli import select_backend

        select_backend(os.environ["KERAS_BACKEND"])
    import keras
    import numpy as np

    from anykeras import ClassifierSpec, build
    from anykeras.data import imdb
    from anykeras.data.encoding import multi_hot, unique_ids
    from anykeras.data.synthetic import imdb_like

    backend = keras.backend.backend()
    if args.data == "imdb":
        (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=args.words)
        x_train, y_train = x_train[: args.train], y_train[: args.train]
        x_test, y_test = x_test[: args.test], y_test[: args.test]
    else:
        (x_train, y_train), (x_test, y_test) = imdb_like(args.train, args.test, args.words, seed=0)
    y = y_train.astype("float32")
    spec = ClassifierSpec(input_shape=(args.words,), hidden=(16, 16))
    keras.utils.set_random_seed(0)
    weights = build(spec).get_weights()  # the same start for every implementation
    record: dict = {"backend": backend, "impl": impl, "load_before": _load()}

    with PeakMemory() as memory:
        start = time.perf_counter()
        if impl == "anykeras_sparse":
            encode = unique_ids
        elif impl == "anykeras_dense":  # compact 0/1 rows: see benchmarks/fastpath.py
            encode = functools.partial(multi_hot, dtype="uint8")
        else:
            encode = multi_hot  # float32, as the book and plain Keras have it
        train_in, test_in = encode(x_train, args.words), encode(x_test, args.words)
        record["input"] = f"{train_in.dtype} {train_in.shape[1:]}"
        record["encode_s"] = time.perf_counter() - start
        if impl == "native":
            times, predict = train_native(backend, weights, train_in, y, args, record)
        else:
            times, predict = train_keras(impl, spec, weights, train_in, y, args, record)
        probabilities = np.asarray(predict(test_in))  # warm-up, and the accuracy check
        predict_times = timed(lambda: predict(test_in), args.repeats)

    measured = times[args.warmup :]
    record.update(
        {
            "epoch_s": statistics.median(measured),
            "epoch_min_s": min(measured),
            "epoch_times": [round(t, 5) for t in times],
            "predict_s": statistics.median(predict_times),
            "predict_min_s": min(predict_times),
            "peak_mib": round(memory.peak_mib, 1),
            "peak_method": memory.method,
            "accuracy": float(np.mean((probabilities[:, 0] > 0.5) == (y_test == 1))),
            "data": args.data,
            "train": len(x_train),
            "test": len(x_test),
            "words": args.words,
            "batch_size": args.batch_size,
            "warmup": args.warmup,
            "epochs": args.epochs,
            "load_after": _load(),
            "cpus": os.cpu_count(),
            "threads": os.environ.get("OMP_NUM_THREADS", "default"),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
            "keras": keras.__version__,
            "backend_version": _backend_version(backend),
        }
    )
    return record


def _load() -> float | None:
    """The 1-minute load average: how busy the shared machine was (2 cores here)."""
    with contextlib.suppress(OSError, AttributeError):
        return round(os.getloadavg()[0], 2)
    return None


def _backend_version(backend: str) -> str:
    module = {"jax": "jax", "torch": "torch", "tensorflow": "tensorflow"}[backend]
    with contextlib.suppress(Exception):
        return importlib.import_module(module).__version__
    return "unknown"


# --- the parent: one child per implementation, then a table -------------------------


def child_command(impl: str, args: argparse.Namespace, layout: str) -> list[str]:
    return [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        "--impl",
        impl,
        "--train",
        str(args.train),
        "--test",
        str(args.test),
        "--words",
        str(args.words),
        "--data",
        args.data,
        "--sparse-layout",
        layout,
        "--batch-size",
        str(args.batch_size),
        "--epochs",
        str(args.epochs),
        "--warmup",
        str(args.warmup),
        "--repeats",
        str(args.repeats),
        *(["--strategy", args.strategy] if args.strategy else []),
    ]


def child_env(threads: int | None) -> dict[str, str]:
    """The environment of a child process, with thread limits when asked for."""
    env = dict(os.environ)
    if threads:
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[name] = str(threads)
        env["TF_NUM_INTRAOP_THREADS"] = str(threads)
        env["TF_NUM_INTEROP_THREADS"] = "1"
        if threads == 1:
            flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
            env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {flags}".strip()
    return env


def child_commands(args: argparse.Namespace) -> dict[str, list[str]]:
    """The child processes to run, by label: one per implementation, per sparse layout."""
    commands = {}
    for impl in args.impl:
        layouts = LAYOUTS if impl == "anykeras_sparse" and args.sparse_layout == "both" else ()
        for layout in layouts or (args.sparse_layout,):
            name = f"{impl} {layout}" if layouts else impl
            commands[name] = child_command(impl, args, layout)
    return commands


def label(record: dict, key: str = "impl") -> str:
    """A record's name, with the sparse model's layout: ``anykeras_sparse packed``.

    ``key="route"`` names a workflow record of ``routes_bench.py``: ``sparse packed``.
    """
    return record[key] + (f" {record['layout']}" if record.get("layout") else "")


def table(records: list[dict]) -> str:
    header = (
        f"{'impl':<23} {'epoch_s':>8} {'min':>8} {'busy':>8} {'predict_s':>9} "
        f"{'encode_s':>8} {'peak_mib':>8} {'acc':>6}"
    )
    rows = [header, "-" * len(header)]
    for r in records:
        busy = f"{r['busy_epoch_s']:>8.4f}" if "busy_epoch_s" in r else f"{'':>8}"
        rows.append(
            f"{label(r):<23} {r['epoch_s']:>8.4f} {r['epoch_min_s']:>8.4f} {busy} "
            f"{r['predict_s']:>9.4f} {r['encode_s']:>8.3f} {r['peak_mib']:>8.1f} "
            f"{r['accuracy']:>6.3f}"
        )
    return "\n".join(rows)


def run_rounds(
    commands: dict[str, list[str]],
    rounds: int,
    backend: str,
    env: dict[str, str] | None = None,
    *,
    busy: bool = False,
) -> dict[str, list[dict]] | None:
    """Run every child command ``rounds`` times, interleaved; their JSON records by name.

    Interleaving makes a busy minute on a shared machine hit every implementation
    alike. With ``busy``, each child runs beside a `CompetingLoad`. Returns ``None``
    (after printing why) if a child fails.
    """
    runs: dict[str, list[dict]] = {name: [] for name in commands}
    for round_ in range(1, rounds + 1):
        for name, command in commands.items():
            what = "busy round" if busy else "round"
            print(f"[{backend}] {what} {round_}: {name} ...", file=sys.stderr, flush=True)
            with CompetingLoad() if busy else contextlib.nullcontext():
                done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
            if done.returncode != 0:
                print(done.stdout + done.stderr, file=sys.stderr)
                print(f"[{backend}] {name} failed (exit {done.returncode})", file=sys.stderr)
                return None
            runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    return runs


def best_of(
    runs: dict[str, list[dict]], busy: dict[str, list[dict]] | None, key: str, fields: tuple
) -> list[dict]:
    """Each child's least-disturbed quiet run (lowest ``key``), with every round's
    ``fields`` and the best busy run's ``fields`` as ``busy_<field>``."""
    records = []
    for name, rounds in runs.items():
        best = dict(min(rounds, key=lambda r: r[key]))
        for field in fields:
            best[f"rounds_{field}"] = [r[field] for r in rounds]
        if busy and busy.get(name):
            calm = min(busy[name], key=lambda r: r[key])
            best.update({f"busy_{field}": calm[field] for field in fields})
            best["busy_load"] = calm.get("load_after")
        records.append(best)
    return records


def write_records(path: Path, records: list[dict]) -> Path:
    """Write one JSON record a line, atomically: a half-written file never replaces one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    tmp.replace(path)
    return path


def backend_from_env(known: Iterable[str]) -> str | None:
    """``KERAS_BACKEND`` if it is one of ``known``; else ``None``, having said so on stderr."""
    backend = os.environ.get("KERAS_BACKEND")
    if backend in known:
        return backend
    print(
        f"set KERAS_BACKEND to one of {sorted(known)} (one backend per process); "
        f"received KERAS_BACKEND={backend!r}",
        file=sys.stderr,
    )
    return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(HERE))  # the native_<backend> modules
    if args.child:
        print(json.dumps(run_impl(args.impl[0], args)))
        return 0

    backend = backend_from_env(NATIVE)
    if backend is None:
        return 2
    commands = child_commands(args)
    env = child_env(args.threads)
    runs = run_rounds(commands, args.rounds, backend, env)
    busy = run_rounds(commands, args.busy_rounds, backend, env, busy=True)
    if runs is None or busy is None:
        return 1
    records = best_of(runs, busy, "epoch_s", ("epoch_s", "predict_s"))
    path = write_records(args.out / f"{backend}.jsonl", records)
    print(f"\n{backend}: {args.train} train / {args.test} test reviews, {args.words} words")
    print(table(records))
    from report import goal_records  # the sibling script: one place for the goals

    for goal in goal_records(records, limit_s=None):
        print(
            f"  {goal['goal']}: {goal['by']} {goal['ratio']:.2f}x "
            f"(goal <= {goal['target']}x: {goal['verdict']})"
        )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
