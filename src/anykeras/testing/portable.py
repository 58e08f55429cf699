"""Does a model built on one backend load, predict and train the same on the others?

`check_portable` answers for every pair of backends installed on this machine. A
backend is fixed for the life of a process, so each backend builds and saves the model
in its own process (``python -m anykeras.testing.worker save``), then each backend, in
a fresh process, loads every file (``... worker load``) with plain
`keras.saving.load_model` and compares. Data goes between them as ``.npy`` files in a
temporary folder.

Seeds do not give the same initial weights on two backends (each has its own random
number generator), so nothing is compared by seeding: the loader starts from the
saver's file and must reproduce the saver's outputs (``atol``) and its weights after
one optimizer step on ``(x, y)`` (``step_atol``). Dropout and noise layers are switched
off for that step.

Example (``my_models.py`` holds ``def tiny(): return keras.Sequential(...)``)::

    report = check_portable("my_models:tiny", x, y=y, compile={"loss": "mse"})
    print(report)
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from anykeras.spec import BACKENDS, check_choice, check_number
from anykeras.testing.arrays import save_arrays
from anykeras.testing.interpreters import find_pythons
from anykeras.testing.model_fn import describe, import_roots
from anykeras.testing.portability_report import PairResult, PortabilityReport

__all__ = ["check_portable"]

_QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "2",  # TensorFlow's C++ start-up chatter
    "XLA_PYTHON_CLIENT_PREALLOCATE": "false",  # several backends may share one GPU
    "TF_FORCE_GPU_ALLOW_GROWTH": "true",
}


def _environment(backend: str, roots: list[str]) -> dict[str, str]:
    env = {**_QUIET_ENV, **os.environ, "KERAS_BACKEND": backend}
    env["PYTHONPATH"] = os.pathsep.join([*roots, *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def _run(python: str, backend: str, command: str, job: Path, env: dict, timeout: float) -> str:
    """Run the worker; "" if it finished, else why not."""
    try:
        done = subprocess.run(
            [python, "-m", "anykeras.testing.worker", command, str(job)],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"the {command} process on {backend} was still running after {timeout:g} s"
    if done.returncode != 0:
        return (
            f"the {command} process on {backend} ({python}) exited with status "
            f"{done.returncode}:\n{done.stderr[-3000:]}"
        )
    return ""


def _in_parallel(work: Callable[[str], Any], backends: Sequence[str]) -> dict[str, Any]:
    with ThreadPoolExecutor(max_workers=max(1, len(backends))) as pool:
        return dict(zip(backends, pool.map(work, backends), strict=True))


def _pair(saver: str, loader: str, entry: dict[str, Any], report: PortabilityReport) -> PairResult:
    """The pair's differences, and the worst array of its first failing comparison."""
    diffs = {key: entry[key] for key in ("weights", "outputs", "step") if key in entry}
    tolerances = {"weights": report.atol, "outputs": report.atol, "step": report.step_atol}
    return PairResult(
        saver,
        loader,
        weights_diff=diffs.get("weights", {}).get("diff"),
        output_diff=diffs.get("outputs", {}).get("diff"),
        step_diff=diffs.get("step", {}).get("diff"),
        where=next((d["at"] for k, d in diffs.items() if not d["diff"] <= tolerances[k]), ""),
        error=entry.get("error", ""),
        atol=report.atol,
        step_atol=report.step_atol,
        output_at=diffs.get("outputs", {}).get("at") or "output 0",
        step_at=diffs.get("step", {}).get("at", ""),
    )


def _check_arguments(backends: Any, compile: Any, atol: float, step_atol: float) -> tuple:
    chosen = tuple(BACKENDS if backends is None else backends)
    for backend in chosen:
        check_choice("backends", backend, BACKENDS)
    check_number("atol", atol, 0.0, open_low=False)
    check_number("step_atol", step_atol, 0.0, open_low=False)
    try:
        json.dumps(compile)
    except TypeError as error:
        raise TypeError(
            "compile is sent to other processes, so it must be JSON: strings and "
            "config dicts (keras.optimizers.serialize(...)), not objects. "
            f"Received: {compile!r}"
        ) from error
    return chosen


def check_portable(
    model_fn: str | Callable[[], Any],
    x: Any,
    backends: Sequence[str] | None = None,
    y: Any = None,
    compile: dict[str, Any] | None = None,
    atol: float = 1e-5,
    step_atol: float = 1e-4,
    pythons: Mapping[str, str | Path] | None = None,
    timeout: float = 600,
    raise_on_failure: bool = True,
) -> PortabilityReport:
    """Build, save and load a model under every backend; compare outputs and one step.

    Args:
        model_fn: A function that returns the model (built or not), named as
            ``"package.module:function"`` or ``"path/to/file.py:function"``, or a
            function defined at the top level of an importable module.
        x: An input batch: an array, or a list or dict of arrays.
        backends: The backends to check (default: all three). One that is not
            installed anywhere is reported as skipped, never as passed.
        y: Labels for ``x``; given, one optimizer step is compared too.
        compile: `keras.Model.compile` arguments for that step, as JSON (strings and
            config dicts); None uses the model's own compile settings.
        atol: Largest difference allowed between outputs (and loaded weights).
        step_atol: Largest difference allowed between weights after one step.
        pythons: Interpreters by backend, for backends installed in other
            environments (see `anykeras.testing.interpreters.find_pythons`).
        timeout: Seconds each process may take.
        raise_on_failure: Raise `AssertionError` if anything failed.

    Returns:
        The `PortabilityReport`; ``str(report)`` is a table of the differences.

    Raises:
        AssertionError: A save, a load or a comparison failed, or no backend could
            be checked (only with ``raise_on_failure``); the message lists the
            failures, each with what to fix where it is known.
    """
    chosen = _check_arguments(backends, compile, atol, step_atol)
    name = describe(model_fn)
    found, skipped = find_pythons(chosen, pythons)
    report = PortabilityReport(name, atol=atol, step_atol=step_atol, skipped=skipped)
    with tempfile.TemporaryDirectory(prefix="anykeras-portable-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        job = {"model_fn": name, "data": str(data), "compile": compile}
        job["x"] = save_arrays(x, data, "x")
        job["y"] = None if y is None else save_arrays(y, data, "y")
        env = {b: _environment(b, import_roots(name)) for b in found}
        savers = _save_everywhere(job, found, env, Path(tmp), timeout, report)
        if savers:
            _load_everywhere(job, found, savers, env, Path(tmp), timeout, report)
    if raise_on_failure and not report.passed:
        raise AssertionError(f"{name} is not portable:\n{report}")
    return report


def _save_everywhere(job, found, env, tmp: Path, timeout, report) -> dict[str, str]:
    """Run a saver per backend; the folders of those that saved."""

    def save(backend: str) -> str:
        out = tmp / f"saved_{backend}"
        out.mkdir()
        path = out / "job.json"
        path.write_text(json.dumps({**job, "out": str(out)}))
        crash = _run(found[backend], backend, "save", path, env[backend], timeout)
        result = {} if crash else json.loads((out / "result.json").read_text())
        if crash or "error" in result:
            report.save_errors[backend] = crash or result["error"]
        for layer in result.get("quiet", []):
            note = f"switched off for the step: {layer}"
            if note not in report.notes:
                report.notes.append(note)
        for problem in result.get("problems", []):  # the same on every backend, as a rule
            if problem not in report.problems:
                report.problems.append(problem)
        return "" if backend in report.save_errors else str(out)

    return {b: folder for b, folder in _in_parallel(save, list(found)).items() if folder}


def _load_everywhere(job, found, savers, env, tmp: Path, timeout, report) -> None:
    """Run a loader per backend, each loading every saver's file; add the pairs."""

    def load(backend: str) -> dict[str, Any]:
        path, out = tmp / f"load_{backend}.json", tmp / f"loaded_{backend}.json"
        path.write_text(json.dumps({**job, "out": str(out), "savers": savers}))
        crash = _run(found[backend], backend, "load", path, env[backend], timeout)
        return {"error": crash} if crash else json.loads(out.read_text())

    results = _in_parallel(load, list(found))
    for saver in savers:
        for loader, result in results.items():
            entry = result.get("files", {}).get(saver) or {"error": result.get("error", "")}
            report.pairs.append(_pair(saver, loader, entry, report))
