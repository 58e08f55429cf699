"""The MNIST convnet and the IMDB LSTM: the same model in three styles, like the Dense one."""

from __future__ import annotations

import numpy as np
import pytest

from anykeras import STYLES, ConvSpec, SequenceSpec, build
from anykeras.training import compile_model

CONV = ConvSpec(input_shape=(14, 14, 1), filters=(4, 8), num_classes=5)
LSTM = SequenceSpec(num_words=60, maxlen=12, embedding_dim=6, units=5)


def data(spec, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    if isinstance(spec, ConvSpec):
        return rng.uniform(size=(n, *spec.input_shape)).astype("float32"), rng.integers(0, 5, n)
    x = rng.integers(1, spec.num_words, size=(n, spec.maxlen)).astype("int32")
    return x, (x[:, -1] % 2).astype("float32")


def three(spec):
    models = {style: build(spec, style) for style in STYLES}
    for model in models.values():
        model.set_weights(models["sequential"].get_weights())
    return models


def test_the_books_convnet_has_its_104202_parameters_in_every_style():
    assert [build(ConvSpec(), s).count_params() for s in STYLES] == [104_202] * 3


def test_lstm_parameter_counts_by_hand_in_every_style():
    spec = SequenceSpec()
    expected = 10_000 * 32 + 4 * (32 * 32 + 32 * 32 + 32) + (32 + 1)
    assert [build(spec, s).count_params() for s in STYLES] == [expected] * 3


@pytest.mark.parametrize("spec", [CONV, LSTM], ids=["convnet", "lstm"])
def test_copied_weights_give_identical_predictions(spec):
    x, _ = data(spec, 16)
    models = three(spec)
    reference = models["sequential"].predict(x, verbose=0)
    assert reference.shape == (16, 5 if spec is CONV else 1)
    for model in models.values():
        assert [w.shape for w in model.get_weights()] == [
            w.shape for w in models["sequential"].get_weights()
        ]
        np.testing.assert_allclose(model.predict(x, verbose=0), reference, atol=1e-6)


@pytest.mark.parametrize("spec", [CONV, LSTM], ids=["convnet", "lstm"])
def test_same_weights_and_data_order_give_the_same_history(spec):
    x, y = data(spec, 64)
    histories = {}
    for style, model in three(spec).items():
        compile_model(model, spec, optimizer="rmsprop")
        fit = model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0,
                        validation_data=data(spec, 16, seed=1))  # fmt: skip
        histories[style] = fit.history
    for style in STYLES:
        for key, values in histories["sequential"].items():
            np.testing.assert_allclose(histories[style][key], values, atol=1e-5)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("spec", [CONV, LSTM], ids=["convnet", "lstm"])
def test_keras_file_round_trip(assert_save_reload, spec, style):
    x, _ = data(spec, 8)
    assert_save_reload(build(spec, style), x)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ConvSpec(input_shape=(28, 28)), r"\(height, width, channels\)"),
        (lambda: ConvSpec(input_shape=(6, 6, 1)), r"too small for 3 convolutions"),
        (lambda: ConvSpec(num_classes=1), r"num_classes must be an integer >= 2"),
        (lambda: ConvSpec(kernel_size=0), r"kernel_size must be a positive integer"),
        (
            lambda: SequenceSpec(maxlen=-1),
            r"maxlen must be a positive integer. Received: maxlen=-1",
        ),
    ],
)
def test_bad_specs_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_pad_keeps_the_last_words_and_pads_in_front():
    padded = SequenceSpec(maxlen=3).pad([[1, 2, 3, 4], [7]])
    assert padded.dtype == np.int32
    assert padded.tolist() == [[2, 3, 4], [0, 0, 7]]
