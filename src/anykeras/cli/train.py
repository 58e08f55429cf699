"""``anykeras train``: the command line's settings, handed to the one workflow."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from anykeras.cli.checks import UsageError


def train(args: argparse.Namespace, recipe: Any) -> dict[str, Any]:
    """Check every setting, say what will run, then `run_workflow` into ``--out``."""
    import keras

    from anykeras.speed import choose_route
    from anykeras.training import CallbackConfig
    from anykeras.training.callbacks import tensorboard_available
    from anykeras.training.devices import current_device
    from anykeras.training.plots import plotting_available
    from anykeras.training.recipes import train_and_evaluate
    from anykeras.training.run_folder import check_writable_folder

    out: Path = args.out
    check_writable_folder(out, args.overwrite)
    if args.tensorboard and not tensorboard_available():
        raise UsageError("--tensorboard needs: pip install tensorflow tensorboard")
    if args.devices > 1 or args.processes > 1:
        route, reason = _data_parallel_route(args, keras.backend.backend())
    else:
        try:
            route, reason = choose_route(recipe.words, args.route, checkpoint=args.checkpoint)
        except ValueError as error:
            raise UsageError(f"--route {args.route}: {error}") from None
    recipe = _with_arguments(recipe, args, CallbackConfig)
    if not plotting_available():
        print("anykeras: matplotlib is not installed, so no curves: pip install 'anykeras[plot]'")
    device = current_device()
    print(
        f"anykeras: {recipe.name} ({'synthetic' if recipe.synthetic else 'real'} data), "
        f"{args.style} model, {keras.backend.backend()} backend on {device}, "
        f"{route.name} route ({reason})"
    )
    info = {"dataset": recipe.name, "synthetic": recipe.synthetic, "style": args.style,
            "route_reason": reason, "backend": keras.backend.backend(), "device": device,
            "settings": _settings(args)}  # fmt: skip
    started = time.perf_counter()
    workflow = {"out": out, "overwrite": args.overwrite, "resume": args.backup, "info": info}
    result = train_and_evaluate(recipe, args.style, route=route, **workflow)
    return {**result.metrics(), **info, "seconds": round(time.perf_counter() - started, 2)}


#: The options whose callbacks cannot run inside data-parallel workers.
_ONE_DEVICE_ONLY = {
    "early_stopping": "--early-stopping",
    "checkpoint": "--checkpoint",
    "backup": "--backup",
    "tensorboard": "--tensorboard",
    "batch_losses": "--batch-losses",
}


def _data_parallel_route(args: argparse.Namespace, backend: str) -> tuple[Any, str]:
    """The route for ``--devices N`` or ``--processes N``, once the options allow it."""
    from anykeras.loops.distributed import check_engine
    from anykeras.loops.distributed_route import DataParallelRoute

    layout = f"--devices {args.devices}" if args.devices > 1 else f"--processes {args.processes}"
    try:
        engine = check_engine(backend, args.devices, args.processes)
    except ValueError as error:
        raise UsageError(f"{layout}: {error}") from None
    if args.route not in ("auto", "plain"):
        raise UsageError(
            f"{layout} trains the plain route (the faster routes run on one device); "
            f"drop --route {args.route}"
        )
    asked = {name: getattr(args, name) for name in _ONE_DEVICE_ONLY}  # 0 is a patience
    refused = [
        _ONE_DEVICE_ONLY[name] for name, v in asked.items() if v is not None and v is not False
    ]
    if refused:
        raise UsageError(
            f"{layout} trains in worker processes, where {', '.join(refused)} cannot run; "
            "drop them, or train on one device"
        )
    route = DataParallelRoute(devices=args.devices, processes=args.processes)
    return route, f"data-parallel on {route.replicas} replicas: {engine}"


def _with_arguments(recipe: Any, args: argparse.Namespace, callback_config: type) -> Any:
    """The recipe with the command line's settings."""
    callbacks = callback_config(
        early_stopping_patience=args.early_stopping,
        checkpoint_path=Path("best.keras") if args.checkpoint else None,  # into the stage
        tensorboard_dir=Path("tensorboard") if args.tensorboard else None,
        batch_loss_log=Path("batch_losses.json") if args.batch_losses else None,
    )
    changes = {"epochs": args.epochs, "batch_size": args.batch_size,
               "learning_rate": args.learning_rate}  # fmt: skip
    config = recipe.config.replace(
        **{k: v for k, v in changes.items() if v is not None},
        seed=args.seed,
        verbose=args.verbose,
        callbacks=callbacks,
    )
    recipe = recipe.replace(config=config)
    if args.retrain_epochs is not None:
        recipe = recipe.replace(retrain_epochs=args.retrain_epochs)
    return recipe


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """What a resumed run must share with the run it resumes (not where it writes)."""
    ignored = {"out", "overwrite", "backup", "verbose", "backend"}
    return {k: str(v) for k, v in sorted(vars(args).items()) if k not in ignored}
