"""The public API: every name in __all__ resolves, lazily, to the module that defines it."""

from __future__ import annotations

import subprocess
import sys

import pytest

import anykeras


def test_all_names_resolve_and_nothing_else_is_exported():
    assert sorted(anykeras.__all__) == sorted(["__version__", *anykeras._EXPORTS])
    for name in anykeras.__all__:
        assert getattr(anykeras, name) is not None
    assert anykeras.build.__module__ == "anykeras.builders"
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = anykeras.nope


def test_importing_the_package_does_not_import_keras():
    # The CLI must be able to set KERAS_BACKEND after `import anykeras.cli`.
    code = "import sys, anykeras, anykeras.cli, anykeras.spec; print('keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_keras_free_modules_repeat_the_library_constants_exactly():
    # cli.py and report.py must not import Keras (the CLI sets the backend first; the
    # report needs numpy only), so they spell these out; they must not drift.
    from anykeras import STYLES, cli, report
    from anykeras.recipes import RECIPES

    assert cli.STYLES == report.STYLES == STYLES
    assert cli.BACKENDS == report.BACKENDS == ("jax", "torch", "tensorflow")
    assert set(cli.DATASETS) == set(RECIPES)
