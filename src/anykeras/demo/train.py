"""The demo's training step: three styles on this backend, from shared weights."""

from __future__ import annotations

import itertools
import shutil
import statistics
from pathlib import Path
from typing import Any

import keras
import numpy as np

from anykeras.builders import STYLES, build
from anykeras.run import train_and_evaluate
from anykeras.saving import save_atomically, save_model, write_json_atomically
from anykeras.spec import ClassifierSpec
from anykeras.training.devices import current_device
from anykeras.training.recipes import Dataset, Recipe
from anykeras.training.run_config import RunConfig

WEIGHTS_FILE = "initial_weights.npz"
RETRAIN_EPOCHS = 4  # the course's final run
UNTRAINED_SAMPLES = 512  # test reviews scored by the untrained model


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


def demo_config(quick_mode: bool, style: str = "functional") -> RunConfig:
    """The course's IMDB run (synthetic data in quick mode); never shuffled; 4-epoch retrain."""
    return RunConfig(recipe="imdb", quick=quick_mode, style=style, route="plain", seed=None,
                     shuffle=False, retrain_epochs=RETRAIN_EPOCHS)  # fmt: skip


def demo_recipe(quick_mode: bool) -> Recipe:
    """The recipe `demo_config` runs."""
    return demo_config(quick_mode).base_recipe()


def train_style(
    config: RunConfig, data: Dataset, weights: list[np.ndarray], out: Path
) -> dict[str, Any]:
    """The course's workflow from ``weights``, 4-epoch retrain; writes the artifacts to ``out``."""
    model = build(config.model_spec(), config.style)
    model.set_weights(weights)
    untrained = model.predict(data.x_test[:UNTRAINED_SAMPLES], verbose=0)
    result = train_and_evaluate(config.replace(data=data, initial_weights=weights))
    predictions = result.model.predict(data.x_test, batch_size=1024, verbose=0)

    out.mkdir(parents=True, exist_ok=True)
    save_model(result.model, out / "model.keras")
    save_atomically(out / "predictions.npy", lambda tmp: np.save(tmp, predictions))
    save_atomically(out / "untrained.npy", lambda tmp: np.save(tmp, untrained))
    write_json_atomically(out / "history.json", result.history)
    cell = {
        "backend": keras.backend.backend(),
        "style": config.style,
        "test_accuracy": result.test_metrics["accuracy"],
        "test_loss": result.test_metrics["loss"],
        "epoch_s": statistics.median(result.epoch_seconds),
        "params": result.model.count_params(),
        "device": current_device(),
        "synthetic": config.quick,
    }
    write_json_atomically(out / "cell.json", cell)
    return cell


def train(artifacts: Path, quick_mode: bool) -> None:
    """Train and save the three styles on this backend."""
    config = demo_config(quick_mode)
    data = config.base_recipe().dataset()
    weights = shared_weights(artifacts, config.model_spec())
    backend = keras.backend.backend()
    shutil.rmtree(artifacts / backend, ignore_errors=True)  # no stale results from a past run
    for style in STYLES:
        cell = train_style(config.replace(style=style), data, weights, artifacts / backend / style)
        print(
            f"{backend:>10} {style:>10}: test accuracy {cell['test_accuracy']:.4f}, "
            f"{cell['epoch_s']:.3f} s/epoch on {cell['device']}"
        )
