"""The IMDB Dense 16-16-1 trained by hand in JAX: the reference the Keras paths are timed against.

Written the way a JAX user would: the multi-hot data moved to the device once, one
`jax.jit`-compiled step (the batch gathered inside it, parameters and optimizer state
donated), rmsprop written out with `jax.numpy` (optax is not installed, and the rule is
four lines), binary crossentropy from logits.

The hyperparameters are Keras's rmsprop defaults (learning rate 1e-3, rho 0.9,
epsilon 1e-7 inside the square root, as Keras has it), so this loop does the same work
as `model.fit` from the same initial weights.
"""

from __future__ import annotations

import jax  # noqa: TID251
import jax.numpy as jnp  # noqa: TID251
import numpy as np

LEARNING_RATE, RHO, EPSILON = 1e-3, 0.9, 1e-7


def _forward(params, x):
    """Logits of ``x`` (Dense-relu layers, then a linear head)."""
    *hidden, (kernel, bias) = params
    for w, b in hidden:
        x = jax.nn.relu(x @ w + b)
    return (x @ kernel + bias)[:, 0]


def _loss(params, x, y):
    logits = _forward(params, x)
    # binary crossentropy from logits: log(1 + e^z) - y z, stably.
    return jnp.mean(jax.nn.softplus(logits) - y * logits)


@jax.jit
def _predict(params, x):
    return jax.nn.sigmoid(_forward(params, x))


def _step(params, velocity, x, y, index):
    xb, yb = x[index], y[index]
    loss, grads = jax.value_and_grad(_loss)(params, xb, yb)
    velocity = jax.tree.map(lambda v, g: RHO * v + (1 - RHO) * g * g, velocity, grads)
    params = jax.tree.map(
        lambda p, g, v: p - LEARNING_RATE * g / jnp.sqrt(v + EPSILON), params, grads, velocity
    )
    return params, velocity, loss


_step = jax.jit(_step, donate_argnums=(0, 1))


class Trainer:
    """Trains and predicts with plain JAX.

    Args:
        weights: Initial weights in Keras's order: kernel, bias of each Dense layer.
        batch_size: Samples per step.
        seed: Seed of the shuffling.
    """

    def __init__(self, weights: list[np.ndarray], batch_size: int = 512, seed: int = 0) -> None:
        pairs = zip(weights[::2], weights[1::2], strict=True)
        self.params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in pairs]
        self.velocity = jax.tree.map(jnp.zeros_like, self.params)
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)

    def prepare(self, x: np.ndarray, y: np.ndarray) -> None:
        """Move the training data to the device once."""
        self.x = jax.device_put(x)
        self.y = jax.device_put(np.asarray(y, dtype=np.float32).reshape(-1))
        jax.block_until_ready((self.x, self.y))

    def train_epoch(self, shuffle: bool = True) -> float:
        """One pass over the data (shuffled by default); returns the last batch's loss."""
        n = len(self.x)
        order = (self.rng.permutation(n) if shuffle else np.arange(n)).astype(np.int32)
        loss = None
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            self.params, self.velocity, loss = _step(
                self.params, self.velocity, self.x, self.y, index
            )
        return float(loss)  # waits for the last step

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for ``x`` (a NumPy multi-hot array), batch by batch."""
        out = [
            _predict(self.params, x[start : start + self.batch_size])
            for start in range(0, len(x), self.batch_size)
        ]
        return np.asarray(jnp.concatenate(out))[:, None]

    def get_weights(self) -> list[np.ndarray]:
        """The weights, in Keras's order."""
        return [np.asarray(a) for pair in self.params for a in pair]
