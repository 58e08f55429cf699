"""Execute a notebook with a Jupyter kernel, cell by cell, and fail on the first error.

The ``docs`` nox session runs the tutorial's notebook this way, so the notebook a
student downloads is known to run in Jupyter, not only as Python: by default in quick
mode (``ANYKERAS_DOCS_QUICK=1``) on the backend named by ``KERAS_BACKEND`` (JAX if
unset), with a fresh kernel working in an empty temporary directory (the notebook
writes its figures there)::

    python scripts/run_notebook.py docs/tutorial.ipynb
    python scripts/run_notebook.py docs/tutorial.ipynb --real --output /tmp/run.ipynb
    python scripts/run_notebook.py docs/tutorial.ipynb --output docs/tutorial.ipynb

The last stores a quick run's outputs in the committed notebook (its metadata kept as
``scripts/make_notebook.py`` wrote it, so only the outputs change).

Needs ``nbclient``, ``nbformat`` and ``ipykernel`` (the docs session installs them).
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Run the notebook; write the executed copy with ``--output``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--real", action="store_true", help="use the real data sets")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument("--output", type=Path, help="write the executed notebook here")
    args = parser.parse_args(argv)

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    os.environ.setdefault("KERAS_BACKEND", "jax")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.pop("ANYKERAS_DOCS_QUICK", None)
    if not args.real:
        os.environ["ANYKERAS_DOCS_QUICK"] = "1"

    notebook = nbformat.read(args.notebook, as_version=4)
    nbformat.validate(notebook)
    metadata = copy.deepcopy(notebook.metadata)  # the kernel adds its versions to it
    workdir = Path(tempfile.mkdtemp(prefix="run-notebook-"))
    client = NotebookClient(
        notebook,
        timeout=args.timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
        record_timing=False,  # no timestamps in a committed notebook
    )
    started = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as error:
        print(f"{args.notebook}: a cell failed:\n{error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.output is not None:
        notebook.metadata = metadata
        nbformat.write(notebook, args.output)
    code_cells = sum(cell.cell_type == "code" for cell in notebook.cells)
    print(
        f"{args.notebook}: {code_cells} code cells ran on {os.environ['KERAS_BACKEND']} "
        f"({'real' if args.real else 'quick'} data) in {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
