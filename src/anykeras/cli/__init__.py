"""`anykeras`: train, evaluate, predict and sweep from the command line.

The backend is chosen here, before Keras is imported (``--backend`` or the
``KERAS_BACKEND`` variable); the work itself is done by the library. Every argument
is checked before any work starts: a bad one is reported in one line, exit status 2;
a missing or damaged data file, or a training run that diverges, exit status 1.

    anykeras train --dataset imdb --style subclassed --backend torch --epochs 4 --out runs/x
    anykeras predict --model runs/x/model.keras --text "A moving, beautifully acted film."
    anykeras evaluate --model runs/x/model.keras --dataset imdb
    anykeras sweep --dataset imdb --epochs 20 --out runs/sweep
    anykeras golden make|check ...   (see anykeras.testing.golden)
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from anykeras import __version__
from anykeras.cli.checks import (
    UsageError,
    check_head,
    learning_rate,
    non_negative_int,
    positive_int,
    read_reviews,
    seed,
)
from anykeras.spec import BACKENDS, DATASETS, ROUTES, STYLES


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (no usage block)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Each option's default after its help, unless it is None or False.

    Those mean "not given" (the recipe's value, or a flag left off), which the help text
    says in words where it matters; ``(default: None)`` would say nothing.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def _add_command(sub: Any, name: str, help: str) -> argparse.ArgumentParser:
    """A subcommand's parser (a `_Parser`), whose ``--help`` shows each option's default."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help, formatter_class=_HelpFormatter
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `anykeras` command."""
    parser = _Parser(prog="anykeras", description="The course's Keras 3 workflow, on any backend.")
    parser.add_argument("--version", action="version", version=f"anykeras {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    # `golden` is parsed by anykeras.testing.golden; listed here for --help.
    _add_command(sub, "golden", "make golden files once; check them on every backend")
    for add in (_add_train, _add_evaluate, _add_predict, _add_sweep):
        command = add(sub)
        command.add_argument(
            "--backend",
            choices=BACKENDS,
            default=default_backend(),
            help="the Keras backend: $KERAS_BACKEND if set, else the first installed of "
            f"{', '.join(BACKENDS)}",
        )
        command.add_argument(
            "--verbose",
            type=int,
            choices=(0, 1, 2),
            default=1,
            help="0 silent, 1 a progress bar, 2 a line per epoch",
        )
    return parser


# Help texts that more than one command shares.
_DATASET_HELP = "the course's problem, and its recipe: the model and the training settings"
_STYLE_HELP = "how the model is written: keras.Sequential, the functional API or a subclass"
_EPOCHS_HELP = "(default: the recipe's; imdb 20, at most 8 with --quick)"
_QUICK_HELP = "small synthetic data, at most 8 epochs (offline, fast)"


def _add_train(sub: Any) -> argparse.ArgumentParser:
    train = _add_command(sub, "train", "validate, retrain on all training data, test")
    train.add_argument("--dataset", choices=DATASETS, default="imdb", help=_DATASET_HELP)
    train.add_argument("--style", choices=STYLES, default="functional", help=_STYLE_HELP)
    train.add_argument(
        "--epochs", type=positive_int, help=f"epochs of the validation run {_EPOCHS_HELP}"
    )
    train.add_argument(
        "--retrain-epochs",
        type=positive_int,
        help="epochs of the final run on all training data (default: the recipe's, else "
        "the epoch with the lowest val_loss)",
    )
    train.add_argument(
        "--batch-size",
        type=positive_int,
        help="samples per gradient step (default: the recipe's; imdb 512)",
    )
    train.add_argument(
        "--learning-rate",
        type=learning_rate,
        help="the optimizer's learning rate (default: the optimizer's; rmsprop 1e-3)",
    )
    train.add_argument(
        "--seed",
        type=seed,
        default=0,
        help="seed of the weights and the sample order, 0 to 2**32 - 1",
    )
    train.add_argument(
        "--out", type=Path, required=True, help="output directory: model, metrics, curves"
    )
    train.add_argument("--overwrite", action="store_true", help="replace a finished run in --out")
    train.add_argument("--quick", action="store_true", help=_QUICK_HELP)
    train.add_argument(
        "--early-stopping",
        type=non_negative_int,
        metavar="PATIENCE",
        help="stop after PATIENCE epochs without a lower val_loss (default: off)",
    )
    train.add_argument("--checkpoint", action="store_true", help="keep the best model (val_loss)")
    train.add_argument("--backup", action="store_true", help="resume exactly if interrupted")
    train.add_argument("--tensorboard", action="store_true", help="write TensorBoard logs")
    train.add_argument("--batch-losses", action="store_true", help="record every batch's loss")
    train.add_argument(
        "--devices",
        type=positive_int,
        default=1,
        help="train data-parallel on N devices in one worker process; JAX and TensorFlow",
    )
    train.add_argument(
        "--processes",
        type=positive_int,
        default=1,
        help="train data-parallel in N worker processes, one device each; any backend",
    )
    train.add_argument(
        "--route",
        "--path",  # its name before 0.2
        dest="route",
        choices=("auto", *ROUTES),
        default="auto",
        help="how the data goes in: plain (float32 multi-hot, the course's code), compact "
        "(uint8 multi-hot), sparse (word ids); auto: the fastest that gives the same "
        "results on this backend",
    )
    return train


def _add_evaluate(sub: Any) -> argparse.ArgumentParser:
    evaluate = _add_command(sub, "evaluate", "a saved model on a dataset's test split")
    evaluate.add_argument("--model", type=Path, required=True, help="a saved .keras file")
    evaluate.add_argument(
        "--dataset", choices=DATASETS, default="imdb", help="whose test split to evaluate on"
    )
    evaluate.add_argument(
        "--quick", action="store_true", help="small synthetic test data, as train --quick"
    )
    return evaluate


def _add_predict(sub: Any) -> argparse.ArgumentParser:
    predict = _add_command(sub, "predict", "score raw review text with a saved IMDB model")
    predict.add_argument(
        "--model", type=Path, required=True, help="a .keras file trained on --dataset imdb"
    )
    source = predict.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", action="append", help="a review (repeat for several)")
    source.add_argument("--file", type=Path, help="a UTF-8 text file, one review per line")
    return predict


def _add_sweep(sub: Any) -> argparse.ArgumentParser:
    sweep = _add_command(sub, "sweep", "the course's further experiments, as a table")
    sweep.add_argument(
        "--dataset",
        choices=("imdb",),
        default="imdb",
        help="the experiments are the course's on IMDB",
    )
    sweep.add_argument("--style", choices=STYLES, default="functional", help=_STYLE_HELP)
    sweep.add_argument("--epochs", type=positive_int, help=f"epochs of each variant {_EPOCHS_HELP}")
    sweep.add_argument(
        "--out", type=Path, required=True, help="output directory: sweep.md, .json and .png"
    )
    sweep.add_argument("--quick", action="store_true", help=_QUICK_HELP)
    return sweep


def default_backend() -> str:
    """``$KERAS_BACKEND``, else the first backend installed here (else ``"jax"``).

    So that ``pip install 'anykeras[torch]'`` then ``anykeras train`` runs on PyTorch.
    """
    chosen = os.environ.get("KERAS_BACKEND")
    if chosen:
        return chosen
    installed = [name for name in BACKENDS if importlib.util.find_spec(name) is not None]
    return installed[0] if installed else "jax"


def select_backend(backend: str) -> None:
    """Set ``KERAS_BACKEND`` before Keras is imported, or say clearly why not.

    Also ``OMP_WAIT_POLICY=PASSIVE`` unless the environment sets it: OpenMP reads it
    once, when PyTorch loads it. By default each of PyTorch's threads spins after every
    operation, waiting for the next; with other work on the cores the spinning threads
    take the time the working one needs: on 2 shared cores an IMDB epoch took 10.3 s
    where passive threads, which sleep instead, took 2.0 s (JAX and TensorFlow use
    their own thread pools, not OpenMP).
    """
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
    from anykeras.data import encoding, imdb
    from anykeras.training.recipes import get_recipe

    texts = read_reviews(args.text, args.file)
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


def _show_what_runs() -> None:
    """Print the library's INFO lines (what each run trains, where, how) as ``anykeras: ...``."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("anykeras: %(message)s"))
    logger = logging.getLogger("anykeras")
    logger.handlers = [handler]  # once, however often main runs in one process
    logger.setLevel(logging.INFO)
    logger.propagate = False


COMMANDS = {
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "predict": cmd_predict,
    "sweep": cmd_sweep,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `anykeras` command; returns the exit status.

    Example:
    >>> main(["train", "--dataset", "cifar"])  # doctest: +SKIP
    anykeras train: error: argument --dataset: invalid choice: 'cifar' ...
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["golden"]:  # make|check, with options of its own
        from anykeras.testing.golden import main as golden_main

        return golden_main(argv[1:])
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # argparse has printed one line (or --help, --version)
        return int(exit_.code or 0)
    _show_what_runs()
    try:
        select_backend(args.backend)
        from anykeras.data import DataFileError, DataNotFoundError, UntrustedFileError
        from anykeras.training import DivergedError, RunFolderError

        try:
            result = COMMANDS[args.command](args)
        except RunFolderError as error:
            raise UsageError(str(error)) from None
        except (DataNotFoundError, UntrustedFileError, DataFileError, DivergedError) as error:
            print(f"anykeras {args.command}: error: {error}", file=sys.stderr)
            return 1
    except UsageError as error:
        print(f"anykeras {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"anykeras {args.command}: interrupted", file=sys.stderr)
        return 130
    print(json.dumps(result, indent=2, allow_nan=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
