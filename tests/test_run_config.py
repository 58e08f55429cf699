"""RunConfig: every setting and every conflict checked at construction; JSON both ways."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from anykeras import ClassifierSpec, Dataset, RunConfig, TrainConfig, train_and_evaluate
from anykeras.training.run_conflicts import CONFLICTS, ONE_DEVICE_ONLY, RunConfigError, cpu_cores


def tiny_data(rows: int = 40, width: int = 6) -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(rows, width)).astype("float32")
    y = (x[:, :3].sum(axis=1) > 1).astype("float32")
    return Dataset(x, y, x[:10], y[:10])


def test_defaults_are_the_courses_imdb_run():
    config = RunConfig()
    train = config.train_config()
    assert (config.recipe, config.style, config.route, config.replicas) == (
        "imdb", "functional", "auto", 1,
    )  # fmt: skip
    assert (train.epochs, train.batch_size, train.validation_size, train.seed) == (
        20, 512, 10_000, 0,
    )  # fmt: skip
    assert config.workflow_settings() == (None, None)
    assert RunConfig(recipe="housing").workflow_settings() == (None, 4)


def test_json_round_trip_keeps_typed_values():
    spec = ClassifierSpec(input_shape=(10_000,), hidden=(32, 32))
    config = RunConfig(
        spec=spec, quick=True, epochs=3, learning_rate=1e-3, validation_size=0.2,
        early_stopping=0, checkpoint=True, seed=None, training=TrainConfig(optimizer="adam"),
    )  # fmt: skip
    values = json.loads(config.to_json())
    assert values["early_stopping"] == 0
    assert values["seed"] is None
    assert values["validation_size"] == 0.2
    assert values["checkpoint"] is True
    assert values["spec"]["hidden"] == [32, 32]
    assert values["training"]["optimizer"] == "adam"
    assert "data" not in values
    assert "initial_weights" not in values
    again = RunConfig.from_json(config.to_json())
    assert again == config
    assert again.train_config().optimizer == "adam"


def test_resume_settings_leave_out_what_a_resumed_run_may_change():
    config = RunConfig(backup=True, overwrite=True, verbose=2)
    settings = config.resume_settings()
    assert {"backup", "overwrite", "verbose"}.isdisjoint(settings)
    assert settings == RunConfig().resume_settings()
    with_data = RunConfig(spec=ClassifierSpec(input_shape=(6,)), data=tiny_data())
    assert with_data.resume_settings()["data"]["x_train"] == [40, 6]


#: One case per way into a conflict; every rule of CONFLICTS must be reached by one.
CONFLICTING = [
    ({"devices": 2, "processes": 2}, "one of devices and processes may be more than 1"),
    ({"processes": 2, "route": "compact"}, "data-parallel training takes the plain route"),
    ({"processes": 2, "early_stopping": 0}, "where early stopping cannot run; drop it"),
    ({"devices": 2, "batch_losses": True}, "Received: devices=2, batch_losses=True"),
    ({"processes": 2, "recipe": "housing"}, r"k-fold validation \(4 folds"),
    ({"processes": 2, "folds": 3}, r"k-fold validation \(3 folds"),
    ({"processes": 3}, "batch size must split evenly over the 3 replicas"),
    ({"devices": 4, "batch_size": 6}, r"Received: batch_size=6, devices=4"),
    (
        {"processes": cpu_cores() + 1, "batch_size": 2 * (cpu_cores() + 1)},
        f"needs a CPU core of its own, and this machine gives this program {cpu_cores()}; "
        f"use at most {cpu_cores()} processes. Received: processes={cpu_cores() + 1}",
    ),
    ({"folds": 3, "validation_size": 100}, "give folds or validation_size, not both"),
    ({"spec": ClassifierSpec(input_shape=(13,))}, r"samples of shape \(10000,\)"),
    ({"recipe": "mnist", "route": "sparse"}, "the sparse route reads multi-hot word rows"),
]


@pytest.mark.parametrize(("fields", "message"), CONFLICTING)
def test_every_conflict_is_refused_in_one_line(fields, message):
    with pytest.raises(ValueError, match=message) as caught:
        RunConfig(**fields)
    assert "\n" not in str(caught.value)
    assert "Received:" in str(caught.value)


def unchecked(**fields: object) -> RunConfig:
    """A RunConfig with these fields that skips its checks, to ask each rule about it."""
    config = object.__new__(RunConfig)
    for field in dataclasses.fields(RunConfig):
        default = field.default if field.default is not dataclasses.MISSING else None
        object.__setattr__(config, field.name, fields.get(field.name, default))
    return config


def test_each_conflict_rule_is_reached_by_a_case_above():
    reached = {
        number
        for fields, _ in CONFLICTING
        for number, (applies, _) in enumerate(CONFLICTS)
        if applies(unchecked(**fields))
    }
    assert sorted(reached) == list(range(len(CONFLICTS)))  # a new rule needs a case
    assert not any(applies(unchecked()) for applies, _ in CONFLICTS)  # the defaults run
    assert ONE_DEVICE_ONLY == ("early_stopping", "checkpoint", "backup", "tensorboard",
                               "batch_losses")  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"recipe": "cifar"}, "recipe must be one of"),
        ({"style": "keras"}, "style must be one of"),
        ({"route": "fast"}, "route must be one of"),
        ({"devices": 0}, "devices must be"),
        ({"epochs": 2.5}, "epochs must be"),
        ({"folds": 1}, "folds must be"),
        ({"early_stopping": -1}, "early_stopping must be"),
        ({"checkpoint": "yes"}, "checkpoint must be True or False. Received: checkpoint='yes'"),
        ({"verbose": 3}, "verbose must be 0, 1 or 2"),
        ({"validation_size": 1.5}, "validation_size must be"),
        ({"learning_rate": -1.0}, "learning_rate must be"),
        ({"seed": 2**32}, "seed must be below 2\\*\\*32"),
    ],
)
def test_every_field_is_checked(fields, message):
    with pytest.raises(ValueError, match=message):
        RunConfig(**fields)


def test_wrong_types_are_refused():
    with pytest.raises(TypeError, match="data must be a Dataset"):
        RunConfig(data=(1, 2))
    with pytest.raises(TypeError, match="spec must be a ClassifierSpec"):
        RunConfig(spec={"input_shape": 4})
    with pytest.raises(ValueError, match=r"unknown RunConfig fields. Received: \['epoch'\]"):
        RunConfig.from_dict({"epoch": 3})


def test_arrays_that_cannot_be_trained_are_refused_before_any_work():
    good = tiny_data()
    ragged = np.empty(40, dtype=object)
    ragged[:] = [[1.0, 0.0]] * 20 + [[1.0]] * 20
    cases = {
        "x_train": (np.array([["good", "bad"]] * 40), "dtype <U4"),
        "y_train": (np.array([b"1"] * 40), "dtype |S1"),
        "x_test": (ragged, "rows of different lengths"),
    }
    spec = ClassifierSpec(input_shape=(6,))
    for name, (array, received) in cases.items():
        data = dataclasses.replace(good, **{name: array})
        with pytest.raises(ValueError, match=f"^{name} must be an array of numbers") as caught:
            RunConfig(spec=spec, data=data, processes=2, batch_size=4)
        assert received in str(caught.value)
        assert "\n" not in str(caught.value)
    lists = dataclasses.replace(good, x_train=[[1.0, 0.0], [1.0]])  # NumPy refuses the shape
    with pytest.raises(ValueError, match=r"x_train must be .* Received: x_train of dtype object"):
        RunConfig(spec=spec, data=lists)


def test_a_last_batch_the_processes_cannot_split_is_refused_before_training(tmp_path):
    # 21 samples, 5 held out: the validation run's 16 split over 2, its 5 held out do not.
    config = RunConfig(spec=ClassifierSpec(input_shape=(6,)), data=tiny_data(rows=21),
                       processes=2, batch_size=4, validation_size=5, epochs=1)  # fmt: skip
    with pytest.raises(RunConfigError) as caught:
        train_and_evaluate(config, tmp_path / "run")
    assert str(caught.value) == (
        "the last batch must split over the 2 processes too, but 5 held-out samples in batches "
        "of 4 leave 1; 1 process splits every batch here. Received: processes=2"
    )
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())


def test_files_need_a_workdir():
    config = RunConfig(spec=ClassifierSpec(input_shape=(6,)), data=tiny_data(), checkpoint=True)
    with pytest.raises(ValueError, match=r"checkpoint write files .* Received: workdir=None"):
        train_and_evaluate(config)


def test_your_spec_and_arrays_train_the_courses_way(tmp_path):
    spec = ClassifierSpec(input_shape=(6,), hidden=(4,))
    config = RunConfig(spec=spec, data=tiny_data(), epochs=3, batch_size=8, validation_size=10,
                       retrain_epochs=2)  # fmt: skip
    result = train_and_evaluate(config, tmp_path / "run")
    assert len(result.history["val_loss"]) == 3
    assert result.retrain_epochs == 2
    assert result.model.optimizer.iterations.numpy() == 2 * 5  # 40 rows in batches of 8
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["settings"] == config.to_dict()
    assert metrics["dataset"] == "your data"
    assert metrics["route"] == "plain"
    assert dataclasses.replace(config, verbose=1) != config
