"""Collection rules for the whole repository (tests/conftest.py holds the fixtures).

The doctests of ``src/anykeras`` run in every backend's session, but each session's
venv holds one backend: ``anykeras/loops/<backend>.py`` imports its backend, so it
is only collected where that backend is installed.
"""

import importlib.util

collect_ignore_glob = [
    f"src/anykeras/loops/{backend}.py"
    for backend in ("jax", "torch", "tensorflow")
    if importlib.util.find_spec(backend) is None
]
