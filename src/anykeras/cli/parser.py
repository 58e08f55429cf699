"""The `anykeras` command's options: one parser, every option with its help and default.

Example:
>>> build_parser().parse_args(["train", "--out", "runs/x"]).style
'functional'
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from anykeras import __version__
from anykeras.cli.checks import MAX_TEXT_MIB, learning_rate, non_negative_int, positive_int, seed
from anykeras.spec import BACKENDS, DATASETS, ROUTES, STYLES


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (no usage block)."""

    def error(self, message: str) -> NoReturn:
        """Print ``message`` in one line and exit with status 2."""
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
    parser.add_argument(
        "--debug",
        action="store_true",
        help="on an error, print its Python traceback too (as does ANYKERAS_DEBUG=1)",
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    # `golden` is parsed by anykeras.testing.golden; listed here for --help.
    _add_command(sub, "golden", "make golden files once; check them on every backend")
    _add_tutorial(sub)  # writes files only: no backend, no progress options
    for add in (_add_train, _add_evaluate, _add_predict, _add_sweep):
        command = add(sub)
        command.add_argument(
            "--backend",
            choices=BACKENDS,
            default=default_backend(),
            action=_BackendAction,
            help="the Keras backend: $KERAS_BACKEND if set, else the one in Keras's "
            "keras.json if installed, else tensorflow if installed, else the first "
            f"installed of {', '.join(BACKENDS)}",
        )
        command.add_argument(
            "-v",
            "--verbose",
            type=int,
            choices=(0, 1, 2),
            help="Keras's epoch output: 0 none, 1 a progress bar, 2 a line per epoch "
            "(default: 1 on a terminal, else 2)",
        )
        command.add_argument(
            "-q",
            "--quiet",
            action="store_true",
            help="print only the result: no progress lines (and --verbose 0 unless given)",
        )
    return parser


class _BackendAction(argparse.Action):
    """Stores ``--backend`` and notes that it was given (the first line says so)."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        setattr(namespace, self.dest, values)
        namespace.backend_given = True


def epoch_verbosity(args: argparse.Namespace) -> int:
    """``--verbose``, else 0 with ``--quiet``, else Keras's bar on a terminal, a line if not.

    A progress bar redrawn in a log file is one long line of control codes; one line an
    epoch reads well in both.
    """
    if args.verbose is not None:
        return int(args.verbose)
    if args.quiet:
        return 0
    return 1 if sys.stdout.isatty() else 2


def backend_line(args: argparse.Namespace) -> str:
    """The first line a command prints: its backend, why that one, and how to change it.

    Example:
    >>> backend_line(argparse.Namespace(backend="jax", backend_given=True))
    'backend: jax (from --backend)'
    """
    if getattr(args, "backend_given", False):
        return f"backend: {args.backend} (from --backend)"
    why = "from $KERAS_BACKEND" if os.environ.get("KERAS_BACKEND") else "the default here"
    others = "|".join(name for name in BACKENDS if name != args.backend)
    return f"backend: {args.backend} ({why}; --backend {others} or $KERAS_BACKEND to change)"


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
    source.add_argument(
        "--file",
        type=Path,
        help=f"a UTF-8 text file, one review per line, at most {MAX_TEXT_MIB} MiB",
    )
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


def _add_tutorial(sub: Any) -> argparse.ArgumentParser:
    tutorial = _add_command(sub, "tutorial", "write the tutorial's notebook and the examples")
    tutorial.add_argument(
        "--out",
        type=Path,
        default=Path(),
        help="the folder to write tutorial.ipynb and examples/ into",
    )
    tutorial.add_argument("--overwrite", action="store_true", help="replace files already there")
    return tutorial


def default_backend() -> str:
    """The backend to run on when ``--backend`` is not given.

    In order: ``$KERAS_BACKEND``; Keras's config file (``$KERAS_HOME/keras.json``, by
    default ``~/.keras/keras.json``) where it names an installed backend (Keras writes
    ``tensorflow`` there on first use, installed or not); Keras's own default,
    TensorFlow, if installed; else the first installed of `BACKENDS`. So after
    ``pip install 'anykeras[torch]'``, ``anykeras train`` runs on PyTorch.
    """
    chosen = os.environ.get("KERAS_BACKEND")
    if chosen:
        return chosen
    installed = [name for name in BACKENDS if importlib.util.find_spec(name) is not None]
    configured = _configured_backend()
    for candidate in (configured, "tensorflow", *installed):
        if candidate in installed:
            return candidate
    return "jax"


def _configured_backend() -> str | None:
    """The ``backend`` of Keras's config file, if it has a readable one."""
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    try:
        backend = json.loads((home / "keras.json").read_text(encoding="utf-8")).get("backend")
    except (OSError, ValueError, AttributeError):
        return None
    return backend if isinstance(backend, str) else None
