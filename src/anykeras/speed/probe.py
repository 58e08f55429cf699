"""A short race between routes at start-up: a few timed training steps of each.

On a CPU the bench (``nox -s bench``) has measured which route is the fastest, on a
quiet machine and beside a competing process, and `anykeras.speed.routes.FASTEST`
holds its answer. Where the bench has not run (a GPU or TPU), `probe` measures on the
machine itself: it trains a fresh model of each candidate route on the same batches,
one step each in turn (so a change of load hits them alike), and picks the one with
the lowest median step. Only time is spent: the probe's models are thrown away, and
the run trains from the seeded weights as always. The answer is kept for the life of
the process.

Example:
>>> result = probe(("compact", "sparse"), budget=0.5, rows=64, words=200, batch_size=16)
>>> result.choice in ("compact", "sparse"), sorted(result.seconds)
(True, ['compact', 'sparse'])
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Sequence
from typing import Any

import keras

from anykeras.builders import build
from anykeras.data.encoding import multi_hot
from anykeras.data.synthetic import imdb_like
from anykeras.spec import ROUTES, ClassifierSpec, check_choice, check_int, check_number
from anykeras.speed.word_routes import get_route
from anykeras.training.batches import EpochOrder
from anykeras.training.config import TrainConfig
from anykeras.training.steps import compile_model

__all__ = ["ProbeResult", "ProbeSettings", "probe"]

#: Reviews as long as IMDB's (238 words on average; imdb_like's defaults are shorter).
_MIN_LENGTH, _MAX_LENGTH = 50, 430
#: Timed steps per candidate after which the medians are settled, budget left or not.
_ENOUGH = 25


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    """What `probe` measured.

    Attributes:
        choice: The candidate with the lowest median step.
        seconds: Each candidate's timed steps, in seconds (warm-up steps excluded).
        elapsed: Wall-clock seconds of the whole probe, building and compiling included.
    """

    choice: str
    seconds: dict[str, list[float]]
    elapsed: float

    def median(self, name: str) -> float:
        """The median step of candidate ``name``, in seconds."""
        return statistics.median(self.seconds[name])

    def summary(self) -> str:
        """``"compact 12.1 ms, sparse 3.2 ms a step"``: the medians, in milliseconds."""
        steps = ", ".join(f"{name} {1000 * self.median(name):.1f} ms" for name in self.seconds)
        return f"{steps} a step"


@dataclasses.dataclass(frozen=True)
class ProbeSettings:
    """The work `probe` times, and how many steps it takes at least.

    Attributes:
        batch_size: Samples per step, as the run will train.
        rows: Samples of synthetic data (steps cycle through its batches).
        words: The vocabulary size.
        hidden: Units of the hidden layers.
        min_steps: Timed steps each candidate takes at least.
        seed: Seed of the data and of the batches' order.

    Raises:
        ValueError: A number is out of range.
    """

    batch_size: int = 512
    rows: int = 2048
    words: int = 10_000
    hidden: tuple[int, ...] = (16, 16)
    min_steps: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        checked = {
            "batch_size": check_int("batch_size", self.batch_size),
            "rows": check_int("rows", self.rows),
            "words": check_int("words", self.words),
            "hidden": tuple(check_int("hidden", units) for units in self.hidden),
            "min_steps": check_int("min_steps", self.min_steps),
            "seed": check_int("seed", self.seed, minimum=0),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)


_CACHE: dict[tuple[Any, ...], ProbeResult] = {}


def probe(
    candidates: Sequence[str] = ("compact", "sparse"), *, budget: float = 1.5, **settings: Any
) -> ProbeResult:
    """Time a few training steps of each candidate route; the fastest is the choice.

    The data are `anykeras.data.synthetic.imdb_like` reviews as long as IMDB's, as
    uint8 multi-hot rows, and the model the course's binary classifier: the shape of
    the work that decides between routes (the words per review, the vocabulary, the
    first layer's width), without loading a data set. Results are cached per process
    for the same arguments.

    Args:
        candidates: Route names (`anykeras.spec.ROUTES`), at least one.
        budget: Seconds the probe may take in all. It stops taking timed steps once the
            budget is spent and every candidate has ``min_steps`` of them, or once each
            has 25 (building and compiling the models come first, and count).
        **settings: The fields of `ProbeSettings`, by keyword: ``batch_size`` (512),
            ``rows`` (2048), ``words`` (10,000), ``hidden`` ((16, 16)), ``min_steps``
            (3) and ``seed`` (0).

    Returns:
        A `ProbeResult`.

    Raises:
        ValueError: A candidate is not a route, or a number is out of range.
    """
    candidates = tuple(check_choice("candidate", name, ROUTES) for name in candidates)
    if not candidates:
        raise ValueError("probe needs at least one candidate route. Received: candidates=()")
    budget = check_number("budget", budget)
    work = ProbeSettings(**settings)
    key = (keras.backend.backend(), candidates, budget, work)
    if key not in _CACHE:
        _CACHE[key] = _race(candidates, budget, work)
    return _CACHE[key]


def _race(candidates: tuple[str, ...], budget: float, work: ProbeSettings) -> ProbeResult:
    started = time.perf_counter()
    (sequences, y), _ = imdb_like(
        work.rows, 0, work.words, work.seed, min_length=_MIN_LENGTH, max_length=_MAX_LENGTH
    )
    x, y = multi_hot(sequences, work.words, dtype="uint8"), y.astype("float32")
    spec = ClassifierSpec(input_shape=(work.words,), hidden=work.hidden)
    steps = {}
    for name in candidates:
        route = get_route(name)
        model = route.model(spec, "functional", build(spec, "functional"))
        compile_model(model, spec, TrainConfig(), **route.compile_options())
        data, _ = route.batches(route.inputs(x), y, work.batch_size, EpochOrder(work.seed))
        if isinstance(data, keras.utils.PyDataset):
            batches = [data[i] for i in range(len(data))]
        else:  # what `anykeras.loops.feed` made of one (a tf.data.Dataset)
            batches = [tuple(batch) for batch in data]
        model.train_on_batch(*batches[0])  # the warm-up: tracing and compiling
        steps[name] = (model, batches)
    seconds: dict[str, list[float]] = {name: [] for name in candidates}
    while True:
        for name, (model, batches) in steps.items():
            batch = batches[len(seconds[name]) % len(batches)]
            start = time.perf_counter()
            model.train_on_batch(*batch)
            seconds[name].append(time.perf_counter() - start)
        taken = min(map(len, seconds.values()))
        if taken >= _ENOUGH or (
            taken >= work.min_steps and time.perf_counter() - started >= budget
        ):
            break
    choice = min(candidates, key=lambda name: statistics.median(seconds[name]))
    return ProbeResult(choice, seconds, time.perf_counter() - started)
