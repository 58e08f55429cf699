"""``anykeras tutorial``: write the tutorial's notebook and the examples it runs into a folder.

The wheel ships them under ``anykeras/_tutorial/`` (pyproject.toml's
``force-include``), so ``pip install "anykeras[torch,plot]"`` is all a reader needs; in
a checkout they are read from ``docs/`` and ``examples/`` instead. Nothing is replaced
without ``--overwrite``, and nothing is written if any file is in the way.

Example:
>>> sorted(TUTORIAL_FILES)[:2]
['examples/README.md', 'examples/housing_regression.py']
"""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anykeras.cli.checks import UsageError

if TYPE_CHECKING:  # importlib.resources.abc is Python 3.11+; this name, 3.10+
    from importlib.abc import Traversable

#: What ``anykeras tutorial`` writes (its name in the folder), and where a checkout keeps it.
TUTORIAL_FILES = {
    "tutorial.ipynb": "docs/tutorial.ipynb",
    "tutorial.fa.ipynb": "docs/tutorial.fa.ipynb",
    **{
        f"examples/{name}": f"examples/{name}"
        for name in (
            "README.md",
            "housing_regression.py",
            "imdb_binary.py",
            "mnist_dense.py",
            "portable_keras_io.py",
            "reuters_multiclass.py",
        )
    },
}
PACKAGED = "_tutorial"  # the folder inside the installed package


def source(name: str) -> Traversable:
    """The shipped copy of ``name`` (a key of `TUTORIAL_FILES`), else the checkout's file."""
    shipped = resources.files("anykeras") / PACKAGED / name
    if shipped.is_file():
        return shipped
    checkout = Path(__file__).resolve().parents[3] / TUTORIAL_FILES[name]  # src/anykeras/cli
    if not checkout.is_file():
        raise UsageError(
            f"this installation of anykeras has no {name} (expected {shipped} or {checkout}): "
            "reinstall it from a wheel, or run from a checkout"
        )
    return checkout


def write_tutorial(out: Path, overwrite: bool = False) -> list[Path]:
    """Copy every file of `TUTORIAL_FILES` into ``out``; returns the paths written.

    Raises:
        UsageError: A file is already there (and not ``overwrite``), or ``out`` is a file.
    """
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out must be a folder; {out} is a file")
    targets = {name: out / name for name in TUTORIAL_FILES}
    present = [str(path) for path in targets.values() if path.exists()]
    if present and not overwrite:
        many = len(present) > 1
        what = f" and {len(present) - 1} more already exist" if many else " exists"
        raise UsageError(
            f"{present[0]}{what}; pass --overwrite to replace {'them' if many else 'it'}, "
            "or --out another folder"
        )
    sources = {name: source(name) for name in TUTORIAL_FILES}  # all found before any write
    for name, path in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(sources[name].read_bytes())
    return list(targets.values())


def cmd_tutorial(args: argparse.Namespace) -> dict[str, Any]:
    """Write the tutorial into ``--out``; the result names the files and the next step."""
    written = write_tutorial(args.out, overwrite=args.overwrite)
    notebook = args.out / "tutorial.ipynb"
    return {
        "files": [str(path) for path in written],
        "next": f"pip install jupyterlab, then: jupyter lab {notebook}",
    }
