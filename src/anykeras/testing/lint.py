r"""A backend-agnostic lint: find code that ties a Keras 3 model to one backend.

Two mistakes make a model run on one backend only, and both are visible in the
source, so this reads files with `ast` (it imports nothing it checks):

- **backend imports**: ``import torch``, ``import jax.numpy as jnp``, ``from
  tensorflow import nn``, ``importlib.import_module("torch")``... A layer that calls
  ``tf.`` or ``torch.`` ops runs on that backend only; `keras.ops` has the same
  operations for all three.
- **NumPy on tensors inside ``call``**: ``np.mean(x)`` (or ``x.numpy()``) in a
  layer's ``call`` needs concrete values, but under JAX tracing (and in a TensorFlow
  graph, or on a GPU) the inputs are symbolic; use ``keras.ops.mean``.

Files (or lines ending in ``# anykeras: allow``) may be allowed to import a backend,
as anykeras allows its per-backend training loops. From the command line::

    python -m anykeras.testing.lint src/ --allow "*/loops/*"

exits 1 and prints one line per finding (``path:line:col: code message``).

Example:
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "layer.py"
>>> _ = path.write_text(
...     "import numpy as np\n"
...     "class Norm:\n"
...     "    def call(self, x):\n"
...     "        return x / np.sqrt(np.sum(x * x))\n"
... )
>>> for finding in find_backend_code([path]):
...     print(finding.line, finding.code, finding.message.split(":")[0])
4 numpy-in-call np.sqrt(...) in Norm.call
4 numpy-in-call np.sum(...) in Norm.call
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import fnmatch
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "BACKEND_MODULES",
    "Finding",
    "assert_backend_agnostic",
    "find_backend_code",
    "main",
    "python_files",
]

#: Top-level modules that belong to one backend.
BACKEND_MODULES = frozenset({"jax", "jaxlib", "torch", "tensorflow"})
ALLOW_COMMENT = "# anykeras: allow"
_SKIP_DIRS = {"__pycache__", "site-packages", "node_modules", "venv"}
_IMPORTERS = {"__import__", "import_module"}


@dataclasses.dataclass(frozen=True)
class Finding:
    """One place where code depends on a backend.

    Attributes:
        path: The file.
        line: Line number (1-based).
        col: Column (1-based, as ruff and flake8 print it).
        code: ``"backend-import"``, ``"numpy-in-call"``, ``"numpy-method-in-call"``
            or ``"syntax-error"``.
        message: What is wrong and what to use instead.
    """

    path: Path
    line: int
    col: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.code} {self.message}"


def python_files(paths: Iterable[str | Path]) -> list[Path]:
    """The ``.py`` files in ``paths`` (folders searched, hidden and venv folders not)."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            for file in sorted(path.rglob("*.py")):
                parts = file.relative_to(path).parts[:-1]
                if not any(p.startswith(".") or p in _SKIP_DIRS for p in parts):
                    files.append(file)
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"expected Python files or folders; {path} does not exist")
    return files


def _imported(node: ast.AST) -> list[str]:
    """Modules that ``node`` imports (any form), as written."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        return [node.module] if node.level == 0 and node.module else []
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name in _IMPORTERS and isinstance(node.args[0].value, str):
            return [node.args[0].value]
    return []


def _backend_imports(tree: ast.AST, modules: frozenset[str]) -> Iterator[tuple[ast.AST, str]]:
    for node in ast.walk(tree):
        for module in _imported(node):
            top = module.split(".", maxsplit=1)[0]
            if top in modules:
                yield (
                    node,
                    (
                        f"imports {module}: a backend; use keras.ops (or keras.random, "
                        "keras.layers) instead"
                    ),
                )


def _numpy_names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(names bound to the numpy module, names of functions imported from it)."""
    modules: set[str] = set()
    functions: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "numpy":
                    modules.add(alias.asname or "numpy")
        elif isinstance(node, ast.ImportFrom) and node.module == "numpy" and node.level == 0:
            functions.update(alias.asname or alias.name for alias in node.names)
    return modules, functions


def _dotted(node: ast.AST) -> list[str]:
    """``np.linalg.norm`` -> ["np", "linalg", "norm"]; [] if not a plain dotted name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else []


def _keras_equivalent(parts: list[str]) -> str:
    if "random" in parts:
        return f"keras.random.{parts[-1]} with a keras.random.SeedGenerator"
    if parts[-1] in ("array", "asarray"):
        return "keras.ops.convert_to_tensor"
    return f"keras.ops.{parts[-1]}"


def _numpy_in_call(tree: ast.AST) -> Iterator[tuple[ast.AST, str, str]]:
    modules, functions = _numpy_names(tree)
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        for method in cls.body:
            if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if method.name != "call":
                continue
            where = f"{cls.name}.call"
            for node in (n for n in ast.walk(method) if isinstance(n, ast.Call)):
                parts = _dotted(node.func)
                if parts and (parts[0] in modules or (len(parts) == 1 and parts[0] in functions)):
                    name = ".".join(parts)
                    yield (
                        node,
                        "numpy-in-call",
                        (
                            f"{name}(...) in {where}: NumPy needs concrete values, but under JAX "
                            f"tracing the inputs are symbolic; use {_keras_equivalent(parts)}"
                        ),
                    )
                elif parts and parts[-1] == "numpy" and len(parts) > 1 and not node.args:
                    yield (
                        node,
                        "numpy-method-in-call",
                        (
                            f"{'.'.join(parts)}() in {where}: a traced tensor has no values; "
                            "keep it a tensor and use keras.ops"
                        ),
                    )


def _allowed(path: Path, allow: Sequence[str]) -> bool:
    posix = path.as_posix()
    return any(fnmatch.fnmatch(posix, pattern) for pattern in allow)


def _check_file(path: Path, allow: Sequence[str], modules: frozenset[str]) -> list[Finding]:
    source = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as error:
        return [Finding(path, error.lineno or 0, error.offset or 0, "syntax-error", str(error.msg))]
    found: list[tuple[Any, str, str]] = list(_numpy_in_call(tree))
    if not _allowed(path, allow):
        found += [(node, "backend-import", text) for node, text in _backend_imports(tree, modules)]
    lines = source.splitlines()
    return [
        Finding(path, node.lineno, node.col_offset + 1, code, message)
        for node, code, message in found
        if not lines[node.lineno - 1].rstrip().endswith(ALLOW_COMMENT)
    ]


def find_backend_code(
    paths: Iterable[str | Path],
    allow: Sequence[str] = (),
    modules: Iterable[str] = BACKEND_MODULES,
) -> list[Finding]:
    """Every backend import and NumPy call inside ``call`` in ``paths``.

    Args:
        paths: Python files, or folders to search for them.
        allow: Glob patterns (``"*/loops/*"``) of files that may import a backend.
        modules: The top-level module names that count as a backend.

    Returns:
        The findings, by file and line.
    """
    modules = frozenset(modules)
    findings = [f for path in python_files(paths) for f in _check_file(path, allow, modules)]
    return sorted(findings, key=lambda f: (str(f.path), f.line, f.col))


def assert_backend_agnostic(paths: Iterable[str | Path], allow: Sequence[str] = ()) -> list[Path]:
    """Raise `AssertionError`, one line per finding, if `find_backend_code` finds any.

    Returns:
        The files checked (so a test can check it looked where it meant to).
    """
    paths = list(paths)
    files = python_files(paths)
    findings = find_backend_code(files, allow)
    if findings:
        lines = "\n".join(map(str, findings))
        raise AssertionError(f"{len(findings)} place(s) tie the code to one backend:\n{lines}")
    return files


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m anykeras.testing.lint PATH... [--allow GLOB]``: 1 if anything is found."""
    parser = argparse.ArgumentParser(
        prog="python -m anykeras.testing.lint",
        description="Find backend imports and NumPy calls inside call() in Python files.",
    )
    parser.add_argument("paths", nargs="+", type=Path, help="files or folders")
    parser.add_argument("--allow", action="append", default=[], metavar="GLOB",
                        help="files that may import a backend (repeatable)")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        files = python_files(args.paths)
    except FileNotFoundError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    findings = find_backend_code(files, args.allow)
    for finding in findings:
        print(finding)
    if not findings:
        print(f"{len(files)} file(s) checked: no backend-specific code found")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
