"""Cross-backend golden files: every backend reproduces what one backend saved."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from anykeras import STYLES, ClassifierSpec
from anykeras.training import compile_model

DATA = Path(__file__).parent / "data"
SPEC = ClassifierSpec(input_shape=(12,), hidden=(8, 4), task="binary")  # as in make_golden.py


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    with np.load(DATA / "golden_batch.npz", allow_pickle=False) as files:
        return dict(files)


@pytest.mark.parametrize("style", STYLES)
def test_golden_model_gives_the_saved_outputs(golden, style):
    model = keras.saving.load_model(DATA / f"golden_{style}.keras")
    outputs = model.predict(golden["x"], verbose=0)
    assert outputs.shape == golden["outputs"].shape == (16, 1)
    np.testing.assert_allclose(outputs, golden["outputs"], atol=1e-5)


@pytest.mark.parametrize("style", STYLES)
def test_one_rmsprop_step_gives_the_saved_weights(golden, style):
    model = keras.saving.load_model(DATA / f"golden_{style}.keras")
    before = model.get_weights()
    compile_model(model, SPEC, optimizer="rmsprop")
    model.train_on_batch(golden["x"], golden["y"])
    after = model.get_weights()
    steps = [golden[f"step_{i}"] for i in range(len(after))]
    assert len(steps) == 6
    for old, new, want in zip(before, after, steps, strict=True):
        assert not np.allclose(old, want, atol=1e-6)  # the step moved every weight
        np.testing.assert_allclose(new, want, atol=1e-4)
