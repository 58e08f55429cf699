"""The IMDB Dense 16-16-1 trained by hand in PyTorch: the reference for the Keras paths.

Written the way a PyTorch user would: tensors built once from the NumPy arrays
(``torch.from_numpy`` shares their memory), an ``nn.Sequential`` of ``nn.Linear``
layers, ``torch.optim.RMSprop`` and ``BCEWithLogitsLoss``, a shuffled index per epoch
and one indexed batch per step.

RMSprop gets Keras's hyperparameters (learning rate 1e-3, alpha = rho = 0.9, epsilon
1e-7; PyTorch adds epsilon after the square root, Keras inside it, a difference far
below the noise of a benchmark). ``nn.Linear`` stores ``(out, in)`` weights, so Keras
kernels are transposed on the way in and out.
"""

from __future__ import annotations

import numpy as np
import torch  # noqa: TID251
from torch import nn  # noqa: TID251


class Trainer:
    """Trains and predicts with plain PyTorch.

    Args:
        weights: Initial weights in Keras's order: kernel, bias of each Dense layer.
        batch_size: Samples per step.
        seed: Seed of the shuffling.
    """

    def __init__(self, weights: list[np.ndarray], batch_size: int = 512, seed: int = 0) -> None:
        layers: list[nn.Module] = []
        for kernel, bias in zip(weights[::2], weights[1::2], strict=True):
            linear = nn.Linear(*kernel.shape)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(kernel.T.copy()))
                linear.bias.copy_(torch.from_numpy(bias))
            layers += [linear, nn.ReLU()]
        self.model = nn.Sequential(*layers[:-1])  # the head stays linear: the loss has the sigmoid
        self.optimizer = torch.optim.RMSprop(self.model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
        self.loss_fn = nn.BCEWithLogitsLoss()
        self.batch_size = batch_size
        self.generator = torch.Generator().manual_seed(seed)

    def prepare(self, x: np.ndarray, y: np.ndarray) -> None:
        """Build the tensors once (no copy for a C-contiguous float32 array)."""
        self.x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        self.y = torch.from_numpy(np.asarray(y, dtype=np.float32).reshape(-1, 1))

    def train_epoch(self, shuffle: bool = True) -> float:
        """One pass over the data (shuffled by default); returns the last batch's loss."""
        self.model.train()
        n = len(self.x)
        order = torch.randperm(n, generator=self.generator) if shuffle else torch.arange(n)
        loss = None
        for index in order.split(self.batch_size):
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.loss_fn(self.model(self.x[index]), self.y[index])
            loss.backward()
            self.optimizer.step()
        return float(loss.detach())

    @torch.no_grad()
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for ``x`` (a NumPy multi-hot array), batch by batch."""
        self.model.eval()
        x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        out = [torch.sigmoid(self.model(batch)) for batch in x.split(self.batch_size)]
        return torch.cat(out).numpy()

    def get_weights(self) -> list[np.ndarray]:
        """The weights, in Keras's order (kernels transposed back)."""
        weights = []
        for layer in self.model:
            if isinstance(layer, nn.Linear):
                weights += [layer.weight.detach().numpy().T.copy(), layer.bias.detach().numpy()]
        return weights
