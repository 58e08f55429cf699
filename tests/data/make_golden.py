"""Regenerate the cross-backend golden files in this folder.

    KERAS_BACKEND=jax python tests/data/make_golden.py

Writes, for a small binary classifier with fixed weights:

- ``golden_<style>.keras``: the model in each of the three styles, same weights;
- ``golden_batch.npz``: an input batch ``x`` and labels ``y``, the expected
  outputs ``outputs``, and ``step_<i>``: every weight after one rmsprop step on
  ``(x, y)`` from the saved weights.

The files are made under one backend; every backend's test session loads them and
must reproduce the outputs (atol 1e-5) and the one-step weights (atol 1e-4).

    KERAS_BACKEND=torch python tests/data/make_golden.py --trained

writes ``trained_<backend>_<style>.keras`` instead: the model compiled and trained
for one step on that backend (optimizer included, which is where backends differ in
what they save), and ``trained_<backend>.npz`` with its predictions on ``x``. Run it
once under each backend; every session loads all of them.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

from pathlib import Path

import keras
import numpy as np

from anykeras import STYLES, ClassifierSpec, build
from anykeras.training import compile_model

HERE = Path(__file__).parent
SPEC = ClassifierSpec(input_shape=(12,), hidden=(8, 4), task="binary")


def trained(x: np.ndarray, y: np.ndarray) -> None:
    backend = keras.backend.backend()
    predictions = {}
    for style in STYLES:
        model = keras.saving.load_model(HERE / f"golden_{style}.keras")
        compile_model(model, SPEC, optimizer="rmsprop")
        model.train_on_batch(x, y)
        model.save(HERE / f"trained_{backend}_{style}.keras")
        predictions[style] = model.predict(x, verbose=0)
    np.savez(HERE / f"trained_{backend}.npz", **predictions)
    print(f"wrote trained golden files under {backend} to {HERE}")


def main() -> None:
    keras.utils.set_random_seed(2024)
    rng = np.random.default_rng(2024)
    x = rng.normal(size=(16, 12)).astype("float32")
    y = rng.integers(0, 2, size=(16, 1)).astype("float32")
    if "--trained" in sys.argv:
        trained(x, y)
        return

    reference = build(SPEC, "functional")
    weights = reference.get_weights()
    outputs = reference.predict(x, verbose=0)
    for style in STYLES:
        model = build(SPEC, style)
        model.set_weights(weights)
        model.save(HERE / f"golden_{style}.keras")

    compile_model(reference, SPEC, optimizer="rmsprop")
    reference.train_on_batch(x, y)
    steps = {f"step_{i}": w for i, w in enumerate(reference.get_weights())}
    np.savez(HERE / "golden_batch.npz", x=x, y=y, outputs=outputs, **steps)
    print(f"wrote golden files under {keras.backend.backend()} to {HERE}")


if __name__ == "__main__":
    main()
