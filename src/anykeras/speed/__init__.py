"""Faster ways to train the course's word models, with the same results.

The course's code (`anykeras.training`) reads without this package: a route plugs into
the one workflow through `anykeras.training.route.Route`. `choose_route` picks one in
one place: from `FASTEST` on a CPU, where the bench measured it quiet and busy, and
by a start-up `probe` elsewhere.

Example:
>>> from anykeras.speed import choose_route
>>> route, reason = choose_route(words=True, requested="compact")
>>> route.name, reason
('compact', 'asked for')
"""

from anykeras.speed.packed import PackedBatches, PackedSparseDense
from anykeras.speed.probe import ProbeResult, probe
from anykeras.speed.routes import FASTEST, choose_route
from anykeras.speed.word_routes import (
    SPARSE_LAYOUTS,
    SPARSE_THREADS,
    STEPS_PER_EXECUTION,
    CompactRoute,
    SparseRoute,
    get_route,
    ids_from_rows,
)

__all__ = [
    "FASTEST",
    "SPARSE_LAYOUTS",
    "SPARSE_THREADS",
    "STEPS_PER_EXECUTION",
    "CompactRoute",
    "PackedBatches",
    "PackedSparseDense",
    "ProbeResult",
    "SparseRoute",
    "choose_route",
    "get_route",
    "ids_from_rows",
    "probe",
]
