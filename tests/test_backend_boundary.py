"""Library code stays backend-agnostic: only anykeras/loops may import a backend.

The check is anykeras's own public lint, `anykeras.testing.find_backend_code` (which
tests/test_testing_kit.py proves catches every import form and NumPy inside ``call``).
"""

from __future__ import annotations

from pathlib import Path

import anykeras
from anykeras.testing import assert_backend_agnostic, find_backend_code

PACKAGE = Path(anykeras.__file__).parent
LOOPS = f"{PACKAGE.as_posix()}/loops/*"  # the per-backend training steps


def test_the_checker_catches_every_import_form(tmp_path):
    source = tmp_path / "source.py"
    source.write_text(
        "import torch\nimport jax.numpy as jnp\nfrom tensorflow import nn\nimport numpy\n"
    )
    found = [(f.line, f.code, f.message.split(":")[0]) for f in find_backend_code([source])]
    assert found == [
        (1, "backend-import", "imports torch"),
        (2, "backend-import", "imports jax.numpy"),
        (3, "backend-import", "imports tensorflow"),
    ]
    source.write_text("from . import torch\nimport torchvision_like\n")
    assert find_backend_code([source]) == []


def test_no_backend_import_outside_loops():
    files = assert_backend_agnostic([PACKAGE], allow=[LOOPS])  # nor NumPy inside `call`
    assert PACKAGE / "spec.py" in files, f"expected to walk the package, found {files}"
    # The allow-list is what lets the loops through: they do import their backends.
    backend_files = {f.path.name for f in find_backend_code([PACKAGE / "loops"])}
    assert backend_files >= {"jax.py", "torch.py", "tensorflow.py"}
