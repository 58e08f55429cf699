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


def test_each_fact_is_defined_once_in_spec():
    """BACKENDS, STYLES, DATASETS and ROUTES: one definition, imported everywhere else."""
    import ast
    from pathlib import Path

    from anykeras import spec
    from anykeras.cli import parser as cli
    from anykeras.demo import report
    from anykeras.training.recipes import RECIPES

    assert cli.STYLES is report.STYLES is spec.STYLES is anykeras.STYLES
    assert cli.BACKENDS is report.BACKENDS is spec.BACKENDS == ("jax", "torch", "tensorflow")
    assert tuple(RECIPES) == spec.DATASETS
    facts = {"BACKENDS", "STYLES", "DATASETS", "ROUTES", "PATHS"}
    root = Path(anykeras.__file__).parent
    defined = [
        f"{path.relative_to(root)}:{node.lineno}"
        for path in root.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id in facts for t in node.targets)
    ]
    assert [d.split(":")[0] for d in defined] == ["spec.py"] * 4, defined


@pytest.mark.parametrize(
    ("old", "name", "new"),
    [
        ("anykeras.recipes", "get_recipe", "anykeras.training.recipes"),
        ("anykeras.callbacks", "CallbackConfig", "anykeras.training.callbacks"),
        ("anykeras.plotting", "plot_history", "anykeras.training.plots"),
        ("anykeras.experiments", "run_sweep", "anykeras.training.sweep"),
        ("anykeras.distributed", "data_parallel", "anykeras.loops.distributed"),
        ("anykeras.sparse", "unique_ids", "anykeras.data.encoding"),
        ("anykeras.sparse", "build_sparse", "anykeras.builders.sparse"),
        ("anykeras.ctc", "build_ctc_model", "anykeras.builders.ctc"),
        ("anykeras.report", "check", "anykeras.demo.report"),
        ("anykeras.testing.steps", "one_step", "anykeras.testing.optimizer_steps"),
        ("anykeras.testing.report", "PortabilityReport", "anykeras.testing.portability_report"),
    ],
)
def test_modules_of_the_old_layout_still_import_and_say_where_they_went(old, name, new):
    import importlib

    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=f"{old} moved to .*{new}"):
        module = importlib.import_module(old)
    assert getattr(module, name) is getattr(importlib.import_module(new), name)
    with pytest.raises(AttributeError, match=f"module '{old}' has no attribute 'nope'"):
        _ = module.nope


@pytest.mark.parametrize(
    ("old", "name", "new"),
    [
        ("anykeras.testing.steps", "quiet_random_layers", "anykeras.testing.optimizer_steps"),
        ("anykeras.testing.report", "PairResult", "anykeras.testing.portability_report"),
    ],
)
def test_the_renamed_testing_modules_work_in_import_statements(old, name, new):
    """``import old`` and ``from old import name``, as a user writes them, both warn."""
    import importlib

    expected = getattr(importlib.import_module(new), name)
    for statement, bound in (
        (f"import {old}", f"{old}.{name}"),
        (f"from {old} import {name}", name),
    ):
        sys.modules.pop(old, None)
        namespace: dict = {}
        with pytest.warns(DeprecationWarning, match=f"{old} moved to {new}; import from there"):
            exec(statement, namespace)
        assert eval(bound, namespace) is expected, statement
