"""Training paths: three ways to train a multi-hot word model that give the same results.

=========  ==========================================  =======================================
path       what goes into the model                    same results as ``plain``
=========  ==========================================  =======================================
plain      float32 multi-hot rows, ``model.fit``       it is the course's code
compact    uint8 multi-hot rows, ``model.fit``         bit for bit: each batch becomes the
                                                       same float32 values inside the step
sparse     each review's distinct word ids, into       to rounding (about 1e-6 after 20
           the `anykeras.sparse.build_sparse` model    epochs): the same sums, another order
=========  ==========================================  =======================================

Whatever the path, the model handed back is the course's dense model in the style asked
for: `deliver` copies the trained weights into it (a `anykeras.sparse.SparseDense`
kernel has the ``Dense`` kernel's shape), so it saves, loads and predicts on multi-hot
rows like any other. Only word recipes (IMDB, Reuters) have the faster paths; the others
take ``plain``.

`choose_path` picks, for ``"auto"``, the backend's entry in `FASTEST`, which comes
from measurements on the real IMDB reviews. ``sparse`` takes packed batches on JAX
(`anykeras.packed`: no work on padding). On PyTorch and TensorFlow it takes padded rows
(see `sparse_layout`), which pay for IMDB's long tail: every review is padded to 588
distinct words, where the average is 132. So ``compact`` is faster there.

Example:
>>> choose_path(words=True, requested="compact")
('compact', 'asked for')
>>> choose_path(words=False)[0]
'plain'
>>> encode_words([[1, 4, 4], [2]], 5, "sparse").tolist()
[[1, 4], [2, 0]]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import keras
import numpy as np

from anykeras.builders import build
from anykeras.data.encoding import multi_hot
from anykeras.fastpath import SPARSE_LAYOUTS
from anykeras.sparse import build_sparse, unique_ids
from anykeras.spec import ClassifierSpec
from anykeras.training import TrainConfig, compile_for, new_model

__all__ = [
    "FASTEST",
    "PATHS",
    "check_path",
    "choose_path",
    "deliver",
    "encode_words",
    "sparse_layout",
    "train_config",
    "training_model",
]

#: The training paths, slowest first.
PATHS = ("plain", "compact", "sparse")

#: The fastest path per backend. ``nox -s bench`` (``benchmarks/paths_bench.py``) timed
#: the whole workflow on the real IMDB data (loading, 20 validation epochs, retrain,
#: test; 2 CPU cores), in seconds for plain / compact / sparse:
#: jax 15.5 / 9.5 / 8.4, torch 19.6 / 11.6 / 12.6, tensorflow 21.9 / 13.6 / 18.5.
#: Peak memory fell from 2.4-5.0 GB (plain) to 0.8-1.3 GB.
FASTEST: dict[str, str] = {"jax": "sparse", "torch": "compact", "tensorflow": "compact"}

_MULTI_HOT_DTYPE = {"plain": "float32", "compact": "uint8"}


def _check(path: str) -> str:
    if path not in PATHS:
        raise ValueError(f"path must be one of {PATHS}. Received: path={path!r}")
    return path


def check_path(path: str, words: bool) -> str:
    """``path``, if it is a known path that these inputs can take; else a clear error.

    Example:
    >>> check_path("compact", words=True)
    'compact'
    """
    if _check(path) != "plain" and not words:
        raise ValueError(
            f"path {path!r} needs multi-hot word inputs (IMDB or Reuters); these inputs "
            f"are not words. Received: path={path!r}"
        )
    return path


def choose_path(
    words: bool,
    requested: str = "auto",
    backend: str | None = None,
    *,
    checkpoint: bool = False,
) -> tuple[str, str]:
    """The path to train on, and why: ``(path, reason)``.

    Args:
        words: Whether the inputs are multi-hot word vectors (IMDB, Reuters).
        requested: ``"auto"`` or one of `PATHS`.
        backend: A Keras backend name; the current one by default.
        checkpoint: Whether the run saves checkpoints of the model being trained.
            They must be dense models (for ``anykeras evaluate`` and ``predict``), so
            ``"auto"`` then avoids ``sparse``, and asking for it is an error.

    Returns:
        ``(path, reason)``, the reason in a few words for the user.

    Raises:
        ValueError: ``requested`` is unknown, or asks for a path these inputs or
            options cannot take.

    Example:
    >>> choose_path(True, backend="jax")
    ('sparse', 'the fastest on jax with the same results')
    >>> choose_path(True, backend="jax", checkpoint=True)
    ('compact', 'the fastest on jax with the same results that checkpoints a dense model')
    """
    backend = backend or keras.backend.backend()
    if requested != "auto":
        path = check_path(requested, words)
        if path == "sparse" and checkpoint:
            raise ValueError(
                "path 'sparse' trains a word-id model, so its checkpoints would not be "
                "dense models; use path 'compact' with checkpoints. Received: path='sparse' "
                "with checkpoints"
            )
        return path, "asked for"
    if not words:
        return "plain", "the only path for inputs that are not words"
    path = FASTEST.get(backend, "compact")
    if path == "sparse" and checkpoint:
        return (
            "compact",
            f"the fastest on {backend} with the same results that checkpoints a dense model",
        )
    return path, f"the fastest on {backend} with the same results"


def encode_words(sequences: Iterable[Sequence[int]], num_words: int, path: str) -> np.ndarray:
    """Word-id sequences as ``path`` feeds them to the model.

    ``plain``: float32 multi-hot rows; ``compact``: uint8 multi-hot rows; ``sparse``:
    each row's distinct ids, ascending, padded with 0 (`anykeras.sparse.unique_ids`).

    Example:
    >>> encode_words([[1, 3]], 4, "compact")
    array([[0, 1, 0, 1]], dtype=uint8)
    """
    if _check(path) == "sparse":
        return unique_ids(sequences, num_words)
    return multi_hot(sequences, num_words, dtype=_MULTI_HOT_DTYPE[path])


def sparse_layout(backend: str | None = None) -> str:
    """How the ``sparse`` path lays out word ids on ``backend``: ``"packed"`` or ``"padded"``.

    Packed batches (`anykeras.packed`) skip the padding, but follow ``fit``'s shuffled
    order only where Keras shuffles arrays with NumPy (JAX): see
    `anykeras.fastpath.SPARSE_LAYOUTS`.

    Example:
    >>> sparse_layout("jax"), sparse_layout("torch")
    ('packed', 'padded')
    """
    return SPARSE_LAYOUTS.get(backend or keras.backend.backend(), "padded")


def train_config(path: str, config: TrainConfig, backend: str | None = None) -> TrainConfig:
    """``config`` set up for ``path``: the input strategy and XLA the sparse model wants.

    ``sparse`` feeds packed batches where `sparse_layout` says so, and turns XLA on for
    TensorFlow (Keras leaves it off on a CPU-only machine; the gather-and-sum runs about
    twice as fast with it). ``plain`` and ``compact`` keep ``config`` as it is.

    Example:
    >>> config = train_config("sparse", TrainConfig(), backend="tensorflow")
    >>> config.jit_compile, config.strategy
    (True, 'arrays')
    >>> train_config("sparse", TrainConfig(), backend="jax").strategy
    'packed'
    """
    if _check(path) != "sparse":
        return config
    backend = backend or keras.backend.backend()
    return config.replace(
        jit_compile=True if backend == "tensorflow" else config.jit_compile,
        strategy="packed" if sparse_layout(backend) == "packed" else config.strategy,
    )


def training_model(spec: ClassifierSpec, style: str, seed: int | None, path: str) -> keras.Model:
    """A fresh model to train on ``path``, with the initial weights ``plain`` would use.

    The dense model of ``style`` is built after seeding, as for ``plain``; ``sparse``
    then copies its weights into a `anykeras.sparse.build_sparse` model, so both paths
    start from the same point.

    Example:
    >>> spec = ClassifierSpec(input_shape=(8,), hidden=(4,))
    >>> dense, sparse = training_model(spec, "functional", 0, "plain"), training_model(
    ...     spec, "functional", 0, "sparse")
    >>> all((a == b).all() for a, b in zip(dense.get_weights(), sparse.get_weights()))
    True
    """
    model = new_model(spec, style, seed)
    if _check(path) != "sparse":
        return model
    # unique_ids rows hold no repeats, so the layer may skip its sort.
    sparse = build_sparse(spec, deduplicate=False, layout=sparse_layout())
    sparse.set_weights(model.get_weights())
    return sparse


def deliver(
    model: keras.Model, spec: ClassifierSpec, style: str, path: str, config: TrainConfig
) -> keras.Model:
    """The course's dense model of ``style`` with ``model``'s trained weights, compiled.

    For ``plain`` and ``compact`` that is ``model`` itself; a ``sparse`` model's weights
    go into a new dense model, compiled as ``config`` says (as `anykeras.training.fit`
    compiles; its optimizer state starts afresh).

    Example:
    >>> spec = ClassifierSpec(input_shape=(8,), hidden=(4,))
    >>> trained = training_model(spec, "sequential", 0, "sparse")
    >>> dense = deliver(trained, spec, "sequential", "sparse", TrainConfig())
    >>> dense.input_shape, dense.loss
    ((None, 8), 'binary_crossentropy')
    """
    if _check(path) != "sparse":
        return model
    dense = build(spec, style)
    dense.set_weights(model.get_weights())
    return compile_for(dense, spec, config.replace(jit_compile="auto", strategy="arrays"))
