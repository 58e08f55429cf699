"""The pytest plugin: anykeras's model checks as fixtures, and a ``backends`` marker.

Installed with anykeras (the ``pytest11`` entry point ``anykeras``), it gives every
test session:

- ``keras_backend``: the name of the backend the tests run on;
- ``assert_same_model``: `anykeras.testing.assert_same_model`;
- ``check_portable``: `anykeras.testing.check_portable`;
- ``assert_save_reload``: `anykeras.testing.assert_save_reload`, with the file put in
  the test's temporary folder unless a ``path`` is given;
- the marker ``@pytest.mark.backends("jax", "torch")``: the test runs on those
  backends only and is skipped, saying so, on the others.

It imports Keras only inside the fixtures (and, once the tests are collected, to skip
marked ones), never when pytest starts: the backend is chosen by ``KERAS_BACKEND`` (or
a ``conftest.py`` that sets it) before Keras starts.
Without the entry point (anykeras not installed), load it with ``-p
anykeras.testing.plugin``.

Example (a test file)::

    @pytest.mark.backends("jax", "tensorflow")
    def test_my_model(assert_save_reload, keras_backend):
        model = my_models.tiny()
        assert_save_reload(model, x)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from anykeras.spec import BACKENDS

__all__ = ["current_backend", "pytest_collection_modifyitems", "pytest_configure"]

MARKER = "backends"


def current_backend() -> str:
    """The backend Keras runs on, or will run on: Keras is imported to ask it."""
    import keras

    return str(keras.backend.backend())


def pytest_configure(config: pytest.Config) -> None:
    """Declare the ``backends`` marker (so ``--strict-markers`` accepts it)."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*names): run only under these Keras backends ({', '.join(BACKENDS)}); "
        "skipped under the others",
    )


def _backends(item: pytest.Item) -> list[str]:
    names = [name for mark in item.iter_markers(MARKER) for name in mark.args]
    unknown = sorted(set(names) - set(BACKENDS))
    if unknown:
        raise pytest.UsageError(
            f"{item.nodeid}: backends() takes names from {BACKENDS}. Received: {unknown}"
        )
    return names


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests with ``backends(...)`` for another backend as skipped, saying why.

    Keras is imported here, after every ``conftest.py`` has run, and only if a test
    carries the marker.
    """
    marked = [(item, names) for item in items if (names := _backends(item))]
    if not marked:
        return
    backend = current_backend()
    for item, names in marked:
        if backend not in names:
            reason = f"runs on {', '.join(names)} only; this session runs on {backend}"
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def keras_backend() -> str:
    """The name of the Keras backend this test session runs on."""
    return current_backend()


@pytest.fixture
def assert_same_model() -> Callable[..., Any]:
    """`anykeras.testing.assert_same_model`."""
    from anykeras.testing.same_model import assert_same_model as check

    return check


@pytest.fixture
def check_portable() -> Callable[..., Any]:
    """`anykeras.testing.check_portable`."""
    from anykeras.testing.portable import check_portable as check

    return check


@pytest.fixture
def assert_save_reload(tmp_path: Path) -> Callable[..., Any]:
    """`anykeras.testing.assert_save_reload`; ``path`` defaults to a new file in ``tmp_path``.

    ``assert_save_reload(model, x, path=None, atol=1e-6)`` returns the reloaded model.
    """
    from anykeras.testing.save_reload import assert_save_reload as check

    count = itertools.count()

    def save_reload(model: Any, x: Any, path: str | Path | None = None, atol: float = 1e-6):
        path = path if path is not None else tmp_path / f"reloaded_{next(count)}.keras"
        return check(model, x, path, atol=atol)

    return save_reload
