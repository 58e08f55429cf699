"""Collection rules for the whole repository (tests/conftest.py holds the fixtures).

The doctests of ``src/anykeras`` run in every backend's session. ``anykeras/loops/
<backend>.py`` and ``anykeras/loops/distributed_<backend>.py`` import their backend, so
only the running backend's modules (chosen by ``KERAS_BACKEND``, as Keras does, default
TensorFlow) are collected.
"""

import os

_RUNNING = os.environ.get("KERAS_BACKEND", "tensorflow")

collect_ignore_glob = [
    f"src/anykeras/loops/{prefix}{backend}.py"
    for backend in ("jax", "torch", "tensorflow")
    if backend != _RUNNING
    for prefix in ("", "distributed_")
]
