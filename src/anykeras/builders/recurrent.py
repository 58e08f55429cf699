"""An Embedding + LSTM review classifier, from one `SequenceSpec`, in the three styles.

Reviews are word ids, padded (at the front, as `keras.utils.pad_sequences` does by
default, so the LSTM's last step sees real words) to ``maxlen``.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from anykeras.builders.convnet import SpecModel
from anykeras.builders.functional import stack
from anykeras.spec import SequenceSpec


def sequence_layers(spec: SequenceSpec) -> list[keras.layers.Layer]:
    """The layer stack of the Sequential and Functional styles."""
    return [
        keras.layers.Embedding(spec.num_words, spec.embedding_dim, name="embedding"),
        keras.layers.LSTM(spec.units, name="lstm"),
        keras.layers.Dense(1, activation="sigmoid", name="output"),
    ]


def build_sequence_sequential(spec: SequenceSpec) -> keras.Sequential:
    """``spec`` as a `keras.Sequential` model.

    Example:
    >>> build_sequence_sequential(SequenceSpec()).count_params()
    328353
    """
    return keras.Sequential(
        [keras.Input(shape=spec.input_shape, dtype="int32"), *sequence_layers(spec)],
        name="sequential_lstm",
    )


def build_sequence_functional(spec: SequenceSpec) -> keras.Model:
    """``spec`` as a Functional model."""
    inputs = keras.Input(shape=spec.input_shape, dtype="int32", name="word_ids")
    return stack(inputs, sequence_layers(spec), name="functional_lstm")


@keras.saving.register_keras_serializable(package="anykeras")
class SequenceClassifier(SpecModel):
    """A `SequenceSpec` (or its config dict) as a subclassed `SpecModel`.

    The head's sigmoid is applied with `keras.ops`.

    Example:
    >>> import numpy as np
    >>> model = SequenceClassifier(SequenceSpec(num_words=50, maxlen=6, units=4))
    >>> model.predict(np.ones((3, 6), "int32"), verbose=0).shape
    (3, 1)
    """

    spec_type = SequenceSpec
    default_name = "subclassed_lstm"

    def __init__(self, spec: SequenceSpec | dict[str, Any], **kwargs: Any) -> None:
        super().__init__(spec, **kwargs)
        self.embedding = keras.layers.Embedding(
            self.spec.num_words, self.spec.embedding_dim, name="embedding"
        )
        self.lstm = keras.layers.LSTM(self.spec.units, name="lstm")
        self.head = keras.layers.Dense(1, name="output")
        self.build((None, self.spec.maxlen))

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        """Create every weight now, so weights can be copied in."""
        self.embedding.build(input_shape)
        vectors = (input_shape[0], input_shape[1], self.spec.embedding_dim)
        self.lstm.build(vectors)
        self.head.build((input_shape[0], self.spec.units))
        self.built = True

    def call(self, inputs: Any) -> Any:
        """Word vectors, the LSTM's last output, a sigmoid head."""
        return ops.sigmoid(self.head(self.lstm(self.embedding(inputs))))

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        """``(batch, 1)``."""
        return (input_shape[0], 1)


BUILDERS = {
    "sequential": build_sequence_sequential,
    "functional": build_sequence_functional,
    "subclassed": SequenceClassifier,
}
