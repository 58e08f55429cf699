"""The IMDB Dense 16-16-1 trained by hand in TensorFlow: the reference for the Keras paths.

Raw TensorFlow, no ``tf.keras``: ``tf.Variable`` weights, one ``tf.function`` step that
gathers its batch from tensors built once, ``tf.GradientTape``, rmsprop written out with
``assign`` ops, binary crossentropy from logits.

The hyperparameters are Keras's rmsprop defaults (learning rate 1e-3, rho 0.9, epsilon
1e-7 inside the square root, as Keras has it), so this loop does the same work as
`model.fit` from the same initial weights.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf  # noqa: TID251

LEARNING_RATE, RHO, EPSILON = 1e-3, 0.9, 1e-7


class Trainer:
    """Trains and predicts with plain TensorFlow.

    Args:
        weights: Initial weights in Keras's order: kernel, bias of each Dense layer.
        batch_size: Samples per step.
        seed: Seed of the shuffling.
    """

    def __init__(self, weights: list[np.ndarray], batch_size: int = 512, seed: int = 0) -> None:
        self.params = [tf.Variable(w) for w in weights]
        self.velocity = [tf.Variable(tf.zeros_like(w)) for w in weights]
        self.batch_size = batch_size
        self.rng = tf.random.Generator.from_seed(seed)

    def _logits(self, x):
        *hidden, kernel, bias = self.params
        for w, b in zip(hidden[::2], hidden[1::2], strict=True):
            x = tf.nn.relu(tf.matmul(x, w) + b)
        return tf.matmul(x, kernel) + bias

    @tf.function(jit_compile=False)
    def _step(self, x, y, index):
        xb, yb = tf.gather(x, index), tf.gather(y, index)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(
                tf.nn.sigmoid_cross_entropy_with_logits(labels=yb, logits=self._logits(xb))
            )
        grads = tape.gradient(loss, self.params)
        for p, v, g in zip(self.params, self.velocity, grads, strict=True):
            v.assign(RHO * v + (1 - RHO) * tf.square(g))
            p.assign_sub(LEARNING_RATE * g / tf.sqrt(v + EPSILON))
        return loss

    @tf.function(jit_compile=False)
    def _predict(self, x):
        return tf.sigmoid(self._logits(x))

    def prepare(self, x: np.ndarray, y: np.ndarray) -> None:
        """Build the tensors once."""
        self.x = tf.constant(x)
        self.y = tf.constant(np.asarray(y, dtype=np.float32).reshape(-1, 1))

    def train_epoch(self, shuffle: bool = True) -> float:
        """One pass over the data (shuffled by default); returns the last batch's loss."""
        n = int(self.x.shape[0])
        order = tf.argsort(self.rng.uniform((n,))) if shuffle else tf.range(n)
        loss = None
        for start in range(0, n, self.batch_size):
            loss = self._step(self.x, self.y, order[start : start + self.batch_size])
        return float(loss)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for ``x`` (a NumPy multi-hot array), batch by batch."""
        out = [
            self._predict(tf.constant(x[start : start + self.batch_size]))
            for start in range(0, len(x), self.batch_size)
        ]
        return tf.concat(out, axis=0).numpy()

    def get_weights(self) -> list[np.ndarray]:
        """The weights, in Keras's order."""
        return [p.numpy() for p in self.params]
