"""One nox session per Keras backend, for any project's ``noxfile.py``.

Each ``test-<backend>`` session gets its own virtual environment with that backend
alone, so a test that passes there proves the code needs nothing from the other two,
and sets ``KERAS_BACKEND`` before pytest starts. In a project's ``noxfile.py``::

    import nox
    from anykeras.testing import nox_sessions

    nox_sessions(nox, install=("-e", ".[test]", "{backend_package}"))

then ``nox -s test-jax test-torch test-tensorflow`` (or ``nox -t test``), with pytest
options after ``--``: ``nox -s test-torch -- -x -k portable``.

Example:
>>> class FakeNox:  # records what nox would get
...     def session(self, **options):
...         return lambda function: options["name"]
>>> sorted(nox_sessions(FakeNox()))
['test-jax', 'test-tensorflow', 'test-torch']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from anykeras.spec import BACKENDS, check_choice

__all__ = ["BACKEND_PACKAGES", "nox_sessions"]

#: What to pip-install for each backend (CPU builds where there is a choice).
BACKEND_PACKAGES = {"jax": "jax[cpu]", "torch": "torch", "tensorflow": "tensorflow"}


def _arguments(install: Sequence[str] | Callable[[str], Sequence[str]], backend: str) -> list:
    if callable(install):
        return list(install(backend))
    package = BACKEND_PACKAGES[backend]
    return [arg.format(backend=backend, backend_package=package) for arg in install]


def nox_sessions(
    nox_module: Any,
    backends: Sequence[str] = BACKENDS,
    install: Sequence[str] | Callable[[str], Sequence[str]] = (".", "{backend_package}", "pytest"),
    pytest_args: Sequence[str] = (),
    python: str | Sequence[str] | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Define a ``test-<backend>`` nox session per backend (tagged ``test``).

    Args:
        nox_module: The ``nox`` module your noxfile imported.
        backends: The backends to make sessions for.
        install: ``session.install`` arguments; ``{backend}`` and ``{backend_package}``
            (``jax[cpu]``, ``torch``, ``tensorflow``) are filled in. Or a function of
            the backend name that returns the arguments.
        pytest_args: Arguments before the session's own (``session.posargs``).
        python: The sessions' Python version(s), as for ``nox.session``.
        env: More environment variables for pytest.

    Returns:
        Session name -> what ``nox.session`` returned, for each backend.
    """
    sessions = {}
    for backend in backends:
        check_choice("backends", backend, BACKENDS)
        sessions[f"test-{backend}"] = _make(nox_module, backend, install, pytest_args, python, env)
    return sessions


def _make(nox_module: Any, backend: str, install: Any, pytest_args: Any, python: Any, env: Any):
    run_env = {"KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}

    def test(session: Any) -> None:
        session.install(*_arguments(install, backend))
        session.run("pytest", *pytest_args, *session.posargs, env=run_env)

    test.__name__ = f"test_{backend}"
    test.__doc__ = f"Run the tests under the {backend} backend, in a venv that has only it."
    return nox_module.session(name=f"test-{backend}", python=python, tags=["test"])(test)
