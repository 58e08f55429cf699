"""Collection rules for the whole repository (tests/conftest.py holds the fixtures).

The doctests of ``src/anykeras`` run in every backend's session. ``anykeras/loops/
<backend>.py`` imports its backend, so only the running backend's module (chosen by
``KERAS_BACKEND``, as Keras does, default TensorFlow) is collected.
"""

import os

_RUNNING = os.environ.get("KERAS_BACKEND", "tensorflow")

collect_ignore_glob = [
    f"src/anykeras/loops/{backend}.py"
    for backend in ("jax", "torch", "tensorflow")
    if backend != _RUNNING
]
