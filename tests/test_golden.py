"""Cross-backend golden files: every backend reproduces what one backend saved."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from anykeras import STYLES, ClassifierSpec
from anykeras.saving import load_model
from anykeras.testing.golden import assert_one_step, assert_outputs
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
    assert golden["outputs"].shape == (16, 1)
    assert_outputs(model, golden["x"], golden["outputs"], atol=1e-5)  # shapes, then values


@pytest.mark.parametrize("style", STYLES)
def test_one_rmsprop_step_gives_the_saved_weights(golden, style):
    model = keras.saving.load_model(DATA / f"golden_{style}.keras")
    before = model.get_weights()
    compile_model(model, SPEC, optimizer="rmsprop")
    steps = [golden[f"step_{i}"] for i in range(len(before))]
    assert len(steps) == 6
    assert_one_step(model, golden["x"], golden["y"], steps, atol=1e-4)  # names a weight off
    for old, want in zip(before, steps, strict=True):
        assert not np.allclose(old, want, atol=1e-6)  # the step moved every weight


@pytest.mark.parametrize("saver", ["jax", "torch", "tensorflow"])
@pytest.mark.parametrize("style", STYLES)
def test_models_trained_and_saved_on_every_backend_load_and_predict_here(golden, saver, style):
    # A compiled model saved under torch names a torch-only optimizer class; plain
    # keras.saving.load_model fails on the other backends, anykeras's loader does not.
    model = load_model(DATA / f"trained_{saver}_{style}.keras")
    with np.load(DATA / f"trained_{saver}.npz", allow_pickle=False) as expected:
        assert_outputs(model, golden["x"], expected[style], atol=1e-5)
    assert model.loss == "binary_crossentropy"  # the compile config came along
    if keras.backend.backend() == "torch":
        assert model.jit_compile is False  # a JAX file's jit_compile=True is not torch.compile
    results = model.evaluate(golden["x"], golden["y"], verbose=0, return_dict=True)
    assert set(results) == {"loss", "accuracy"}
    model.train_on_batch(golden["x"], golden["y"])  # and it can train on
