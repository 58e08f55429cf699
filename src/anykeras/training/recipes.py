"""The book's four problems as ready-made recipes: data preparation, model, training.

=========  =======================  ================  ===========================
recipe     data                     model             training
=========  =======================  ================  ===========================
imdb       multi-hot, 10,000 words  Dense 16-16-1     rmsprop, batch 512, hold out 10,000
reuters    multi-hot, 10,000 words  Dense 64-64-46    rmsprop, batch 512, hold out 1,000
housing    standardised features    Dense 64-64-1     rmsprop, batch 16, 4-fold
mnist      784 pixels in [0, 1]     Dense 512-10      rmsprop, batch 128
=========  =======================  ================  ===========================

A recipe is data and settings only: `Recipe.dataset` gives the arrays (real data, or
synthetic data in the same format with ``synthetic=True``; word data as uint8
multi-hot rows, the course's 0/1 values in a quarter of the bytes). A
`anykeras.RunConfig` names a recipe and changes what it asks for;
`anykeras.train_and_evaluate` runs it.
"""

from __future__ import annotations

import dataclasses
import importlib
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from anykeras.data import boston_housing, encoding, imdb, mnist, reuters, synthetic
from anykeras.spec import NUM_WORDS, ClassifierSpec, check_choice
from anykeras.training.config import TrainConfig


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Prepared arrays, ready for `keras.Model.fit`."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def train(self) -> tuple[np.ndarray, np.ndarray]:
        """``(x_train, y_train)``."""
        return self.x_train, self.y_train

    @property
    def test(self) -> tuple[np.ndarray, np.ndarray]:
        """``(x_test, y_test)``."""
        return self.x_test, self.y_test


@dataclasses.dataclass(frozen=True)
class Recipe:
    """One of the book's problems, solved the book's way.

    Attributes:
        name: ``"imdb"``, ``"reuters"``, ``"housing"`` or ``"mnist"``.
        spec: The model.
        config: Training for the validation run (its ``epochs`` is that run's length).
        retrain_epochs: Epochs of the final run on all training data; ``None`` picks
            the epoch with the lowest validation loss.
        folds: K-fold validation with this many folds instead of a hold-out.
        load: ``load(synthetic)`` returns the prepared `Dataset`.
        multi_hot: The inputs are multi-hot word rows (uint8 0/1), so every route
            of `anykeras.speed` applies (otherwise only the plain one).
        synthetic: Use small synthetic data in the same format (see `quick`).
    """

    name: str
    spec: ClassifierSpec
    config: TrainConfig
    retrain_epochs: int | None
    folds: int | None
    load: Callable[[bool], Dataset]
    multi_hot: bool = False
    synthetic: bool = False

    @property
    def words(self) -> bool:
        """0.2's name of `multi_hot`; deprecated."""
        warnings.warn("Recipe.words is deprecated: use Recipe.multi_hot", DeprecationWarning,
                      stacklevel=2)  # fmt: skip
        return self.multi_hot

    def dataset(self) -> Dataset:
        """Load and prepare this recipe's data (real, or synthetic when asked for)."""
        return self.load(self.synthetic)

    def replace(self, **changes: Any) -> Recipe:
        """Return a copy with some fields changed."""
        return dataclasses.replace(self, **changes)


def _imdb_sequences(synthetic_data: bool) -> tuple:
    if synthetic_data:
        return synthetic.imdb_like(2000, 1000, NUM_WORDS)
    return imdb.load_data(num_words=NUM_WORDS)


def _reuters_sequences(synthetic_data: bool) -> tuple:
    if synthetic_data:
        return synthetic.reuters_like(2000, 500, NUM_WORDS)
    return reuters.load_data(num_words=NUM_WORDS)


def _words(sequences: Callable[[bool], tuple], label_dtype: str) -> Callable[[bool], Dataset]:
    """A loader that encodes word sequences as multi-hot rows (uint8: the same 0/1 values)."""

    def load(synthetic_data: bool) -> Dataset:
        (x_train, y_train), (x_test, y_test) = sequences(synthetic_data)
        return Dataset(
            encoding.multi_hot(x_train, NUM_WORDS, dtype="uint8"),
            np.asarray(y_train, dtype=label_dtype),
            encoding.multi_hot(x_test, NUM_WORDS, dtype="uint8"),
            np.asarray(y_test, dtype=label_dtype),
        )

    return load


def _housing(synthetic_data: bool) -> Dataset:
    loader = synthetic.housing_like if synthetic_data else boston_housing.load_data
    (x_train, y_train), (x_test, y_test) = loader()
    # Statistics from the training data only: the test set stays unseen.
    x_train, x_test = encoding.standardize(x_train, x_test)
    return Dataset(
        x_train.astype("float32"),
        y_train.astype("float32"),
        x_test.astype("float32"),
        y_test.astype("float32"),
    )


def _mnist(synthetic_data: bool) -> Dataset:
    loader = (lambda: synthetic.mnist_like(2000, 500)) if synthetic_data else mnist.load_data
    (x_train, y_train), (x_test, y_test) = loader()
    return Dataset(
        x_train.reshape(len(x_train), 784).astype("float32") / 255,
        y_train.astype("int64"),
        x_test.reshape(len(x_test), 784).astype("float32") / 255,
        y_test.astype("int64"),
    )


def _word_recipe(
    name: str, spec: ClassifierSpec, validation_size: int, load: Callable[[bool], Dataset]
) -> Recipe:
    """A word problem, trained as the course trains both: 20 epochs, batches of 512."""
    config = TrainConfig(epochs=20, batch_size=512, validation_size=validation_size)
    return Recipe(name, spec, config, retrain_epochs=None, folds=None, load=load, multi_hot=True)


RECIPES: dict[str, Recipe] = {
    "imdb": _word_recipe(
        "imdb",
        ClassifierSpec(input_shape=(NUM_WORDS,), hidden=(16, 16), task="binary"),
        validation_size=10_000,
        load=_words(_imdb_sequences, "float32"),
    ),
    "reuters": _word_recipe(
        "reuters",
        ClassifierSpec(
            input_shape=(NUM_WORDS,), hidden=(64, 64), task="multiclass", num_classes=46
        ),
        validation_size=1_000,
        load=_words(_reuters_sequences, "int64"),
    ),
    "housing": Recipe(
        "housing",
        ClassifierSpec(input_shape=(13,), hidden=(64, 64), task="regression"),
        TrainConfig(epochs=100, batch_size=16, validation_size=None),
        retrain_epochs=None,
        folds=4,
        load=_housing,
    ),
    "mnist": Recipe(
        "mnist",
        ClassifierSpec(input_shape=(784,), hidden=(512,), task="multiclass", num_classes=10),
        TrainConfig(epochs=5, batch_size=128, validation_size=10_000),
        retrain_epochs=5,
        folds=None,
        load=_mnist,
    ),
}


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``; a clear error lists the known ones.

    Example:
    >>> get_recipe("imdb").spec.hidden
    (16, 16)
    """
    return RECIPES[check_choice("dataset", name, tuple(RECIPES))]


def quick(recipe: Recipe) -> Recipe:
    """The same recipe on small synthetic data and at most 8 epochs, for a fast offline run.

    Example:
    >>> recipe = quick(get_recipe("imdb"))
    >>> recipe.synthetic, recipe.config.epochs, recipe.config.validation_size
    (True, 8, 0.25)
    """
    epochs = min(recipe.config.epochs, 8)
    size = None if recipe.config.validation_size is None else 0.25
    return recipe.replace(
        config=recipe.config.replace(epochs=epochs, validation_size=size),
        retrain_epochs=None
        if recipe.retrain_epochs is None
        else min(recipe.retrain_epochs, epochs),
        synthetic=True,
    )


#: 0.2's names here, now in `anykeras.training.workflow_0_2` (deprecated).
_MOVED = {"validation_history": "recipe_validation_history", "train_and_evaluate": "train_recipe"}


def __getattr__(name: str) -> Any:
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # By name, at first use: the workflow imports this module, not the other way round.
    workflow = importlib.import_module("anykeras.training.workflow_0_2")
    return getattr(workflow, _MOVED[name])
