"""Library code stays backend-agnostic: only anykeras/loops may import a backend."""

from __future__ import annotations

import ast
from pathlib import Path

import anykeras

BACKEND_MODULES = {"tensorflow", "torch", "jax", "jaxlib"}
PACKAGE = Path(anykeras.__file__).parent


def backend_imports(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import of a backend module in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(node.lineno, n) for n in names if n.split(".")[0] in BACKEND_MODULES]
    return found


def test_the_checker_catches_every_import_form():
    source = "import torch\nimport jax.numpy as jnp\nfrom tensorflow import nn\nimport numpy\n"
    assert backend_imports(source) == [(1, "torch"), (2, "jax.numpy"), (3, "tensorflow")]
    assert backend_imports("from . import torch\nimport torchvision_like\n") == []


def test_no_backend_import_outside_loops():
    files = sorted(PACKAGE.rglob("*.py"))
    assert PACKAGE / "spec.py" in files, f"expected to walk the package, found {files}"
    offenders = [
        f"{path.relative_to(PACKAGE)}:{line}: import {module}"
        for path in files
        if "loops" not in path.relative_to(PACKAGE).parts
        for line, module in backend_imports(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
