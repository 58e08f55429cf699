"""The kit's advice names the real cause, every problem at once, and how close a pass came.

A custom layer whose ``__init__`` takes no ``**kwargs`` (as keras.io's transformer
block does) saves, then fails to load with Keras's "could not be deserialized" and,
nested deep in the message, the real cause: "unexpected keyword argument 'trainable'".
The kit must quote that line and say to accept ``**kwargs``; it must list every broken
layer of a model in one run; and a check that passes must say which weight came
closest to its tolerance, and how close.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from anykeras.testing import (
    assert_same_model,
    assert_save_reload,
    check_golden,
    check_portable,
    make_golden,
)
from anykeras.testing.config_checks import config_problems
from anykeras.testing.model_fn import import_module

HERE = keras.backend.backend()

MODELS = '''
import keras
from keras import layers


@keras.saving.register_keras_serializable(package="advice")
class TransformerBlock(layers.Layer):
    """As keras.io writes it: registered, but __init__ takes no **kwargs."""

    def __init__(self, units, rate=0.1):
        super().__init__()
        self.units, self.rate = units, rate
        self.ffn = layers.Dense(units)

    def call(self, x):
        return self.ffn(x)


@keras.saving.register_keras_serializable(package="advice")
class Shift(layers.Layer):
    """Wrong: get_config() forgets the __init__ argument."""

    def __init__(self, offset, **kwargs):
        super().__init__(**kwargs)
        self.offset = offset

    def call(self, x):
        return x + self.offset

    def get_config(self):
        return super().get_config()


def no_kwargs():
    return keras.Sequential([keras.Input((4,)), TransformerBlock(4), layers.Dense(1)])


def two_broken():
    return keras.Sequential(
        [keras.Input((4,)), TransformerBlock(4), Shift(1.0), layers.Dense(1)]
    )


def good():
    hidden = layers.Dense(3, name="hidden")
    return keras.Sequential([keras.Input((4,)), hidden, layers.Dense(1)], name="good")
'''

KEYWORD = "TransformerBlock.__init__() got an unexpected keyword argument 'trainable'"
KWARGS = (
    "TransformerBlock.__init__ takes no **kwargs: Keras passes name, trainable, dtype when it "
    "rebuilds the layer; accept **kwargs and pass them to super().__init__(**kwargs)"
)
SHIFT = (
    "Shift.get_config() does not return 'offset', argument(s) of Shift.__init__: rebuilt "
    "from its config, a Shift takes the default or fails; add them "
    "(config.update(units=self.units, ...)) "
    "(Keras: Shift.__init__() missing 1 required positional argument: 'offset')"
)
BOTH = [f"{KWARGS} (Keras: {KEYWORD})", SHIFT]


X = np.random.default_rng(0).normal(size=(4, 4)).astype("float32")
Y = np.arange(4, dtype="float32").reshape(4, 1)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The user's model file, imported once (so its classes register once)."""
    path = tmp_path_factory.mktemp("advice_project") / "advice_models.py"
    path.write_text(MODELS, encoding="utf-8")
    return import_module(str(path))


def test_a_layer_without_kwargs_gets_advice_naming_kwargs_and_quoting_keras(models, tmp_path):
    with pytest.raises(AssertionError) as error:
        assert_save_reload(models.no_kwargs(), X, tmp_path / "block.keras")
    lines = str(error.value).split("\n")
    assert lines[0].startswith(
        f"loading {tmp_path / 'block.keras'} failed: TypeError: <class "
        "'keras.src.models.sequential.Sequential'> could not be deserialized properly."
    )
    assert lines[1:] == [
        f"Cause, in Keras's words: {KEYWORD}",
        f"Fix: {KWARGS}",
        "every serialization problem found (1):",
        f"  - {KWARGS} (Keras: {KEYWORD})",
    ]


def test_every_broken_layer_of_a_model_is_reported_in_one_run(models, tmp_path):
    model = models.two_broken()
    assert config_problems(model) == BOTH
    with pytest.raises(AssertionError) as error:
        assert_save_reload(model, X, tmp_path / "two.keras")
    assert str(error.value).endswith(
        f"\nevery serialization problem found (2):\n  - {BOTH[0]}\n  - {BOTH[1]}"
    )


def test_a_layer_nested_in_another_model_is_checked_too(models):
    inner = keras.Sequential([models.TransformerBlock(4)], name="inner")
    model = keras.Sequential([keras.Input((4,)), inner, keras.layers.Dense(1)])
    assert config_problems(model) == BOTH[:1]


def test_check_portable_reports_every_problem_and_keras_s_cause(models):
    report = check_portable(f"{models.__file__}:two_broken", X, backends=[HERE],
                            raise_on_failure=False)  # fmt: skip
    assert report.problems == BOTH
    assert not report.passed
    [pair] = report.pairs
    assert f"\nCause, in Keras's words: {KEYWORD}\nFix: {KWARGS}" in pair.error
    assert report.failures()[:2] == [f"config: {BOTH[0]}", f"config: {BOTH[1]}"]


def _dense(name: str, constrained: bool) -> keras.Model:
    """y = x @ k + b from zeros; the constrained copy keeps its bias >= 0 after each step."""
    dense = keras.layers.Dense(1, kernel_initializer="zeros", name="dense_1",
                               bias_constraint="non_neg" if constrained else None)  # fmt: skip
    return keras.Sequential([keras.Input((3,)), dense], name=name)


def test_a_passing_same_model_check_names_the_weight_closest_to_its_tolerance():
    # mse on predictions 0 against labels -1: every gradient is 2, so SGD moves each
    # weight by -2 * 3.75e-5; the constraint puts the constrained bias back to 0.
    x, y = np.ones((4, 3), dtype="float32"), -np.ones((4, 1), dtype="float32")
    compile = {"optimizer": keras.optimizers.SGD(learning_rate=3.75e-5), "loss": "mse"}
    margins = assert_same_model(_dense("free", False), _dense("kept", True), x=x, y=y,
                                compile=compile, steps=1, step_atol=1e-4)  # fmt: skip
    assert str(margins) == (
        "largest output difference: output 0 0.0e+00 (0% of atol=1e-06)\n"
        "largest step difference: free/dense_1/bias 7.5e-05 (75% of step_atol=1e-04)"
    )
    assert margins.step is not None
    assert (margins.step.name, round(margins.step.fraction, 4)) == ("free/dense_1/bias", 0.75)


def test_a_passing_golden_check_names_the_weight_closest_to_its_tolerance(models, tmp_path):
    make_golden(
        f"{models.__file__}:good", X, tmp_path, y=Y, compile={"optimizer": "sgd", "loss": "mse"}
    )
    step = np.load(tmp_path / "step.1.npy")  # hidden/bias, as get_weights orders them
    np.save(tmp_path / "step.1.npy", step + np.float32(5e-5))
    margins = check_golden(tmp_path)["margins"]
    assert str(margins.step) == (
        "largest step difference: hidden/bias 5.0e-05 (50% of step_atol=1e-04)"
    )


@pytest.mark.slow
def test_a_passing_portable_check_names_the_weight_with_the_largest_step_difference(models):
    report = check_portable(f"{models.__file__}:good", X, backends=[HERE], y=Y,
                            compile={"optimizer": "sgd", "loss": "mse"})  # fmt: skip
    [pair] = report.pairs
    assert (pair.step_diff, pair.step_at, pair.output_at) == (0.0, "good/hidden/kernel", "output 0")
    assert str(report).split("\n")[3:6] == [
        "closest to the tolerances:",
        f"  {HERE} -> {HERE}: largest output difference: output 0 0.0e+00 (0% of atol=1e-05)",
        f"  {HERE} -> {HERE}: largest step difference: good/hidden/kernel 0.0e+00 "
        "(0% of step_atol=1e-04)",
    ]
