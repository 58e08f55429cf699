"""The child process of `anykeras.testing.check_portable`: save on one backend, load on one.

    python -m anykeras.testing.worker save JOB.json
    python -m anykeras.testing.worker load JOB.json

``KERAS_BACKEND`` is set by the parent. ``save`` builds the model with the job's
``model_fn``, saves it with `anykeras.saving.save_model`, and writes beside it its
weights, its outputs on the job's inputs and (given labels) its weights after one
optimizer step. ``load`` imports the model function's module (as a user's program
would, so its classes are registered), loads every saver's file with plain
`keras.saving.load_model`, repeats the prediction and the step, and writes the
differences. Problems with the model are written to the result file, with what to
fix; only a crash of the worker itself exits non-zero.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from anykeras.testing.advice import explain, read_config, unregistered_classes
from anykeras.testing.arrays import load_arrays, max_abs_diff, save_arrays
from anykeras.testing.config_checks import config_problems
from anykeras.testing.model_fn import build_model, import_module
from anykeras.testing.optimizer_steps import one_step, quiet_random_layers, weight_names

__all__ = ["compare", "load", "main", "save"]


def _inputs(job: dict[str, Any]) -> tuple[Any, Any]:
    data = Path(job["data"])
    y = load_arrays(job["y"], data) if job.get("y") is not None else None
    return load_arrays(job["x"], data), y


def _attempt(result: dict[str, Any], what: str, work: Callable[[], Any]) -> Any:
    """``work()``; on an exception, record ``what`` failed (and the fix) in ``result``."""
    try:
        return work()
    except AssertionError as error:  # already says what failed, and what to fix
        result["error"] = str(error)
    except Exception as error:
        result["error"] = f"{what} failed: {explain(error)}"
    return None


def save(job: dict[str, Any]) -> dict[str, Any]:
    """Build, save and step the model; write ``result.json`` in the job's ``out``."""
    import keras

    from anykeras.saving import save_model
    from anykeras.testing.same_model import outputs_of

    out = Path(job["out"])
    x, y = _inputs(job)
    result: dict[str, Any] = {"backend": keras.backend.backend(), "keras": keras.__version__}

    model = _attempt(result, "building the model", lambda: build_model(job["model_fn"]))
    outputs = (
        None if model is None else _attempt(result, "calling it", lambda: outputs_of(model, x))
    )
    if outputs is not None:  # every problem, not only the first one Keras meets
        result["problems"] = config_problems(model)
    path = (
        None
        if outputs is None
        else _attempt(result, "saving", lambda: save_model(model, out / "model.keras"))
    )
    if path is not None:
        result["class"] = type(model).__name__
        result["unregistered"] = unregistered_classes(read_config(path))
        result["weights"] = save_arrays(model.get_weights(), out, "weights")
        result["weight_names"] = weight_names(model)
        result["outputs"] = save_arrays(outputs, out, "outputs")
        if y is not None:
            with quiet_random_layers(model) as quiet:
                step = _attempt(result, "one step", lambda: one_step(model, x, y, job["compile"]))
            result["quiet"] = quiet
            result["step"] = None if step is None else save_arrays(step, out, "step")
    (out / "result.json").write_text(json.dumps(result))
    return result


def compare(got: list[Any], want: list[Any], names: list[str]) -> dict[str, Any]:
    """The largest difference between two lists of arrays, and where it is."""
    if len(got) != len(want):
        return {"diff": float("inf"), "at": f"{len(got)} arrays instead of {len(want)}"}
    diffs = [max_abs_diff(a, b) for a, b in zip(got, want, strict=True)]
    if not diffs:
        return {"diff": 0.0, "at": ""}
    i = int(np.argmax(diffs))
    return {"diff": diffs[i], "at": names[i] if i < len(names) else f"array {i}"}


def _load_one(folder: Path, saved: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    from anykeras.testing.same_model import outputs_of
    from anykeras.testing.save_reload import load_for_checking

    x, y = _inputs(job)
    entry: dict[str, Any] = {}
    model = _attempt(entry, "loading", lambda: load_for_checking(folder / "model.keras"))
    if model is None:
        return entry
    names = saved["weight_names"]
    entry["weights"] = compare(model.get_weights(), load_arrays(saved["weights"], folder), names)
    outputs = _attempt(entry, "calling the loaded model", lambda: outputs_of(model, x))
    if outputs is not None:
        want = load_arrays(saved["outputs"], folder)
        entry["outputs"] = compare(outputs, want, [f"output {i}" for i in range(len(want))])
    if y is not None and saved.get("step") is not None:
        with quiet_random_layers(model):
            step = _attempt(entry, "one step", lambda: one_step(model, x, y, job["compile"]))
        if step is not None:
            entry["step"] = compare(step, load_arrays(saved["step"], folder), names)
    return entry


def load(job: dict[str, Any]) -> dict[str, Any]:
    """Load every saver's file; write the differences to the job's ``out`` file."""
    import keras

    result: dict[str, Any] = {"backend": keras.backend.backend(), "files": {}}
    module = str(job["model_fn"]).rpartition(":")[0]
    if _attempt(result, f"importing {module}", lambda: import_module(module)) is not None:
        for saver, folder in job["savers"].items():
            saved = json.loads((Path(folder) / "result.json").read_text())
            result["files"][saver] = _load_one(Path(folder), saved, job)
    Path(job["out"]).write_text(json.dumps(result))
    return result


def main(argv: list[str] | None = None) -> int:
    """``save JOB.json`` or ``load JOB.json``; 0 once the result file is written."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] not in ("save", "load"):
        print("usage: python -m anykeras.testing.worker save|load JOB.json", file=sys.stderr)
        return 2
    job = json.loads(Path(argv[1]).read_text())
    (save if argv[0] == "save" else load)(job)
    return 0


if __name__ == "__main__":
    sys.exit(main())
