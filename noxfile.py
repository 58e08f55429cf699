"""Nox sessions: one test session per Keras backend, plus lint, demo, examples and bench.

Each backend session gets its own virtualenv holding only that backend, so a test
that passes under ``test-torch`` proves the code needs nothing from JAX or
TensorFlow. Pass pytest options after ``--``: ``nox -s test-jax -- -m "not slow"``.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "test-jax", "test-torch", "test-tensorflow"]

DEMO_ARTIFACTS = "demo-artifacts"
DEMO_REPORT = "demo-report"

BACKENDS = ("jax", "torch", "tensorflow")
ROOT = Path(__file__).parent


def _backend_env(backend: str) -> dict[str, str]:
    """Environment for a process that must run on ``backend`` and stay quiet."""
    env = {
        "KERAS_BACKEND": backend,
        # TensorFlow prints C++ start-up chatter on stderr; keep real warnings only.
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    # Real data sets are read from ANYKERAS_DATA_DIR; the sibling ../shared/data is
    # the default for a checkout that has one beside it.
    shared = ROOT.parent / "shared" / "data"
    if "ANYKERAS_DATA_DIR" not in os.environ and shared.is_dir():
        env["ANYKERAS_DATA_DIR"] = str(shared)
    return env


def _install(session: nox.Session, backend: str, *extras: str) -> None:
    """Install anykeras with one backend's extra (and any further extras)."""
    session.install("-e", f".[{','.join((backend, *extras))}]")


def _make_test_session(backend: str) -> None:
    @nox.session(name=f"test-{backend}", tags=["test"])
    def test(session: nox.Session) -> None:
        _install(session, backend, "test")
        if backend == "tensorflow":
            session.install("tensorboard")  # so the TensorBoard callback's test runs there
        # As the `anykeras` command starts (cli.select_backend): PyTorch's OpenMP threads
        # sleep between operations instead of spinning, which on 2 cores shared with the
        # tests' worker processes is several times faster.
        env = {"OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
        session.run("pytest", *session.posargs, env={**_backend_env(backend), **env})

    test.__doc__ = (
        f"Run the whole test suite under the {backend} backend "
        "(its own venv; `-- -m 'not slow'` skips the real-data runs)."
    )


for _backend in BACKENDS:
    _make_test_session(_backend)


@nox.session
def lint(session: nox.Session) -> None:
    """Lint and check formatting with ruff (`-- --fix` to apply fixes), then type-check.

    mypy reads its settings from pyproject.toml's [tool.mypy]; the package is installed
    with the JAX and test extras so that Keras, NumPy and pytest (anykeras.testing) resolve.
    """
    session.install("ruff==0.17.6")  # pinned: formatting changes between releases
    session.run("ruff", "check", ".", *session.posargs)
    session.run("ruff", "format", "--check", ".")
    session.install("-e", ".[jax,test]", "mypy==2.4.1")  # pinned: new checks each release
    session.run("mypy", "src/anykeras")


@nox.session(default=False)
def package(session: nox.Session) -> None:
    """Build the wheel and sdist, `twine check` them, and use the wheel from a fresh venv.

    `nox -s package -- --backend torch` checks the wheel with another backend's extra.
    """
    session.install("build>=1.2", "twine>=5")
    session.run("python", "scripts/check_package.py", *session.posargs)


@nox.session
@nox.parametrize("backend", BACKENDS)
def examples(session: nox.Session, backend: str) -> None:
    """Run every script in examples/ quickly (synthetic data) under each backend.

    `nox -s examples -- --style subclassed` passes options on to every script.
    """
    _install(session, backend, "plot")
    out = Path(session.create_tmp()) / "examples"
    for script in sorted(ROOT.glob("examples/*.py")):
        session.run(
            "python", str(script), "--quick", "--out", str(out / script.stem), *session.posargs,
            env=_backend_env(backend),
        )  # fmt: skip


def _sibling_python(session: nox.Session, name: str) -> str:
    """The interpreter of another session's virtualenv (nox keeps them side by side in .nox)."""
    bin_dir = "Scripts" if os.name == "nt" else "bin"
    python = ROOT / ".nox" / name / bin_dir / "python"
    if not python.exists():
        session.error(f"{python} is missing: run `nox -s {name}` first")
    return str(python)


def _make_demo_session(backend: str) -> None:
    @nox.session(name=f"demo-{backend}", default=False)
    def demo_backend(session: nox.Session) -> None:
        _install(session, backend, "plot")
        session.run(
            "python", "-m", "anykeras.demo", "train", "--artifacts", DEMO_ARTIFACTS,
            *session.posargs, env=_backend_env(backend),
        )  # fmt: skip

    demo_backend.__doc__ = (
        f"Demo step: train the three styles on {backend} and save them (run by `demo`)."
    )


for _backend in BACKENDS:
    _make_demo_session(_backend)


@nox.session(requires=[f"demo-{backend}" for backend in BACKENDS])
def demo(session: nox.Session) -> None:
    """The course's IMDB classifier: three styles x three backends, side by side.

    Trains every style on every backend from the same initial weights (the
    `demo-<backend>` sessions, each in its own venv), loads each backend's models
    under the other two, and writes demo-report/ (report.md, curves.png,
    summary.json). `nox -s demo -- --quick` runs on small synthetic data, offline.
    """
    for backend in BACKENDS:
        session.run(
            _sibling_python(session, f"demo-{backend}"), "-m", "anykeras.demo", "load",
            "--artifacts", DEMO_ARTIFACTS, *session.posargs,
            env=_backend_env(backend), external=True,
        )  # fmt: skip
    # The report needs numpy and matplotlib only: no backend, not even Keras's imports.
    session.install("numpy", "matplotlib")
    session.install("--no-deps", "-e", ".")
    session.run(
        "python", "-m", "anykeras.demo.report", DEMO_ARTIFACTS, DEMO_REPORT, *session.posargs
    )


@nox.session(default=False)
def docs(session: nox.Session) -> None:
    """Build the documentation site into site/, with every page's code run.

    Runs the tutorial and how-tos on the JAX backend and writes their outputs and
    figures into docs/generated/ (small synthetic data; `-- --real` uses the real data
    sets), checks that the Persian page and the notebooks are in sync with the
    tutorial, executes the tutorial's notebook with a Jupyter kernel, then
    `mkdocs build --strict`. Open site/index.html afterwards (its links are files).

    `-- --site` builds only the site, from the outputs already in docs/generated/: no
    backend installed, no code run (it fails at once if an output is missing).
    """
    env = {**_backend_env("jax"), "NO_MKDOCS_2_WARNING": "1"}
    if "--site" in session.posargs:
        # mkdocstrings reads the sources without importing them: Keras and NumPy (the
        # package's own dependencies) are all the pages need.
        session.install("-e", ".[docs]")
        session.run("python", "scripts/render_docs.py", "--check")
    else:
        # All three backends: the save-and-load how-to loads its files under each of them.
        session.install("-e", ".[all,docs]")
        data = ["--real"] if "--real" in session.posargs else []
        session.run("python", "scripts/render_docs.py", *data, env=env)
    session.run("python", "scripts/sync_translation.py", "--check")
    session.run("python", "scripts/make_notebook.py", "--check")
    if "--site" not in session.posargs:
        session.run("python", "scripts/run_notebook.py", "docs/tutorial.ipynb", env=env)
    session.run("mkdocs", "build", "--strict", "--site-dir", "site", env=env)


def _routes_options(posargs: list[str]) -> list[str]:
    """The options of bench.py that routes_bench.py takes too (`--sparse-layout`)."""
    options = []
    for i, arg in enumerate(posargs):
        if arg.startswith("--sparse-layout="):
            options.append(arg)
        elif arg == "--sparse-layout" and i + 1 < len(posargs):
            options += [arg, posargs[i + 1]]
    return options


def _make_bench_session(backend: str) -> None:
    @nox.session(name=f"bench-{backend}", default=False)
    def bench_backend(session: nox.Session) -> None:
        _install(session, backend)
        session.run(
            "python", "benchmarks/bench.py", "--out", "bench-results/parts", "--rounds", "2",
            *session.posargs, env=_backend_env(backend),
        )  # fmt: skip
        quick = ["--data", "synthetic"] if "--quick" in session.posargs else ["--rounds", "2"]
        session.run(
            "python", "benchmarks/routes_bench.py", "--out", "bench-results/parts", *quick,
            *_routes_options(session.posargs), env=_backend_env(backend),
        )  # fmt: skip
        # The IMDB epoch data-parallel on 1 and 2 processes (#13): a measurement, no goal.
        session.run(
            "python", "benchmarks/distributed_bench.py", "--out", "bench-results/parts", *quick,
            env=_backend_env(backend),
        )  # fmt: skip

    bench_backend.__doc__ = f"Bench step: time every implementation on {backend} (run by `bench`)."


for _backend in BACKENDS:
    _make_bench_session(_backend)


@nox.session(default=False, venv_backend="none", requires=[f"bench-{b}" for b in BACKENDS])
def bench(session: nox.Session) -> None:
    """The performance record: epoch and predict times, memory, ratios, the machine's limit.

    Times plain `fit`, anykeras's dense and sparse models (the sparse one with padded
    rows and with packed batches) and a hand-written native loop on every backend (each
    in its own venv and process), the whole IMDB workflow on each training route (does
    `anykeras train --route auto` win?), the book's encoding loop against `multi_hot`,
    an IMDB epoch data-parallel on 1 and 2 processes (`benchmarks/distributed_bench.py`),
    and writes bench-results/results.json and results.md.
    Not part of CI: timings belong here, never in a test's pass/fail. `-- --quick` is a
    smoke run at tiny sizes (every step still runs: some 20 minutes on 2 busy cores);
    `-- --threads 1` keeps PyTorch's threads from stalling on a busy machine;
    `-- --sparse-layout auto` times only each backend's default sparse layout.
    """
    python = _sibling_python(session, f"bench-{BACKENDS[0]}")
    session.run(
        python, "benchmarks/report.py", "bench-results",
        env=_backend_env(BACKENDS[0]), external=True,
    )  # fmt: skip
