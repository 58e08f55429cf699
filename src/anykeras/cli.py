"""`anykeras`: train, evaluate, predict and sweep from the command line.

The backend is chosen here, before Keras is imported (``--backend`` or the
``KERAS_BACKEND`` variable); the work itself is done by the library.

    anykeras train --dataset imdb --style subclassed --backend torch --epochs 4 --out runs/x
    anykeras predict --model runs/x/model.keras --text "A moving, beautifully acted film."
    anykeras evaluate --model runs/x/model.keras --dataset imdb
    anykeras sweep --dataset imdb --epochs 20 --out runs/sweep
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BACKENDS = ("jax", "torch", "tensorflow")
DATASETS = ("imdb", "reuters", "housing", "mnist")
STYLES = ("sequential", "functional", "subclassed")  # as anykeras.STYLES, without Keras
PATHS = ("plain", "compact", "sparse")  # as anykeras.paths.PATHS, without Keras


class UsageError(Exception):
    """A bad command line: reported in one line, exit status 2."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, received {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `anykeras` command."""
    parser = argparse.ArgumentParser(
        prog="anykeras", description="The course's Keras 3 workflow, on any backend."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--backend",
            choices=BACKENDS,
            default=os.environ.get("KERAS_BACKEND") or "jax",
            help="Keras backend (default: $KERAS_BACKEND, else jax)",
        )
        command.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1)

    train = sub.add_parser("train", help="validate, retrain on all training data, test")
    common(train)
    train.add_argument("--dataset", choices=DATASETS, default="imdb")
    train.add_argument("--style", choices=STYLES, default="functional")
    train.add_argument("--epochs", type=_positive_int, help="epochs of the validation run")
    train.add_argument(
        "--retrain-epochs",
        type=_positive_int,
        help="epochs of the final run (default: the epoch with the lowest val_loss)",
    )
    train.add_argument("--batch-size", type=_positive_int)
    train.add_argument("--learning-rate", type=float)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", type=Path, required=True, help="output directory")
    train.add_argument("--quick", action="store_true", help="small synthetic data, few epochs")
    train.add_argument("--early-stopping", type=int, metavar="PATIENCE")
    train.add_argument("--checkpoint", action="store_true", help="keep the best model (val_loss)")
    train.add_argument("--backup", action="store_true", help="resume if interrupted")
    train.add_argument("--tensorboard", action="store_true", help="write TensorBoard logs")
    train.add_argument("--batch-losses", action="store_true", help="record every batch's loss")
    train.add_argument(
        "--path",
        choices=("auto", *PATHS),
        default="auto",
        help="how the data goes in: plain (float32 multi-hot, the course's code), compact "
        "(uint8 multi-hot), sparse (word ids); auto: the fastest that gives the same "
        "results on this backend (default)",
    )

    evaluate = sub.add_parser("evaluate", help="a saved model on a dataset's test split")
    common(evaluate)
    evaluate.add_argument("--model", type=Path, required=True)
    evaluate.add_argument("--dataset", choices=DATASETS, default="imdb")
    evaluate.add_argument("--quick", action="store_true")

    predict = sub.add_parser("predict", help="score raw review text with a saved IMDB model")
    common(predict)
    predict.add_argument("--model", type=Path, required=True)
    source = predict.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", action="append", help="a review (repeat for several)")
    source.add_argument("--file", type=Path, help="a text file, one review per line")

    sweep = sub.add_parser("sweep", help="the course's further experiments, as a table")
    common(sweep)
    sweep.add_argument("--dataset", choices=("imdb",), default="imdb")
    sweep.add_argument("--style", choices=STYLES, default="functional")
    sweep.add_argument("--epochs", type=_positive_int)
    sweep.add_argument("--out", type=Path, required=True)
    sweep.add_argument("--quick", action="store_true")
    return parser


def select_backend(backend: str) -> None:
    """Set ``KERAS_BACKEND`` before Keras is imported, or say clearly why not."""
    module = {"jax": "jax", "torch": "torch", "tensorflow": "tensorflow"}[backend]
    if importlib.util.find_spec(module) is None:
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


def _recipe(args: argparse.Namespace) -> Any:
    from anykeras.recipes import get_recipe, quick

    recipe = get_recipe(args.dataset)
    return quick(recipe) if args.quick else recipe


def _device() -> str:
    from anykeras.devices import current_device

    return current_device()


def _io_shapes(model: Any) -> tuple[tuple, tuple]:
    """``(input_shape, output_shape)`` of a Functional, Sequential or subclassed model."""
    spec = getattr(model, "spec", None)
    if spec is not None:  # anykeras.Classifier: the spec says
        return (None, *spec.input_shape), (None, spec.output_units)
    return tuple(model.input_shape), tuple(model.output_shape)


def cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    """Validation run, curves, retrain on all training data, test; files under ``--out``."""
    import keras

    from anykeras.callbacks import CallbackConfig, tensorboard_available
    from anykeras.files import save_atomically, write_json_atomically
    from anykeras.paths import choose_path
    from anykeras.plotting import plot_history
    from anykeras.recipes import train_and_evaluate

    recipe = _recipe(args)
    out: Path = args.out
    if args.tensorboard and not tensorboard_available():
        raise UsageError(
            "--tensorboard needs the tensorflow and tensorboard packages "
            "(pip install tensorflow tensorboard); they are not both installed here"
        )
    callbacks = CallbackConfig(
        early_stopping_patience=args.early_stopping,
        checkpoint_path=out / "checkpoint" / "best.keras" if args.checkpoint else None,
        backup_dir=out / "backup" if args.backup else None,
        csv_log=out / "log.csv",
        tensorboard_dir=out / "tensorboard" if args.tensorboard else None,
        batch_loss_log=out / "batch_losses.json" if args.batch_losses else None,
    )
    changes = {
        key: value
        for key, value in {
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "learning_rate": args.learning_rate,
        }.items()
        if value is not None
    }
    config = recipe.config.replace(
        **changes, seed=args.seed, verbose=args.verbose, callbacks=callbacks
    )
    recipe = recipe.replace(config=config)
    if args.retrain_epochs is not None:
        recipe = recipe.replace(retrain_epochs=args.retrain_epochs)

    try:
        path, reason = choose_path(recipe.words, args.path, checkpoint=args.checkpoint)
    except ValueError as error:
        raise UsageError(f"--path {args.path}: {error}") from None

    started = time.perf_counter()
    print(
        f"anykeras: {recipe.name} ({'synthetic' if recipe.synthetic else 'real'} data), "
        f"{args.style} model, {keras.backend.backend()} backend on {_device()}, "
        f"{path} path ({reason})"
    )
    result = train_and_evaluate(recipe, args.style, path=path)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomically(out / "history.json", result.history)
    plot_history(result.history, out)
    save_atomically(out / "model.keras", result.model.save)
    metrics = {f"test_{name}": value for name, value in result.test_metrics.items()}
    metrics.update(
        dataset=recipe.name,
        synthetic=recipe.synthetic,
        style=args.style,
        path=path,
        path_reason=reason,
        backend=keras.backend.backend(),
        device=_device(),
        validation_epochs=len(result.history["loss"]),
        best_epoch=result.best_epoch,
        retrain_epochs=result.best_epoch,
        params=result.model.count_params(),
        seconds=round(time.perf_counter() - started, 2),
    )
    write_json_atomically(out / "metrics.json", metrics)
    return metrics


def _load_model(path: Path) -> Any:
    from anykeras.saving import load_model

    if not path.is_file():
        raise UsageError(f"--model must be a saved .keras file; {path} does not exist")
    try:
        return load_model(path)
    except Exception as error:  # Keras raises several types for a bad file
        raise UsageError(f"could not load a Keras model from {path}: {error}") from None


def cmd_evaluate(args: argparse.Namespace) -> dict[str, Any]:
    """Evaluate a saved model on the dataset's test split."""
    from anykeras.training import evaluate

    model = _load_model(args.model)
    recipe = _recipe(args)
    expected = (None, *recipe.spec.input_shape)
    if _io_shapes(model)[0] != expected:
        raise UsageError(
            f"the model takes inputs of shape {_io_shapes(model)[0]}, but {recipe.name} "
            f"gives {expected}"
        )
    # uint8 multi-hot rows for word data: the same values as float32, a quarter the bytes.
    data = recipe.dataset("compact" if recipe.words else "plain")
    metrics = {f"test_{k}": v for k, v in evaluate(model, *data.test).items()}
    return {"model": str(args.model), "dataset": recipe.name, **metrics}


def cmd_predict(args: argparse.Namespace) -> dict[str, Any]:
    """Score raw reviews with a saved IMDB model."""
    from anykeras.data import encoding, imdb

    model = _load_model(args.model)
    shape, output_shape = _io_shapes(model)
    if len(shape) != 2 or output_shape != (None, 1):
        raise UsageError(
            "predict needs a binary IMDB model (multi-hot input, one sigmoid output); "
            f"{args.model} takes {shape} and gives {output_shape}"
        )
    if args.file is not None:
        if not args.file.is_file():
            raise UsageError(f"--file {args.file} does not exist")
        texts = [
            line for line in args.file.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
    else:
        texts = args.text
    num_words = shape[1]
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
    from anykeras.experiments import run_sweep, sweep_table
    from anykeras.files import write_json_atomically
    from anykeras.plotting import plot_curves

    recipe = _recipe(args)
    if args.epochs is not None:
        recipe = recipe.replace(config=recipe.config.replace(epochs=args.epochs))
    # The sweep changes the model, so it keeps the dense model: on uint8 multi-hot
    # rows, the same values as float32 (bit for bit the same results), a quarter the bytes.
    print("anykeras: sweep on the compact path (uint8 multi-hot rows)")
    rows = run_sweep(recipe, recipe.dataset("compact"), args.style)
    table = sweep_table(rows)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.md").write_text(table + "\n", encoding="utf-8")
    write_json_atomically(out / "sweep.json", rows)
    curves = {row["name"]: row["val_accuracy_curve"] for row in rows}
    plot_curves(curves, out / "sweep.png", "Further experiments", "Validation accuracy")
    print(table)
    return {"rows": len(rows), "out": str(out)}


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
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with status 2 and one message on a usage error
    try:
        select_backend(args.backend)
        from anykeras.data import DataNotFoundError, UntrustedFileError

        try:
            result = COMMANDS[args.command](args)
        except (DataNotFoundError, UntrustedFileError) as error:
            print(f"anykeras: error: {error}", file=sys.stderr)
            return 1
    except UsageError as error:
        print(f"anykeras {args.command}: error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
