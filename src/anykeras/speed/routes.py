"""Which route trains: `choose_route`, from the bench's `FASTEST` or a start-up probe.

The routes themselves (`CompactRoute`, `SparseRoute`, `get_route`, and their settings
per backend) are in `anykeras.speed.word_routes`, and importable from here too;
`anykeras.speed.probe` races them where the bench has not measured.
"""

from __future__ import annotations

from typing import Any

import keras

from anykeras.spec import ROUTES, check_choice
from anykeras.speed import word_routes
from anykeras.speed.probe import probe
from anykeras.speed.word_routes import CompactRoute, get_route
from anykeras.training.devices import current_device
from anykeras.training.route import PLAIN, Route

#: 0.2's names here, now in `anykeras.speed.word_routes` (and `anykeras.speed`).
_MOVED = ("SPARSE_LAYOUTS", "SPARSE_THREADS", "STEPS_PER_EXECUTION", "SparseRoute", "ids_from_rows")


def __getattr__(name: str) -> Any:
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(word_routes, name)


#: The fastest route per backend on a CPU that gives the same results, measured by
#: ``nox -s bench`` on the real IMDB reviews, on a quiet machine and beside a competing
#: process (see docs/how-to/train-faster.md). Elsewhere `choose_route` probes.
FASTEST: dict[str, str] = {"jax": "sparse", "torch": "sparse", "tensorflow": "sparse"}


def choose_route(
    words: bool,
    requested: str = "auto",
    backend: str | None = None,
    *,
    checkpoint: bool = False,
    device: str | None = None,
) -> tuple[Route, str]:
    """The route to train on, and why in a few words: ``(route, reason)``.

    ``"auto"`` takes, on a CPU, the route the bench measured the fastest there, quiet
    or busy (`FASTEST`); on another device, where the bench has not run, the faster
    of ``compact`` and ``sparse`` in a start-up probe of a second or two
    (`anykeras.speed.probe.probe`, once per process).

    Args:
        words: Whether the inputs are multi-hot word rows (IMDB, Reuters).
        requested: ``"auto"`` or one of `anykeras.spec.ROUTES`.
        backend: A Keras backend name; the current one by default.
        checkpoint: Whether the run keeps checkpoints of the model being trained.
            They must be dense models (for ``anykeras evaluate`` and ``predict``), so
            ``"auto"`` then avoids ``sparse``, and asking for it is an error.
        device: ``"cpu"``, ``"gpu"`` or ``"tpu"``: the kind of device the run trains
            on; by default the current backend's (and ``"cpu"`` for another backend).

    Raises:
        ValueError: ``requested`` is unknown, or these inputs or options cannot take it.

    Example:
    >>> choose_route(True, backend="jax")[1]
    'the fastest on jax with the same results'
    >>> choose_route(False)[0].name
    'plain'
    """
    backend = backend or keras.backend.backend()
    if requested != "auto":
        name = check_choice("route", requested, ROUTES)
        if name != "plain" and not words:
            raise ValueError(
                f"route {name!r} needs multi-hot word inputs (IMDB or Reuters); these "
                f"inputs are not words. Received: route={name!r}"
            )
        if name == "sparse" and checkpoint:
            raise ValueError(
                "route 'sparse' trains a word-id model, so its checkpoints would not be "
                "dense models; use route 'compact' with checkpoints. Received: "
                "route='sparse' with checkpoints"
            )
        return get_route(name), "asked for"
    if not words:
        return PLAIN, "the only route for inputs that are not words"
    if device is None:
        same = backend == keras.backend.backend()
        device = current_device().split()[0] if same else "cpu"
    name = FASTEST.get(backend, "compact")
    if checkpoint and name == "sparse":
        return CompactRoute(), f"the fastest on {backend} that checkpoints a dense model"
    if device == "cpu" or checkpoint:
        return get_route(name), f"the fastest on {backend} with the same results"
    result = probe(("compact", "sparse"))
    return get_route(result.choice), (
        f"the faster on this {device} in a {result.elapsed:.1f} s probe: {result.summary()}"
    )
