"""Small deterministic data in the formats the loaders return, for tests and offline runs.

Each function returns ``(x_train, y_train), (x_test, y_test)`` with the same types, dtypes
and id conventions as the matching loader, plus a signal a small model learns in a few
epochs. The same arguments always give the same arrays (NumPy's ``default_rng(seed)``).

Example:
    >>> (x_train, y_train), (x_test, y_test) = imdb_like(num_train=4, num_test=2, seed=0)
    >>> x_train.dtype, x_train.shape, y_train.dtype, x_train[0][0]
    (dtype('O'), (4,), dtype('int64'), 1)
    >>> (x_train, y_train), _ = mnist_like(num_train=3, num_test=1)
    >>> x_train.shape, x_train.dtype, y_train.dtype
    ((3, 28, 28), dtype('uint8'), dtype('uint8'))
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from anykeras.data.sequences import unflatten
from anykeras.spec import NUM_WORDS, check_int

Split = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

START_CHAR, OOV_CHAR, INDEX_FROM = 1, 2, 3
# Words in a review or wire by default (start id not counted); real ones run longer.
MIN_LENGTH, MAX_LENGTH = 20, 120
_LENGTHS = ("min_length", "max_length")


def imdb_like(
    num_train: int = 1000,
    num_test: int = 500,
    num_words: int = NUM_WORDS,
    seed: int = 0,
    *,
    min_length: int = MIN_LENGTH,
    max_length: int = MAX_LENGTH,
) -> Split:
    """Reviews like ``imdb.load_data(num_words=num_words)``: balanced 0/1 sentiment.

    Words follow a Zipf-like frequency; about 10% of each review's words come from 25
    "positive" or 25 "negative" word ids (chosen by ``seed``), per its label, and 2% are
    the out-of-vocabulary id 2. Every review starts with the start id 1.

    Args:
        num_train: Training reviews.
        num_test: Test reviews.
        num_words: Every id is below this (as with ``load_data(num_words=...)``); >= 100.
        seed: Seed; the same seed gives the same data.
        min_length: Fewest words in a review (start id not counted).
        max_length: Most words in a review.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: object arrays of ``int`` lists and int64
        labels.

    Example:
        >>> (x_train, y_train), _ = imdb_like(num_train=2, num_test=0, num_words=200)
        >>> max(max(x) for x in x_train) < 200, sorted(y_train.tolist())
        (True, [0, 1])
    """
    lengths = (min_length, max_length)
    return _word_data(num_train, num_test, num_words, seed, lengths, _Signal(2, 25, 0.1))


def reuters_like(
    num_train: int = 800,
    num_test: int = 200,
    num_words: int = NUM_WORDS,
    num_classes: int = 46,
    seed: int = 0,
    *,
    min_length: int = MIN_LENGTH,
    max_length: int = MAX_LENGTH,
) -> Split:
    """Newswires like ``reuters.load_data(num_words=num_words)``: int64 topics in [0, 46).

    The arguments, and what comes back, are `imdb_like`'s (counted in wires), plus
    ``num_classes``, the number of topics (46 as Reuters); ``num_words`` must leave room
    for 10 topic words per class. About 15% of each wire's words come from its class's
    topic words.

    Example:
        >>> (_, y_train), _ = reuters_like(num_train=5, num_test=1)
        >>> y_train.dtype, bool(((0 <= y_train) & (y_train < 46)).all())
        (dtype('int64'), True)
    """
    lengths = (min_length, max_length)
    return _word_data(num_train, num_test, num_words, seed, lengths, _Signal(num_classes, 10, 0.15))


# Column means and stds of the 13 Boston features (CRIM ... LSTAT), rounded.
_HOUSING_MEAN = np.array([3.6, 11.4, 11.1, 0.07, 0.55, 6.3, 68.6, 3.8, 9.5, 408, 18.5, 357, 12.7])
_HOUSING_STD = np.array([8.6, 23.3, 6.9, 0.25, 0.12, 0.7, 28.1, 2.1, 8.7, 169, 2.2, 91, 7.1])
# How the target (k$) moves per standard deviation of each feature.
_HOUSING_EFFECT = np.array([-1.0, 0.8, 0.2, 0.7, -1.9, 2.8, 0.1, -3.0, 2.6, -2.0, -2.1, 0.9, -3.7])


def housing_like(num_train: int = 404, num_test: int = 102, seed: int = 0) -> Split:
    """Rows like ``boston_housing.load_data()``: float64 ``(n, 13)`` and float64 prices.

    Features have Boston's column means and scales (so they need standardising), and the
    target is 22.5 k$ plus a linear effect of the features and noise, clipped to [5, 50].

    Args:
        num_train: Training rows.
        num_test: Test rows.
        seed: Seed; the same seed gives the same data.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``.

    Example:
        >>> (x_train, y_train), (x_test, _) = housing_like()
        >>> x_train.shape, x_test.shape, y_train.dtype
        ((404, 13), (102, 13), dtype('float64'))
    """
    n = _count(num_train, "num_train") + _count(num_test, "num_test")
    rng = np.random.default_rng(_count(seed, "seed"))
    z = rng.standard_normal((n, 13))
    x = _HOUSING_MEAN + _HOUSING_STD * z
    x[:, 0] = np.exp(0.5 + 1.5 * z[:, 0]) * 0.6  # CRIM: skewed, positive
    x[:, 3] = (z[:, 3] > 1.5).astype(np.float64)  # CHAS: 0/1
    x[:, 8] = np.clip(np.round(x[:, 8]), 1, 24)  # RAD: small integers
    x = np.clip(x, 0, None)
    y = np.clip(22.5 + z @ _HOUSING_EFFECT + rng.normal(0, 2.5, n), 5, 50)
    return _split(x, y, num_train, num_test)


def mnist_like(num_train: int = 1000, num_test: int = 200, seed: int = 0) -> Split:
    """Images like ``mnist.load_data()``: uint8 ``(n, 28, 28)``, uint8 labels 0-9.

    Each class is a fixed blob pattern (chosen by ``seed``); an image is its class's
    pattern shifted by up to 2 pixels, dimmed a little and noised. The arguments are
    `housing_like`'s, counted in images.

    Example:
        >>> (x_train, y_train), _ = mnist_like(num_train=2, num_test=0)
        >>> x_train.shape, int(x_train.max()) <= 255
        ((2, 28, 28), True)
    """
    n = _count(num_train, "num_train") + _count(num_test, "num_test")
    rng = np.random.default_rng(_count(seed, "seed"))
    grid = np.arange(28)
    centres = rng.uniform(6, 22, size=(10, 4, 2))
    distance = (grid[:, None, None, None] - centres[None, None, :, :, 0]) ** 2 + (
        grid[None, :, None, None] - centres[None, None, :, :, 1]
    ) ** 2
    patterns = np.exp(-distance / 6.0).sum(axis=-1).transpose(2, 0, 1)  # (10, 28, 28)
    patterns = 255 * np.clip(patterns / patterns.max(axis=(1, 2), keepdims=True), 0, 1)

    labels = rng.integers(0, 10, size=n)
    shift = rng.integers(0, 5, size=(n, 2))  # offsets into the 2-pixel padding
    padded = np.pad(patterns, ((0, 0), (2, 2), (2, 2)))
    rows = shift[:, 0, None] + grid  # (n, 28)
    cols = shift[:, 1, None] + grid
    images = padded[labels[:, None, None], rows[:, :, None], cols[:, None, :]]
    images = images * rng.uniform(0.7, 1.0, size=(n, 1, 1)) + rng.normal(0, 12, (n, 28, 28))
    images = np.where(images < 30, 0, np.clip(images, 0, 255))
    return _split(np.round(images).astype(np.uint8), labels.astype(np.uint8), num_train, num_test)


class _Signal(NamedTuple):
    """What makes a class learnable in word data: its own words, mixed in."""

    num_classes: Any  # checked by _word_data
    words_per_class: int
    share: float  # the fraction of each sequence's words drawn from its class's words


def _word_data(
    num_train: Any, num_test: Any, num_words: int, seed: Any, lengths: Any, signal: _Signal
) -> Split:
    """Zipf-like word-id sequences (start id first) with class-specific words mixed in."""
    n = _count(num_train, "num_train") + _count(num_test, "num_test")
    num_classes, words_per_class, share = signal
    num_classes = check_int("num_classes", num_classes)
    reserved = 50  # the most frequent ranks stay neutral, like stop words
    needed = max(100, INDEX_FROM + 1 + reserved + num_classes * words_per_class)
    if check_int("num_words", num_words) < needed:
        raise ValueError(
            f"num_words must be at least {needed} (room for {words_per_class} words for each "
            f"of {num_classes} classes). Received: num_words={num_words}"
        )
    low, high = (check_int(name, value) for name, value in zip(_LENGTHS, lengths, strict=True))
    if low > high:
        raise ValueError(
            f"min_length must be <= max_length. Received: min_length={low}, max_length={high}"
        )
    rng = np.random.default_rng(_count(seed, "seed"))
    words = np.arange(INDEX_FROM + 1, num_words)  # rank 1 is id 4, as in load_data
    frequency = 1.0 / np.arange(1, len(words) + 1)
    class_words = rng.choice(words[reserved:], size=(num_classes, words_per_class), replace=False)

    labels = np.arange(n) % num_classes
    rng.shuffle(labels)
    sizes = rng.integers(low, high + 1, size=n)
    rows = np.repeat(np.arange(n), sizes)
    flat = rng.choice(words, size=len(rows), p=frequency / frequency.sum())
    draw = rng.random(len(rows))
    picks = rng.integers(0, words_per_class, size=len(rows))
    flat = np.where(draw < share, class_words[labels[rows], picks], flat)
    flat = np.where((draw >= share) & (draw < share + 0.02), OOV_CHAR, flat)

    flat = np.insert(flat, np.cumsum(sizes) - sizes, START_CHAR)
    x = unflatten(flat, sizes + 1)
    return _split(x, labels.astype(np.int64), num_train, num_test)


def _split(x: np.ndarray, y: np.ndarray, num_train: Any, num_test: Any) -> Split:
    num_train = _count(num_train, "num_train")
    _count(num_test, "num_test")
    return (x[:num_train], y[:num_train]), (x[num_train:], y[num_train:])


def _count(value: Any, name: str) -> int:
    """``value`` as an int if it is an integer >= 0 (a number of samples, or a seed)."""
    return check_int(name, value, minimum=0)
