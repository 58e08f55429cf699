"""anykeras.saving.load_model: clear errors, and backend-neutral compile configs."""

from __future__ import annotations

import pytest

from anykeras.saving import _neutral, load_model


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"expected a saved \.keras model file; .*nope"):
        load_model(tmp_path / "nope.keras")


def test_backend_specific_optimizer_classes_are_made_neutral():
    config = {
        "optimizer": {
            "module": "keras.src.backend.torch.optimizers.torch_rmsprop",
            "class_name": "RMSprop",
            "config": {"learning_rate": 0.001},
        },
        "loss": "binary_crossentropy",
    }
    neutral = _neutral(config)
    assert neutral["optimizer"]["module"] == "keras.optimizers"
    assert neutral["optimizer"]["config"] == {"learning_rate": 0.001}
    assert config["optimizer"]["module"].startswith("keras.src.backend.torch")  # not mutated
    plain = {"optimizer": {"module": "keras.optimizers", "class_name": "Adam"}}
    assert _neutral(plain) == plain
