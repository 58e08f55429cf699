"""The command line's checks: every argument is checked before any work starts.

Each check raises `UsageError` (or `argparse.ArgumentTypeError` while parsing) with
one line that says what was expected and what was received.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

MAX_SEED = 2**32 - 1  # NumPy's and the backends' seeds are 32-bit
MAX_TEXT_MIB = 16  # the largest text file read: a device or a pipe never ends


class UsageError(Exception):
    """A bad command line: reported in one line, exit status 2."""


def _integer(text: str, minimum: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected {what}. Received: {text!r}")
    return value


def positive_int(text: str) -> int:
    """``--epochs`` and the like: an integer >= 1."""
    return _integer(text, 1, "a positive integer")


def non_negative_int(text: str) -> int:
    """``--early-stopping``: an integer >= 0."""
    return _integer(text, 0, "an integer >= 0")


def seed(text: str) -> int:
    """``--seed``: an integer from 0 to 2**32 - 1."""
    value = _integer(text, 0, f"an integer from 0 to {MAX_SEED}")
    if value > MAX_SEED:
        raise argparse.ArgumentTypeError(
            f"expected an integer from 0 to {MAX_SEED}. Received: {text!r}"
        )
    return value


def learning_rate(text: str) -> float:
    """``--learning-rate``: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0. Received: {text!r}")
    return value


def read_text(file: Path, option: str, limit: int = MAX_TEXT_MIB * 2**20) -> str:
    """The UTF-8 text of ``file``: at most ``limit`` bytes, else a `UsageError`.

    Devices and pipes (``/dev/zero``, a FIFO) are read with the same bound, so one that
    never ends is refused instead of filling the memory.

    Example:
    >>> read_text(Path("/dev/zero"), "--file")
    Traceback (most recent call last):
    anykeras.cli.checks.UsageError: --file /dev/zero is larger than 16 MiB; give a smaller text file
    """
    try:
        with file.open("rb") as handle:
            raw = handle.read(limit + 1)
    except IsADirectoryError:
        raise UsageError(f"{option} {file} is a folder; give a text file") from None
    except OSError as error:
        raise UsageError(f"{option} {file} cannot be read: {error.strerror or error}") from None
    if len(raw) > limit:
        size = f"{limit / 2**20:g} MiB" if limit >= 2**20 else f"{limit} bytes"
        raise UsageError(f"{option} {file} is larger than {size}; give a smaller text file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise UsageError(f"{option} {file} is not UTF-8 text (line {line})") from None
    if "\0" in text:  # valid UTF-8, but a binary file's
        line = text[: text.index("\0")].count("\n") + 1
        raise UsageError(f"{option} {file} is binary, not text (a NUL byte on line {line})")
    return text


def read_reviews(texts: list[str] | None, file: Path | None) -> list[str]:
    """The reviews of ``--text`` (each must hold a word) or ``--file`` (UTF-8, one a line)."""
    if file is None:
        for text in texts or []:
            if not text.strip():
                raise UsageError(f"--text must hold at least one word. Received: {text!r}")
        return list(texts or [])
    reviews = [line for line in read_text(file, "--file").splitlines() if line.strip()]
    if not reviews:
        raise UsageError(f"--file {file} holds no review (every line is blank)")
    return reviews


def _head_of(model: Any) -> tuple[tuple, int | None, str | None]:
    """``(input_shape, output units, head activation)`` of a loaded model."""
    spec = getattr(model, "spec", None)
    if spec is not None and hasattr(spec, "output_units"):  # anykeras.Classifier
        return (None, *spec.input_shape), spec.output_units, spec.output_activation
    inputs = getattr(model, "input_shape", None)
    outputs = getattr(model, "output_shape", None)
    if not isinstance(inputs, tuple) or not isinstance(outputs, tuple):
        return (), None, None  # several inputs or outputs: not a classifier of the course
    last = model.layers[-1] if model.layers else None
    activation = getattr(getattr(last, "activation", None), "__name__", None)
    return inputs, outputs[-1], activation


def check_head(model: Any, spec: Any, name: str, dataset: str, any_vocabulary: bool = False) -> int:
    """Raise `UsageError` unless ``model`` takes ``dataset``'s inputs and has its head.

    The input shape, the number of output units and the head's activation (sigmoid for
    a binary task, softmax for classes, linear for regression) must all match ``spec``.
    ``any_vocabulary`` accepts any 1-D input width (predict encodes texts to fit it).

    Returns:
        The model's input width.
    """
    inputs, units, activation = _head_of(model)
    expected = (None, *spec.input_shape)
    width_ok = len(inputs) == 2 if any_vocabulary else inputs == expected
    if not width_ok:
        raise UsageError(f"{name} takes inputs of shape {inputs}, but {dataset} gives {expected}")
    if units != spec.output_units or activation != spec.output_activation:
        raise UsageError(
            f"{name} ends in {units} {activation} unit(s), but {dataset} needs "
            f"{spec.output_units} {spec.output_activation} unit(s) ({spec.task})"
        )
    return int(inputs[1])
