"""The course's numbers on the real data sets (../shared/data via ANYKERAS_DATA_DIR).

Marked `slow`; CI runs them under every backend. Thresholds come from the issue
that set them, measured with plain Keras; seeds vary across styles so that no
single lucky seed carries a test.
"""

from __future__ import annotations

import numpy as np
import pytest

from anykeras import STYLES
from anykeras.recipes import get_recipe, validation_history
from anykeras.training import evaluate, retrain

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def imdb(shared_file):
    shared_file("imdb/imdb.npz")
    return get_recipe("imdb").dataset()


@pytest.mark.parametrize(
    ("style", "seed"), [("sequential", 1), ("functional", 2), ("subclassed", 3)]
)
def test_imdb_course_recipe_reaches_87_percent_in_every_style(imdb, style, seed):
    recipe = get_recipe("imdb")
    config = recipe.config.replace(epochs=4, batch_size=512, seed=seed)
    model = retrain(recipe.spec, style, *imdb.train, config)
    metrics = evaluate(model, *imdb.test)
    assert model.count_params() == 160_305
    assert metrics["accuracy"] >= 0.87, f"{style}: {metrics}"


def test_imdb_twenty_epochs_overfit_after_a_few(imdb):
    recipe = get_recipe("imdb")  # 20 epochs, the first 10,000 reviews held out
    history = validation_history(recipe, "functional", imdb)
    lowest = int(np.argmin(history["val_loss"])) + 1
    assert 2 <= lowest <= 6, history["val_loss"]
    assert history["accuracy"][-1] > history["val_accuracy"][-1]
    assert history["val_loss"][-1] > min(history["val_loss"]) * 1.3  # clearly overfit by 20


def test_reuters_dense_64_64_46_nine_epochs(shared_file):
    shared_file("reuters/reuters.npz")
    recipe = get_recipe("reuters")
    data = recipe.dataset()
    assert data.x_train.shape == (8982, 10000)
    model = retrain(recipe.spec, "functional", *data.train, recipe.config.replace(epochs=9))
    assert evaluate(model, *data.test)["accuracy"] >= 0.77


def test_housing_four_fold_mean_validation_mae(shared_file):
    shared_file("boston_housing/boston_housing.npz")
    recipe = get_recipe("housing")  # Dense 64-64-1, batch 16, 100 epochs, 4 folds
    history = validation_history(recipe, "sequential", recipe.dataset())
    assert len(history["val_mae"]) == 100
    assert np.mean(history["val_mae"][-10:]) <= 2.9, history["val_mae"][-10:]


def test_mnist_dense_512_10(shared_file):
    shared_file("mnist/mnist.npz")
    recipe = get_recipe("mnist")
    data = recipe.dataset()
    assert data.x_train.shape == (60000, 784)
    model = retrain(recipe.spec, "subclassed", *data.train, recipe.config)
    assert evaluate(model, *data.test)["accuracy"] >= 0.97


def test_every_style_is_covered():
    assert set(STYLES) == {"sequential", "functional", "subclassed"}
