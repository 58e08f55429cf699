"""`anykeras`: train, evaluate, predict and sweep from the command line.

The backend is chosen here, before Keras is imported (``--backend`` or the
``KERAS_BACKEND`` variable); the work itself is done by the library. Every argument
is checked before any work starts: a bad one is reported in one line, exit status 2;
a missing or damaged data file, a file that cannot be read or written, or a training
run that diverges, exit status 1. Every command runs inside one error boundary
(`anykeras.cli.boundary`), so nothing reaches the user as a traceback unless
``anykeras --debug`` asks for it.

    anykeras train --dataset imdb --style subclassed --backend torch --epochs 4 --out runs/x
    anykeras predict --model runs/x/model.keras --text "A moving, beautifully acted film."
    anykeras evaluate --model runs/x/model.keras --dataset imdb
    anykeras sweep --dataset imdb --epochs 20 --out runs/sweep
    anykeras tutorial --out course   (the tutorial's notebook and the examples)
    anykeras golden make|check ...   (see anykeras.testing.golden)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import logging
import os
import sys
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from anykeras.cli.boundary import debug_asked, guarded
from anykeras.cli.checks import UsageError, check_head, read_reviews
from anykeras.cli.parser import backend_line, build_parser, default_backend, epoch_verbosity
from anykeras.spec import BACKENDS

__all__ = ["COMMANDS", "build_parser", "default_backend", "main", "select_backend"]


def select_backend(backend: str) -> None:
    """Set ``KERAS_BACKEND`` before Keras is imported, or say clearly why not.

    Also ``OMP_WAIT_POLICY=PASSIVE`` unless the environment sets it: OpenMP reads it
    once, when PyTorch loads it. By default each of PyTorch's threads spins after every
    operation, waiting for the next; with other work on the cores the spinning threads
    take the time the working one needs: on 2 shared cores an IMDB epoch took 10.3 s
    where passive threads, which sleep instead, took 2.0 s (JAX and TensorFlow use
    their own thread pools, not OpenMP).
    """
    check_backend_name(backend)
    if importlib.util.find_spec(backend) is None:
        raise UsageError(
            f"the {backend} backend is not installed in this environment: "
            f"pip install 'anykeras[{backend}]'"
        )
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != backend:
            raise UsageError(
                f"Keras is already running on {keras.backend.backend()}; start a new process "
                f"for --backend {backend}"
            )
    os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def check_backend_name(backend: str) -> None:
    """Raise `UsageError` unless ``backend`` (from ``$KERAS_BACKEND``, unchecked) is a backend.

    Example:
    >>> check_backend_name("torch")
    """
    if backend not in BACKENDS:
        raise UsageError(
            f"KERAS_BACKEND={backend!r} is no Keras backend; expected one of "
            f"{', '.join(BACKENDS)} (or pass --backend)"
        )


def _recipe(args: argparse.Namespace) -> Any:
    from anykeras.training.recipes import get_recipe, quick

    recipe = get_recipe(args.dataset)
    return quick(recipe) if args.quick else recipe


def cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    """Validation run, curves, retrain on all training data, test; files under ``--out``."""
    from anykeras.cli.train import train

    return train(args)


def _load_model(path: Path) -> Any:
    from anykeras.saving import load_model

    if path.exists() and not path.is_file():
        raise UsageError(
            f"--model {path} is not a regular file (a folder, a device or a pipe); give a "
            "saved .keras file"
        )
    if not path.is_file():
        raise UsageError(f"--model must be a saved .keras file; {path} does not exist")
    if not zipfile.is_zipfile(path):
        raise UsageError(f"--model {path} is damaged or not a .keras file (no whole zip archive)")
    try:
        return load_model(path)
    except Exception as error:  # Keras raises several types for a bad file
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UsageError(f"could not load a Keras model from {path}: {reason}") from None


def cmd_evaluate(args: argparse.Namespace) -> dict[str, Any]:
    """Evaluate a saved model on the dataset's test split."""
    from anykeras.training import evaluate

    model = _load_model(args.model)
    recipe = _recipe(args)
    check_head(model, recipe.spec, f"{args.model}", recipe.name)
    data = recipe.dataset()
    metrics = {f"test_{k}": v for k, v in evaluate(model, *data.test).items()}
    return {"model": str(args.model), "dataset": recipe.name, **metrics}


def cmd_predict(args: argparse.Namespace) -> dict[str, Any]:
    """Score raw reviews with a saved IMDB model."""
    texts = read_reviews(args.text, args.file)  # before Keras is imported: a refusal is quick
    from anykeras.data import encoding, imdb
    from anykeras.training.recipes import get_recipe

    model = _load_model(args.model)
    spec = get_recipe("imdb").spec
    num_words = check_head(model, spec, f"{args.model}", "imdb", any_vocabulary=True)
    x = encoding.multi_hot([imdb.encode(t, num_words=num_words) for t in texts], num_words)
    scores = model.predict(x, verbose=0)[:, 0]
    results = [
        {
            "text": t,
            "probability_positive": float(p),
            "label": "positive" if p >= 0.5 else "negative",
        }
        for t, p in zip(texts, scores, strict=True)
    ]
    return {"model": str(args.model), "predictions": results}


def cmd_sweep(args: argparse.Namespace) -> dict[str, Any]:
    """The course's further experiments: a Markdown table, JSON and a plot."""
    from anykeras.cli.train import sweep

    return sweep(args)


class _ProgressLines(logging.StreamHandler):
    """The library's lines on stdout as ``anykeras: ...``, the first preceded by ``first``.

    So the backend line comes first when work starts, and a refusal prints nothing.
    The stream is ``sys.stdout`` at each line, as logging's last-resort handler takes
    ``sys.stderr``: whatever stdout is then (a test's capture, say).
    """

    def __init__(self, first: str | None) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("anykeras: %(message)s"))
        self.first = first

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        """Set by `logging.StreamHandler.__init__`; each line writes to ``sys.stdout``."""

    def emit(self, record: logging.LogRecord) -> None:
        if self.first is not None:
            first, self.first = self.first, None
            super().emit(logging.makeLogRecord({"msg": first, "levelno": logging.INFO}))
        super().emit(record)


@contextlib.contextmanager
def _show_what_runs(quiet: bool = False, first: str | None = None) -> Iterator[None]:
    """Print the library's progress lines (what runs, each phase, its time) on stdout.

    With ``quiet``, only its warnings; ``first`` goes before the first of them. The
    logger is as it was afterwards, for a program that calls `main` itself.
    """
    logger = logging.getLogger("anykeras")
    before = logger.handlers, logger.level, logger.propagate
    logger.handlers = [_ProgressLines(first)]
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.handlers, logger.propagate = before[0], before[2]
        logger.setLevel(before[1])


COMMANDS = {
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "predict": cmd_predict,
    "sweep": cmd_sweep,
}


def _tutorial(argv: list[str]) -> int:
    """``anykeras tutorial``: copies files, so no backend is chosen."""
    from anykeras.cli.tutorial import cmd_tutorial

    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # argparse has printed one line (or --help)
        return int(exit_.code or 0)
    print(json.dumps(cmd_tutorial(args), indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `anykeras` command; returns the exit status.

    Every failure is one line on stderr (see `anykeras.cli.boundary`); ``--debug``
    before the command (or ``ANYKERAS_DEBUG=1``) prints its traceback too.

    Example:
    >>> main(["train", "--dataset", "cifar"])  # doctest: +SKIP
    anykeras train: error: argument --dataset: invalid choice: 'cifar' ...
    """
    debug, argv = debug_asked(list(sys.argv[1:] if argv is None else argv))
    if argv[:1] == ["golden"]:  # make|check, with options of its own
        return guarded("golden", lambda: _golden(argv[1:]), debug)
    if argv[:1] == ["tutorial"]:  # no backend to choose
        return guarded("tutorial", lambda: _tutorial(argv), debug)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # argparse has printed one line (or --help, --version)
        return int(exit_.code or 0)
    return guarded(args.command, lambda: _run(args), debug)


def _golden(argv: list[str]) -> int:
    if "--backend" not in argv and os.environ.get("KERAS_BACKEND"):
        check_backend_name(os.environ["KERAS_BACKEND"])  # before Keras is imported
    from anykeras.testing.golden import main as golden_main

    try:
        return golden_main(argv)
    except SystemExit as exit_:  # its parser's errors, --help
        return exit_.code if isinstance(exit_.code, int) else 2


def _run(args: argparse.Namespace) -> int:
    """The command of ``args``; its errors reach `guarded`."""
    args.verbose = epoch_verbosity(args)
    with _show_what_runs(args.quiet, backend_line(args)):
        select_backend(args.backend)
        result = COMMANDS[args.command](args)
    print(json.dumps(result, indent=2, allow_nan=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
