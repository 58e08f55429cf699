"""The side-by-side demo: the IMDB classifier, three styles, on this process's backend.

Run once per backend, each in its own process (the backend is fixed for the life
of a process), then once more per backend to load the others' models:

    KERAS_BACKEND=jax python -m anykeras.demo train --artifacts demo-artifacts
    KERAS_BACKEND=jax python -m anykeras.demo load --artifacts demo-artifacts
    python -m anykeras.report demo-artifacts demo-report

Every backend and style starts from the SAME initial weights (one ``.npz`` made
with NumPy, loaded everywhere) and sees the data in the same order (no
shuffling), so differences come from the backends' arithmetic alone.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from anykeras.builders import STYLES, build
from anykeras.devices import current_device
from anykeras.files import save_atomically, write_json_atomically
from anykeras.recipes import Dataset, Recipe, get_recipe, quick
from anykeras.spec import ClassifierSpec
from anykeras.training import compile_model, evaluate, hold_out

WEIGHTS_FILE = "initial_weights.npz"
RETRAIN_EPOCHS = 4  # the course's final run
UNTRAINED_SAMPLES = 512  # test reviews scored by the untrained model


class EpochTimer(keras.callbacks.Callback):
    """Wall time of each training epoch, in seconds."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Start the clock."""
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Stop the clock."""
        self.seconds.append(time.perf_counter() - self._start)


def artifacts_dir(root: Path, quick_mode: bool) -> Path:
    """Quick (synthetic) and real runs keep their artifacts apart: ``root/quick``, ``root/real``."""
    return root / ("quick" if quick_mode else "real")


def initial_weights(spec: ClassifierSpec, seed: int = 0) -> list[np.ndarray]:
    """Keras's default initialisation (Glorot-uniform kernels, zero biases), in NumPy.

    Made without any backend, so every backend loads the very same numbers.

    Example:
    >>> [w.shape for w in initial_weights(ClassifierSpec(input_shape=(5,), hidden=(3,)))]
    [(5, 3), (3,), (3, 1), (1,)]
    """
    rng = np.random.default_rng(seed)
    widths = (spec.input_size, *spec.hidden, spec.output_units)
    weights: list[np.ndarray] = []
    for fan_in, fan_out in itertools.pairwise(widths):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        weights.append(rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype("float32"))
        weights.append(np.zeros(fan_out, dtype="float32"))
    return weights


def shared_weights(artifacts: Path, spec: ClassifierSpec) -> list[np.ndarray]:
    """The demo's one initial-weights file: made once, then read by every run."""
    path = artifacts / WEIGHTS_FILE
    if not path.is_file():
        weights = initial_weights(spec)
        save_atomically(path, lambda tmp: np.savez(tmp, *weights))
    with np.load(path, allow_pickle=False) as stored:
        return [stored[f"arr_{i}"] for i in range(len(stored.files))]


def demo_recipe(quick_mode: bool) -> Recipe:
    """The course's IMDB recipe, on synthetic data in quick mode; never shuffled."""
    recipe = quick(get_recipe("imdb")) if quick_mode else get_recipe("imdb")
    return recipe.replace(config=recipe.config.replace(shuffle=False, verbose=0, seed=None))


def _fit(
    model: keras.Model, recipe: Recipe, x: np.ndarray, y: np.ndarray, epochs: int, **kwargs: Any
) -> tuple[dict[str, list[float]], list[float]]:
    compile_model(model, recipe.spec, recipe.config.optimizer)
    timer = EpochTimer()
    history = model.fit(
        x, y, epochs=epochs, batch_size=recipe.config.batch_size, shuffle=False,
        callbacks=[timer], verbose=0, **kwargs,
    )  # fmt: skip
    return history.history, timer.seconds


def train_style(
    recipe: Recipe, data: Dataset, style: str, weights: list[np.ndarray], out: Path
) -> dict[str, Any]:
    """Validation run, 4-epoch retrain, test; writes the style's artifacts to ``out``."""
    # The course's hold-out: the first 10,000 reviews (a quarter in quick mode).
    (x_part, y_part), (x_val, y_val) = hold_out(*data.train, recipe.config.validation_size)

    model = build(recipe.spec, style)
    model.set_weights(weights)
    untrained = model.predict(data.x_test[:UNTRAINED_SAMPLES], verbose=0)
    history, seconds = _fit(
        model, recipe, x_part, y_part, recipe.config.epochs, validation_data=(x_val, y_val)
    )

    model = build(recipe.spec, style)
    model.set_weights(weights)
    _fit(model, recipe, *data.train, RETRAIN_EPOCHS)
    metrics = evaluate(model, *data.test)
    predictions = model.predict(data.x_test, batch_size=1024, verbose=0)

    out.mkdir(parents=True, exist_ok=True)
    save_atomically(out / "model.keras", model.save)
    save_atomically(out / "predictions.npy", lambda tmp: np.save(tmp, predictions))
    save_atomically(out / "untrained.npy", lambda tmp: np.save(tmp, untrained))
    write_json_atomically(out / "history.json", history)
    cell = {
        "backend": keras.backend.backend(),
        "style": style,
        "test_accuracy": metrics["accuracy"],
        "test_loss": metrics["loss"],
        "epoch_s": statistics.median(seconds),
        "params": model.count_params(),
        "device": current_device(),
        "synthetic": recipe.synthetic,
    }
    write_json_atomically(out / "cell.json", cell)
    return cell


def train(artifacts: Path, quick_mode: bool) -> None:
    """Train and save the three styles on this backend."""
    recipe = demo_recipe(quick_mode)
    data = recipe.dataset()
    weights = shared_weights(artifacts, recipe.spec)
    backend = keras.backend.backend()
    shutil.rmtree(artifacts / backend, ignore_errors=True)  # no stale results from a past run
    for style in STYLES:
        cell = train_style(recipe, data, style, weights, artifacts / backend / style)
        print(
            f"{backend:>10} {style:>10}: test accuracy {cell['test_accuracy']:.4f}, "
            f"{cell['epoch_s']:.3f} s/epoch on {cell['device']}"
        )


def load(artifacts: Path, quick_mode: bool) -> None:
    """Load every other backend's saved models; compare with the saver's predictions."""
    from anykeras.saving import load_model

    data = demo_recipe(quick_mode).dataset()
    backend = keras.backend.backend()
    results = []
    for model_path in sorted(artifacts.glob("*/*/model.keras")):
        saver, style = model_path.parent.parent.name, model_path.parent.name
        if saver == backend:
            continue
        model = load_model(model_path, compile=False)
        predictions = model.predict(data.x_test, batch_size=1024, verbose=0)
        expected = np.load(model_path.parent / "predictions.npy", allow_pickle=False)
        difference = float(np.max(np.abs(predictions - expected)))
        results.append(
            {"saver": saver, "loader": backend, "style": style, "max_abs_diff": difference}
        )
        print(
            f"{backend:>10} loaded {saver}/{style}: largest prediction difference {difference:.2e}"
        )
    write_json_atomically(artifacts / backend / "loaded.json", results)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m anykeras.demo {train,load} --artifacts DIR [--quick]``."""
    parser = argparse.ArgumentParser(prog="python -m anykeras.demo")
    parser.add_argument("phase", choices=("train", "load"))
    parser.add_argument("--artifacts", type=Path, default=Path("demo-artifacts"))
    parser.add_argument("--quick", action="store_true", help="synthetic IMDB-format data")
    args = parser.parse_args(argv)
    from anykeras.data import DataNotFoundError

    artifacts = artifacts_dir(args.artifacts, args.quick)
    try:
        (train if args.phase == "train" else load)(artifacts, args.quick)
    except DataNotFoundError as error:
        print(
            f"anykeras demo: error: {error}\nOr run `nox -s demo -- --quick` offline.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
