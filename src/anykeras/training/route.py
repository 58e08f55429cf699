"""`Route`: how the workflow feeds data to a model. The base class is the course's code.

A route decides four things, and nothing else: the arrays the model trains on, the
model it trains (built from the same initial weights as the course's), how batches go
into ``fit`` (and, for a route that trains elsewhere, what runs ``fit``), and how the
trained weights come back as the course's dense model. The
workflow (`anykeras.training.workflow`) calls these four methods and knows no route by
name; faster routes that give the same results live in `anykeras.speed`.

Example:
>>> route = Route()
>>> route.name, route.inputs(np.array([[0, 1]], dtype="uint8")).dtype
('plain', dtype('float32'))
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from anykeras.spec import ClassifierSpec
from anykeras.training.batches import EpochOrder, SeededBatches


class Route:
    """The course's route: float32 arrays into ``model.fit``, the model built by `build`.

    Attributes:
        name: The route's name (`anykeras.spec.ROUTES`).
    """

    name = "plain"

    def check(self, spec: ClassifierSpec, x: np.ndarray) -> None:
        """Raise a `ValueError` if this route cannot train ``spec`` on ``x``."""

    def inputs(self, x: np.ndarray, training: bool = True) -> Any:
        """``x`` as this route feeds it: float32 for the course's code.

        Args:
            x: Samples, as a recipe prepares them (multi-hot rows may be uint8).
            training: ``True`` for data the trained model sees, ``False`` for test data
                (which always goes to the dense model `deliver` returns).
        """
        return np.asarray(x, dtype="float32")

    def model(self, spec: ClassifierSpec, style: str, fresh: keras.Model) -> keras.Model:
        """The model to train, given ``fresh``, the course's freshly initialised model."""
        return fresh

    def compile_options(self) -> dict[str, Any]:
        """Extra `keras.Model.compile` options (e.g. XLA) for the model `model` returns."""
        return {}

    def batches(
        self, x: Any, y: Any, batch_size: int, order: EpochOrder | None
    ) -> tuple[Any, keras.callbacks.Callback | None]:
        """What ``fit`` gets as its data, and a callback it needs (or ``None``).

        With an ``order``, batches in that order (`SeededBatches`); without, the
        arrays themselves, for Keras to cut (and shuffle, if asked).
        """
        if order is None:
            return (x, y), None
        batches = SeededBatches(x, y, batch_size, order)
        return batches, batches.follow_epochs()

    def fit(self, model: keras.Model, data: Any, **options: Any) -> keras.callbacks.History:
        """Train ``model`` on ``data`` (what `batches` gave): `keras.Model.fit` here.

        ``options`` are `keras.Model.fit`'s (``epochs``, ``validation_data``,
        ``callbacks``, ...). A route that trains elsewhere (on several devices or
        processes: `anykeras.loops.distributed_route`) overrides this.
        """
        return model.fit(*(data if isinstance(data, tuple) else (data,)), **options)

    def validation(self, x: Any, y: Any, batch_size: int) -> Any:
        """``validation_data`` for ``fit``."""
        return (x, y)

    def deliver(
        self, model: keras.Model, spec: ClassifierSpec, style: str, compile_model: Any
    ) -> keras.Model:
        """The course's dense model of ``style`` holding ``model``'s trained weights.

        Args:
            model: The trained model.
            spec: Its spec.
            style: The style asked for.
            compile_model: ``compile_model(dense_model)`` compiles a new model the way
                the workflow compiles.
        """
        return model


PLAIN = Route()
