"""Golden files: a model, an input batch and what it must give, checked on every backend.

`make_golden` runs once, on one backend: it saves the model (`anykeras.saving.save_model`),
an input batch, the model's outputs on it and, given labels, every weight after one
optimizer step. `check_golden` runs in every backend's test session: it loads the
model with plain Keras and must reproduce the outputs (``atol``) and the step
(``step_atol``). Seeds do not give the same weights on two backends, so the weights
travel in the file, never as a seed. From the command line (or ``anykeras golden``)::

    python -m anykeras.testing.golden make my_models:tiny tests/golden --x x.npy --y y.npy \
        --compile '{"optimizer": "rmsprop", "loss": "mse"}'
    KERAS_BACKEND=torch python -m anykeras.testing.golden check tests/golden

Example:
>>> import tempfile
>>> import numpy as np
>>> folder = tempfile.mkdtemp()
>>> x = np.ones((2, 3), dtype="float32")
>>> _ = make_golden("anykeras.testing.golden:_example_model", x, folder, y=np.ones((2, 1)),
...                 compile={"optimizer": "sgd", "loss": "mse"})
>>> result = check_golden(folder)
>>> result["step_diff"]
0.0
>>> print(result["margins"])
largest output difference: output 0 0.0e+00 (0% of atol=1e-05)
largest step difference: dense/kernel 0.0e+00 (0% of step_atol=1e-04)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from anykeras.testing.arrays import flatten, largest_diff, save_arrays
from anykeras.testing.golden_files import (
    MANIFEST,
    MODEL,
    GoldenFileError,
    load_layout,
    model_file,
    read_manifest,
)
from anykeras.testing.margins import Margins, largest
from anykeras.testing.model_fn import (
    ModelBuildError,
    ModelFnError,
    build_model,
    describe,
    expect_model,
    import_module,
)
from anykeras.testing.optimizer_steps import (
    first_difference,
    one_step,
    quiet_random_layers,
    weight_names,
)
from anykeras.testing.save_reload import load_for_checking

if TYPE_CHECKING:
    import keras

__all__ = ["assert_one_step", "assert_outputs", "check_golden", "main", "make_golden"]


def assert_outputs(model: keras.Model, x: Any, expected: Any, atol: float = 1e-5) -> float:
    """Assert ``model``'s outputs on ``x`` match ``expected``; return the largest difference."""
    from anykeras.testing.same_model import outputs_of

    expect_model(model, "assert_outputs")
    got, want = outputs_of(model, x), [np.asarray(a) for a in flatten(expected)]
    assert [a.shape for a in got] == [a.shape for a in want], (
        f"output shapes {[a.shape for a in got]}, expected {[a.shape for a in want]}"
    )
    worst = first_difference(got, want, atol)
    if worst is not None:
        raise AssertionError(f"output {worst[0]} differs by {worst[1]:.3g} (atol {atol:g})")
    return largest_diff(got, want)


def assert_one_step(
    model: keras.Model,
    x: Any,
    y: Any,
    expected: Sequence[Any],
    compile: dict[str, Any] | None = None,
    atol: float = 1e-4,
) -> list[np.ndarray]:
    """Train ``model`` one step on ``(x, y)``; assert its weights then match ``expected``.

    Dropout and noise layers are switched off for the step. ``compile`` None keeps the
    model's own compile settings.

    Returns:
        The weights after the step.
    """
    with quiet_random_layers(expect_model(model, "assert_one_step")):
        got = one_step(model, x, y, compile)
    worst = first_difference(got, list(expected), atol)
    if worst is not None:
        i, diff = worst
        names = weight_names(model)
        name = names[i] if i < len(names) else f"weight {i}"
        raise AssertionError(
            f"after one step, weight {i} ({name}) differs by {diff:.3g} (atol {atol:g}); "
            f"{len(got)} weights, {len(expected)} expected"
        )
    return got


def make_golden(
    model_fn: str | Callable[[], Any],
    x: Any,
    folder: str | Path,
    y: Any = None,
    compile: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Build the model on this backend and write its golden files to ``folder``.

    Args:
        model_fn: A function that returns the model (or ``"module:function"``).
        x: An input batch: an array, or a list or dict of arrays.
        folder: Where to write ``model.keras``, ``golden.json`` and the arrays.
        y: Labels; given, the weights after one optimizer step are saved too.
        compile: `keras.Model.compile` arguments for that step (JSON: strings and
            config dicts); None keeps the model's own.
        overwrite: Replace golden files already in ``folder``.

    Returns:
        The path of ``golden.json``, written last: a folder without it is unfinished.
    """
    folder = Path(folder)
    if (folder / MANIFEST).exists() and not overwrite:
        raise FileExistsError(f"{folder} already holds golden files; pass overwrite=True")
    model = build_model(model_fn)  # a bad reference, a failing function: nothing written
    import keras

    from anykeras.saving import save_model, write_json_atomically
    from anykeras.testing.same_model import outputs_of

    folder.mkdir(parents=True, exist_ok=True)
    manifest = {
        "model_fn": _name(model_fn),
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "compile": compile,
        "x": save_arrays(x, folder, "x"),
        "outputs": save_arrays(outputs_of(model, x), folder, "outputs"),
        "y": None,
        "step": None,
    }
    save_model(model, folder / MODEL)
    if y is not None:
        manifest["y"] = save_arrays(y, folder, "y")
        with quiet_random_layers(model):
            manifest["step"] = save_arrays(one_step(model, x, y, compile), folder, "step")
    return write_json_atomically(folder / MANIFEST, manifest)


def _name(model_fn: str | Callable[[], Any]) -> str | None:
    try:
        return describe(model_fn)
    except ValueError:
        return None  # the classes it uses must then be imported before checking


def check_golden(folder: str | Path, atol: float = 1e-5, step_atol: float = 1e-4) -> dict:
    """Load ``folder``'s golden model on this backend; assert it gives the saved results.

    The module of the model function is imported first, so its classes are registered.

    Returns:
        ``{"backend", "made_on", "output_diff", "step_diff", "margins"}`` (``step_diff``
        None without labels); ``margins`` (`Margins`) names the output and the weight
        with the largest difference and their share of ``atol`` and ``step_atol``.

    Raises:
        AssertionError: Loading failed (with what to fix) or a result differs (naming
            the output or weight).
        GoldenFileError: A golden file is damaged, lacks a key, or names a file
            outside ``folder`` (`anykeras.testing.golden_files`).
    """
    folder = Path(folder)
    if not (folder / MANIFEST).exists():
        raise FileNotFoundError(f"{folder} holds no golden files ({MANIFEST}): run make first")
    manifest = read_manifest(folder)  # every file is checked before Keras loads
    arrays = {key: None if manifest[key] is None else load_layout(folder, key, manifest[key])
              for key in ("x", "outputs", "y", "step")}  # fmt: skip
    model_path = model_file(folder)
    import keras

    from anykeras.testing.same_model import outputs_of

    if manifest["model_fn"]:  # its module registers the classes the model file uses
        _import_model_module(folder, manifest["model_fn"])
    model = load_for_checking(model_path)
    x = arrays["x"]
    result = {"backend": keras.backend.backend(), "made_on": manifest["backend"]}
    expected = [np.asarray(a) for a in flatten(arrays["outputs"])]
    result["output_diff"] = assert_outputs(model, x, expected, atol)
    margins = Margins(output=largest("output", outputs_of(model, x), expected, [], "atol", atol))
    result["step_diff"] = None
    if arrays["step"] is not None:
        if arrays["y"] is None:
            raise GoldenFileError(f"{folder / MANIFEST}: key 'y' is null, but 'step' is not")
        step = arrays["step"]
        got = assert_one_step(model, x, arrays["y"], step, manifest["compile"], step_atol)
        result["step_diff"] = largest_diff(got, step)
        margins.step = largest("step", got, step, weight_names(model), "step_atol", step_atol)
    result["margins"] = margins
    return result


def _import_model_module(folder: Path, model_fn: str) -> None:
    module = model_fn.rpartition(":")[0]
    try:
        import_module(module)
    except Exception as error:
        raise GoldenFileError(
            f"{folder / MANIFEST}: key 'model_fn' names {model_fn}, whose module cannot be "
            f"imported here ({type(error).__name__}: {error})"
        ) from None


def _example_model() -> Any:
    """A tiny model for the docstring's example."""
    import keras

    return keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(1, kernel_initializer="ones", name="dense")]
    )


def _read_input(path: str, option: str) -> Any:
    """A ``.npy`` file is one array; a ``.npz`` file a dict of named arrays (several inputs).

    A file that is missing or not an array file is a `GoldenFileError` naming the
    option and the file (never a pickle: ``allow_pickle=False``).
    """
    kind = "a .npz archive of arrays" if path.endswith(".npz") else "a .npy array file"
    file = Path(path)
    if not file.is_file():
        what = "there is none" if not file.exists() else "that is not a regular file"
        raise GoldenFileError(f"{option} {path}: expected {kind}; {what}")
    try:
        with file.open("rb") as handle:  # ours to close, whatever NumPy makes of it
            if path.endswith(".npz"):
                with np.load(handle, allow_pickle=False) as data:
                    return dict(data)
            if handle.read(6) != b"\x93NUMPY":
                raise ValueError("it does not start with NumPy's .npy header")
            handle.seek(0)
            return np.load(handle, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        reason = str(error).split(". ")[0] or type(error).__name__
        raise GoldenFileError(f"{option} {path}: expected {kind} ({reason})") from None


class _OneLineParser(argparse.ArgumentParser):
    """argparse with its errors on one line, as the `anykeras` command's (no usage block)."""

    def error(self, message: str) -> NoReturn:
        """Print ``message`` in one line; exit with status 2."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="anykeras golden", description="Make golden files once; check them on every backend."
    )
    parser.add_argument("--backend", help="the Keras backend (default: $KERAS_BACKEND)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    make = sub.add_parser("make", help="build the model here and write its golden files")
    make.add_argument("model_fn", help="module:function or path/file.py:function")
    make.add_argument("folder", type=Path)
    make.add_argument("--x", required=True, help="inputs: .npy, or .npz of named inputs")
    make.add_argument("--y", help="labels (.npy or .npz): also save one optimizer step")
    make.add_argument("--compile", type=json.loads, help="compile arguments, as JSON")
    make.add_argument("--overwrite", action="store_true", help="replace existing golden files")
    check = sub.add_parser("check", help="load the golden model here; compare")
    check.add_argument("folder", type=Path)
    check.add_argument("--atol", type=float, default=1e-5, help="outputs (default 1e-5)")
    check.add_argument("--step-atol", type=float, default=1e-4, help="one step (default 1e-4)")
    return parser


def _run(args: argparse.Namespace) -> str:
    if args.command == "make":
        y = None if args.y is None else _read_input(args.y, "--y")
        make_golden(args.model_fn, _read_input(args.x, "--x"), args.folder, y, args.compile,
                    overwrite=args.overwrite)  # fmt: skip
        return f"wrote golden files to {args.folder}"
    result = check_golden(args.folder, args.atol, args.step_atol)
    step = "-" if result["step_diff"] is None else f"{result['step_diff']:.1e}"
    return (
        f"{args.folder}: made on {result['made_on']}, reproduced on {result['backend']}: "
        f"outputs differ by {result['output_diff']:.1e}, one step by {step}\n{result['margins']}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``make MODEL_FN FOLDER --x X.npy [...]`` or ``check FOLDER``: the exit status.

    0 on success; 1 if the check fails (the message says where), a golden file is
    damaged or the model function fails; 2 for bad usage (a ``model_fn`` that names
    no function included). Each failure is one line on stderr.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.backend and "keras" in sys.modules:
        if sys.modules["keras"].backend.backend() != args.backend:
            parser.exit(2, f"{parser.prog}: error: Keras already runs on another backend\n")
    elif args.backend:
        os.environ["KERAS_BACKEND"] = args.backend  # before Keras is imported
    cwd = str(Path.cwd())
    if "" not in sys.path and cwd not in sys.path:
        sys.path.insert(0, cwd)  # model modules are found as `python -m` finds them
    try:
        print(_run(args))
    except AssertionError as error:
        print(f"anykeras golden {args.command}: FAILED: {error}", file=sys.stderr)
        return 1
    except (GoldenFileError, ModelBuildError) as error:  # a damaged file, a failing function
        print(f"anykeras golden {args.command}: error: {error}", file=sys.stderr)
        return 1
    except (OSError, ValueError, TypeError, ModelFnError) as error:
        print(f"anykeras golden {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
