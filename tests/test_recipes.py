"""The book's recipes on synthetic data in the real formats (fast), and the sweep."""

from __future__ import annotations

import numpy as np
import pytest

from anykeras import RunConfig, train_and_evaluate
from anykeras.training import TrainConfig
from anykeras.training.recipes import RECIPES, get_recipe, quick
from anykeras.training.sweep import (
    FURTHER_EXPERIMENTS,
    Experiment,
    run_sweep,
    sweep_configs,
    sweep_table,
)
from anykeras.training.workflow import Plan, validation_history


@pytest.mark.parametrize(
    ("name", "x_shape", "y_dtype", "params"),
    [
        ("imdb", (2000, 10000), np.float32, 160_305),
        ("reuters", (2000, 10000), np.int64, 647_214),
        ("housing", (404, 13), np.float32, 5_121),
        ("mnist", (2000, 784), np.int64, 407_050),
    ],
)
def test_synthetic_recipes_prepare_model_ready_arrays(name, x_shape, y_dtype, params):
    recipe = quick(get_recipe(name))
    data = recipe.dataset()
    assert data.x_train.shape == x_shape
    # Word rows are uint8 multi-hot (the course's 0/1 values in a quarter of the bytes).
    assert data.x_train.dtype == (np.uint8 if recipe.multi_hot else np.float32)
    assert data.y_train.dtype == y_dtype
    assert len(data.x_test) == len(data.y_test) > 0
    from anykeras import build

    assert build(recipe.spec).count_params() == params  # the book's parameter counts


def test_housing_features_are_standardised_with_training_statistics_only():
    data = quick(get_recipe("housing")).dataset()
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(data.x_train.std(axis=0), 1.0, atol=1e-4)
    assert np.abs(data.x_test.mean(axis=0)).max() > 1e-3  # test data did not set the stats


def test_unknown_dataset_is_refused():
    with pytest.raises(ValueError, match=r"dataset must be one of .* Received: dataset='cifar'"):
        get_recipe("cifar")


def test_quick_imdb_workflow_learns_the_synthetic_signal():
    result = train_and_evaluate(RunConfig(recipe="imdb", quick=True, style="sequential"))
    assert len(result.history["val_loss"]) == 8
    assert 1 <= result.best_epoch <= 8
    assert result.test_metrics["accuracy"] > 0.85


def test_k_fold_history_is_the_mean_over_folds():
    recipe = quick(get_recipe("housing")).replace(config=TrainConfig(epochs=3, batch_size=32))
    data = recipe.dataset()
    history = validation_history(
        Plan(recipe.spec, "functional", recipe.config, folds=4), data.train
    )
    assert sorted(history) == ["loss", "mae", "val_loss", "val_mae"]
    assert len(history["val_mae"]) == 3
    assert history["val_mae"][-1] < history["val_mae"][0]


def test_further_experiments_are_the_courses_list():
    names = [e.name for e in FURTHER_EXPERIMENTS]
    assert len(names) == 7
    changes = [e.spec_changes.get("hidden") for e in FURTHER_EXPERIMENTS]
    assert {(16,), (16, 16, 16), (32, 32), (64, 64)} <= set(changes)
    assert any(e.loss == "mse" for e in FURTHER_EXPERIMENTS)
    assert any(e.spec_changes.get("activation") == "tanh" for e in FURTHER_EXPERIMENTS)


def test_sweep_trains_each_variant_and_tabulates_it():
    experiments = [
        Experiment("base"),
        Experiment("mse", loss="mse"),
        Experiment("one", {"hidden": (16,)}),
    ]
    variants = sweep_configs(RunConfig(recipe="imdb", quick=True, epochs=2), experiments)
    assert [config.loss for _, config in variants] == [None, "mse", None]
    rows = run_sweep(variants)
    assert [r["name"] for r in rows] == ["base", "mse", "one"]
    assert [r["params"] for r in rows] == [160_305, 160_305, 160_033]
    assert all(len(r["val_accuracy_curve"]) == 2 for r in rows)
    assert all(0.0 <= r["test_accuracy"] <= 1.0 for r in rows)
    assert rows[0]["val_loss"] != rows[1]["val_loss"]  # mse and crossentropy differ
    table = sweep_table(rows).splitlines()
    assert len(table) == 5
    assert table[2].startswith("| base | 160305 |")


def test_the_0_2_recipe_calls_still_run_with_a_deprecation_warning():
    recipe = quick(get_recipe("housing")).replace(config=TrainConfig(epochs=2, batch_size=32))
    with pytest.deprecated_call(match="train_and_evaluate"):
        old = train_and_evaluate(recipe.replace(folds=2), "sequential")
    new = train_and_evaluate(
        RunConfig(recipe="housing", quick=True, style="sequential", epochs=2, batch_size=32,
                  folds=2, validation_size=None)
    )  # fmt: skip
    assert old.history == new.history
    assert old.test_metrics == new.test_metrics
    from anykeras.training import recipes

    with pytest.deprecated_call(match="validation_history"):
        curves = recipes.validation_history(recipe.replace(folds=2), "sequential", recipe.dataset())
    assert curves == old.history


def test_every_recipe_is_listed():
    assert sorted(RECIPES) == ["housing", "imdb", "mnist", "reuters"]
