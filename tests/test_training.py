"""The workflow: hold out, fit, best epoch, retrain, evaluate, k-fold; callbacks."""

from __future__ import annotations

import csv
import json

import keras
import numpy as np
import pytest

from anykeras import ClassifierSpec, Dataset, RunConfig
from anykeras.training import (
    TrainConfig,
    best_epoch,
    evaluate,
    fit,
    hold_out,
    k_fold,
    new_model,
    retrain,
    run_workflow,
    workflow,
)
from anykeras.training.callbacks import BatchLossHistory, CallbackConfig, make_callbacks

SPEC = ClassifierSpec(input_shape=(20,), hidden=(8, 8))


def separable(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Binary data a small model learns in a few epochs: the label is sign(x @ w)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 20)).astype("float32")
    y = (x @ np.linspace(-1, 1, 20) > 0).astype("float32")
    return x, y


def test_hold_out_takes_the_first_samples_as_the_course_does():
    x, y = np.arange(100).reshape(50, 2), np.arange(50)
    (x_rest, y_rest), (x_val, y_val) = hold_out(x, y, 10)
    assert y_val.tolist() == list(range(10))
    assert y_rest.tolist() == list(range(10, 50))
    assert x_val.shape == (10, 2)
    assert x_rest.shape == (40, 2)
    (_, y_rest), (_, y_val) = hold_out(x, y, 0.2)
    assert len(y_val) == 10
    assert len(y_rest) == 40


@pytest.mark.parametrize("size", [0, 50, 60, 1.0])
def test_hold_out_refuses_splits_that_leave_a_side_empty(size):
    with pytest.raises(ValueError, match=r"leave samples on both sides"):
        hold_out(np.zeros(50), np.zeros(50), size)


def test_hold_out_refuses_mismatched_lengths():
    with pytest.raises(
        ValueError, match=r"same, non-zero number of samples\. Received: len\(x\)=5, len\(y\)=4"
    ):
        hold_out(np.zeros(5), np.zeros(4), 2)


def test_best_epoch_is_one_based_and_refuses_missing_keys():
    assert best_epoch({"val_loss": [0.4, 0.3, 0.2, 0.25]}) == 3
    assert best_epoch({"val_loss": [0.1, 0.1]}) == 1
    with pytest.raises(ValueError, match=r"no 'val_loss' values.*\['loss'\]"):
        best_epoch({"loss": [1.0]})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, r"epochs must be a positive integer. Received: epochs=0"),
        ({"batch_size": 1.5}, r"Received: batch_size=1.5"),
        ({"validation_size": 1.5}, r"Received: validation_size=1.5"),
        ({"validation_size": -3}, r"Received: validation_size=-3"),
        ({"verbose": 3}, r"verbose must be 0, 1 or 2"),
    ],
)
def test_train_config_refuses_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def test_fit_holds_out_validation_and_learns():
    x, y = separable(600)
    config = TrainConfig(epochs=8, batch_size=32, validation_size=200, learning_rate=1e-2)
    history = fit(new_model(SPEC, "functional", 0), SPEC, x, y, config).history
    assert sorted(history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(history["loss"]) == 8
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_accuracy"][-1] > 0.8


def test_retrain_from_the_same_seed_gives_the_same_weights_and_the_learning_rate_applies():
    x, y = separable(128)
    config = TrainConfig(epochs=2, batch_size=32, learning_rate=1e-2)
    first = retrain(SPEC, "sequential", x, y, config)
    second = retrain(SPEC, "sequential", x, y, config)
    assert first.optimizer.learning_rate.numpy() == pytest.approx(1e-2)
    assert first.optimizer.iterations.numpy() == 8  # 2 epochs x 4 batches, no hold-out
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_workflow_picks_the_best_epoch_and_retrains_for_that_long():
    x, y = separable(700)
    x_test, y_test = separable(300, seed=1)
    config = TrainConfig(epochs=6, batch_size=64, validation_size=200, learning_rate=1e-2)
    data = Dataset(x, y, x_test, y_test)
    result = workflow.run(
        RunConfig(spec=SPEC, data=data, style="subclassed", epochs=6, batch_size=64,
                  validation_size=200, learning_rate=1e-2)
    )  # fmt: skip
    with pytest.deprecated_call(match="run_workflow"):  # 0.2's call: the same run
        old = run_workflow(SPEC, "subclassed", (x, y), (x_test, y_test), config)
    assert old.history == result.history
    assert result.best_epoch == int(np.argmin(result.history["val_loss"])) + 1
    assert result.model.optimizer.iterations.numpy() == result.best_epoch * 11  # 700 / 64
    assert set(result.test_metrics) == {"loss", "accuracy"}
    assert result.test_metrics == evaluate(result.model, x_test, y_test)
    assert result.test_metrics["accuracy"] > 0.75


def test_k_fold_trains_one_fresh_model_per_fold():
    spec = ClassifierSpec(input_shape=(3,), hidden=(4,), task="regression")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = x.sum(axis=1)
    folds = k_fold(spec, "functional", x, y, TrainConfig(epochs=3, batch_size=8), k=4)
    assert len(folds) == 4
    assert all(sorted(h) == ["loss", "mae", "val_loss", "val_mae"] for h in folds)
    # different validation slices give different first-epoch validation errors
    assert len({round(h["val_mae"][0], 6) for h in folds}) == 4
    with pytest.raises(ValueError, match=r"k must be an integer in \[2, 40\]. Received: k=1"):
        k_fold(spec, "functional", x, y, TrainConfig(), k=1)


def test_callbacks_early_stopping_checkpoint_csv_and_batch_losses(tmp_path):
    x, y = separable(300)
    callbacks = CallbackConfig(
        early_stopping_patience=1,
        checkpoint_path=tmp_path / "ckpt" / "best.keras",
        csv_log=tmp_path / "log.csv",
        batch_loss_log=tmp_path / "batches.json",
    )
    config = TrainConfig(epochs=30, batch_size=50, validation_size=100, learning_rate=0.05)
    config = config.replace(callbacks=callbacks)
    model = new_model(SPEC, "functional", 0)
    history = fit(model, SPEC, x, y, config)
    epochs_run = len(history.history["loss"])
    assert epochs_run < 30  # early stopping stopped it
    best = min(history.history["val_loss"])
    x_val, y_val = x[:100], y[:100]
    # restore_best_weights: the model is the best epoch's, and so is the checkpoint
    assert evaluate(model, x_val, y_val)["loss"] == pytest.approx(best, rel=1e-4)
    saved = keras.saving.load_model(tmp_path / "ckpt" / "best.keras")
    assert evaluate(saved, x_val, y_val)["loss"] == pytest.approx(best, rel=1e-4)
    with (tmp_path / "log.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == list(range(epochs_run))
    np.testing.assert_allclose([float(r["val_loss"]) for r in rows], history.history["val_loss"])
    losses = json.loads((tmp_path / "batches.json").read_text())["batch_losses"]
    assert [len(epoch) for epoch in losses] == [4] * epochs_run  # 200 samples / 50
    assert losses[0][-1] == pytest.approx(history.history["loss"][0], rel=1e-5)


def test_batch_loss_history_records_every_batch_in_memory():
    x, y = separable(96)
    model = new_model(SPEC, "sequential", 0)
    recorder = BatchLossHistory()
    model.compile(optimizer="rmsprop", loss=SPEC.loss)
    model.fit(x, y, epochs=2, batch_size=32, callbacks=[recorder], verbose=0)
    assert [len(epoch) for epoch in recorder.losses] == [3, 3]
    assert all(np.isfinite(loss) for epoch in recorder.losses for loss in epoch)


def test_callback_config_refuses_bad_values():
    with pytest.raises(ValueError, match=r"must end in \.keras"):
        CallbackConfig(checkpoint_path="best.h5")
    with pytest.raises(ValueError, match=r"Received: early_stopping_patience=-1"):
        CallbackConfig(early_stopping_patience=-1)
    assert [type(c).__name__ for c in make_callbacks(CallbackConfig())] == ["StopOnNonFinite"]


def test_tensorboard_logs_where_it_can_run_and_a_clear_message_where_it_cannot(tmp_path):
    from anykeras.training.callbacks import tensorboard_available

    x, y = separable(64)
    config = TrainConfig(epochs=1, batch_size=32, validation_size=16)
    config = config.replace(callbacks=CallbackConfig(tensorboard_dir=tmp_path / "tb"))
    model = new_model(SPEC, "functional", 0)
    if not tensorboard_available():
        with pytest.raises(
            RuntimeError, match=r"needs the tensorflow and tensorboard packages.*pip install"
        ):
            fit(model, SPEC, x, y, config)
        return
    fit(model, SPEC, x, y, config)
    events = list((tmp_path / "tb").rglob("events.out.tfevents.*"))
    assert {p.parent.name for p in events} >= {"train", "validation"}
