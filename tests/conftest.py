"""Shared fixtures. The backend is chosen by KERAS_BACKEND (the nox session sets it)."""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest


def pytest_collection_finish(session):
    """Move everything imported so far out of the garbage collector's sight.

    The backends import tens of thousands of long-lived objects; without this, each
    garbage collection walks them all again (about 0.1 s a test with JAX loaded).
    """
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Each test starts with Keras's global name counters and seeds reset."""
    keras.backend.clear_session(free_memory=False)  # a full gc per test costs more than it saves
    keras.utils.set_random_seed(0)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real data sets (../shared/data), or a skip that says how to provide them."""
    value = os.environ.get("ANYKERAS_DATA_DIR")
    if not value:
        pytest.skip("real data sets not available: set ANYKERAS_DATA_DIR to ../shared/data")
    path = Path(value)
    if not path.is_dir():
        pytest.skip(f"ANYKERAS_DATA_DIR={value} is not a directory")
    return path


@pytest.fixture(scope="session")
def shared_file(data_dir: Path):
    """A function: ``shared_file("imdb/imdb.npz")`` is that real file, or a skip naming it."""

    def find(relative: str) -> Path:
        path = data_dir / relative
        if not path.is_file():
            pytest.skip(f"{relative} is not in ANYKERAS_DATA_DIR={data_dir}")
        return path

    return find


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded NumPy generator for small test inputs."""
    return np.random.default_rng(0)


@pytest.fixture
def assert_save_reload(tmp_path: Path):
    """A function: save a model, reload it with plain Keras, check it is the same model.

    ``assert_save_reload(model, x, path=None, atol=1e-6)`` is
    `anykeras.testing.assert_save_reload` (the file goes to ``path``, or a new file in
    ``tmp_path``): same class, weights, compiled state and predictions on ``x``; it
    returns the reloaded model for further checks.
    """
    from anykeras.testing.save_reload import assert_save_reload as check

    saved: list[Path] = []

    def save_reload(
        model: keras.Model, x: Any, path: str | Path | None = None, atol: float = 1e-6
    ) -> keras.Model:
        path = Path(path) if path is not None else tmp_path / f"reloaded_{len(saved)}.keras"
        saved.append(path)
        return check(model, x, path, atol=atol)

    return save_reload
