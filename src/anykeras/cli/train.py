"""``anykeras train`` and ``anykeras sweep``: options mapped to a `RunConfig`, then run.

Each option of ``train`` is the `RunConfig` field of the same name (``--dataset`` is
``recipe``), so every check and every conflict between options is the config's: it
reaches the user as one line, exit status 2, before any data is read.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from anykeras.cli.checks import UsageError

#: ``train``'s options that are `RunConfig` fields of the same name.
RUN_FIELDS = (
    "quick", "style", "route", "devices", "processes", "epochs", "retrain_epochs",
    "batch_size", "learning_rate", "seed", "early_stopping", "checkpoint", "tensorboard",
    "batch_losses", "backup", "overwrite", "verbose",
)  # fmt: skip


def run_config(args: argparse.Namespace, fields: tuple[str, ...] = RUN_FIELDS) -> Any:
    """The `RunConfig` of the command line's options; a conflict is a `UsageError`."""
    from anykeras.training.run_config import RunConfig

    values = {name: getattr(args, name) for name in fields if hasattr(args, name)}
    try:
        return RunConfig(recipe=args.dataset, **values)
    except (TypeError, ValueError) as error:
        raise UsageError(as_options(str(error))) from None


def as_options(message: str) -> str:
    """A config's message in the command line's words: ``batch_size=3`` as ``--batch-size 3``.

    Example:
    >>> as_options("Received: processes=2, checkpoint=True")
    'Received: --processes 2, --checkpoint'
    """

    def option(match: re.Match[str]) -> str:
        name, value = match.group(1).replace("_", "-"), match.group(2)
        flag = "--dataset" if name == "recipe" else f"--{name}"
        return flag if value == "True" else f"{flag} {value.strip(chr(39))}"

    fields = "|".join((*RUN_FIELDS, "recipe"))
    return re.sub(rf"\b({fields})=('[^']*'|[^,\s)]+)", option, message)


def train(args: argparse.Namespace) -> dict[str, Any]:
    """`anykeras.train_and_evaluate` of the options' `RunConfig`, into ``--out``."""
    from anykeras.training.run_folder import check_writable_folder

    check_writable_folder(args.out, args.overwrite)  # before Keras loads: a refusal is quick
    from anykeras.run import train_and_evaluate
    from anykeras.training.plots import plotting_available
    from anykeras.training.run_conflicts import RunConfigError

    config = run_config(args)
    if not plotting_available():
        print("anykeras: matplotlib is not installed, so no curves: pip install 'anykeras[plot]'")
    try:
        result = train_and_evaluate(config, args.out)
    except RunConfigError as error:  # raised before any data is read
        raise UsageError(as_options(str(error))) from None
    files = sorted(str(path) for path in Path(args.out).iterdir())  # where the files went
    return {**result.metrics(), **result.info, "out": str(args.out), "files": files}


def sweep(args: argparse.Namespace) -> dict[str, Any]:
    """The course's further experiments: every variant checked, then the folder, then trained."""
    out: Path = args.out
    check_output_folder(out)  # before Keras loads: a refusal is quick
    from anykeras.saving import save_atomically, write_json_atomically
    from anykeras.training.plots import plot_curves
    from anykeras.training.sweep import run_sweep, sweep_configs, sweep_table

    base = run_config(args, ("quick", "style", "epochs", "verbose"))
    variants = sweep_configs(base.replace(route="plain"))
    rows = run_sweep(variants)
    table = sweep_table(rows)
    save_atomically(out / "sweep.md", lambda tmp: tmp.write_text(table + "\n", encoding="utf-8"))
    write_json_atomically(out / "sweep.json", rows)
    curves = {row["name"]: row["val_accuracy_curve"] for row in rows}
    plot_curves(curves, out / "sweep.png", "Further experiments", "Validation accuracy")
    print(table)
    files = [str(out / name) for name in ("sweep.md", "sweep.json", "sweep.png")]
    return {"rows": len(rows), "out": str(out), "files": [f for f in files if Path(f).is_file()]}


def check_output_folder(out: Path) -> None:
    """Raise `UsageError` unless files can be written into the folder ``out``.

    A symbolic link is followed to its folder; a dangling one is refused.
    """
    from anykeras.training.run_folder import RunFolderError, follow_link

    try:
        out = follow_link(out)
    except RunFolderError as error:
        raise UsageError(str(error)) from None
    parent = out
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        where = "is a file" if parent == out else f"lies below {parent}, which is a file"
        raise UsageError(f"--out {out} {where}; give a folder")
