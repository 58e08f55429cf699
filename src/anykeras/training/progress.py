"""Progress lines: each phase of a run says what it trains, then how long it took.

They go to the ``anykeras`` logger at INFO, so a library call stays silent unless its
caller asks (``logging.basicConfig(level="INFO")``, the standard habit); the
``anykeras`` command shows them by default (``--quiet`` hides them). The epochs
themselves are Keras's own progress bar (``verbose``).

Example (shows the lines; a library call is silent without the first line):

    import logging
    logging.basicConfig(level="INFO", format="%(message)s")
    with phase("retraining", "4 epochs on 25,000 reviews"):
        ...  # retraining: 4 epochs on 25,000 reviews / retraining: done in 3.1 s
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator

LOG = logging.getLogger("anykeras")

#: What one sample of each of the course's data sets is, for the phase lines.
SAMPLE_NOUNS = {"imdb": "reviews", "reuters": "newswires", "housing": "houses",
                "mnist": "images"}  # fmt: skip


@contextlib.contextmanager
def phase(name: str, what: str) -> Iterator[None]:
    """Log ``name: what`` now and, when the block ends, ``name: done in ...``."""
    LOG.info("%s: %s", name, what)
    started = time.perf_counter()
    yield
    LOG.info("%s: done in %s", name, duration(time.perf_counter() - started))


def count(n: int, noun: str = "samples") -> str:
    """``n`` with thousands separators and its noun: ``count(25000, "reviews")``.

    Example:
    >>> count(15000, "reviews")
    '15,000 reviews'
    """
    return f"{n:,} {noun}"


def duration(seconds: float) -> str:
    """Seconds as a person reads them.

    Example:
    >>> duration(4.26), duration(83), duration(3725)
    ('4.3 s', '1 min 23 s', '1 h 2 min')
    """
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def time_left(done: int, total: int, elapsed: float) -> str:
    """An estimate of the time the ``total - done`` remaining items take, from ``elapsed``.

    Example:
    >>> time_left(2, 7, 120.0)
    'about 5 min 0 s left'
    """
    if done == 0:
        return "time left not known yet"
    return f"about {duration(elapsed / done * (total - done))} left"
