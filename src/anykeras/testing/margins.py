"""How close a passing check came to failing: the largest difference, where, and its share.

A check that passes says nothing about a difference of 75% of its tolerance, which the
next Keras release, another CPU or a larger batch may push over. Every check of the kit
therefore names the output or weight with the largest difference and the fraction of
the tolerance it used: a `Margin`; `Margins` holds a check's outputs and step margins.

Example:
>>> margin = largest("step", [[0.0], [1.0]], [[0.0], [1.000075]], ["dense/kernel", "dense/bias"],
...                  "step_atol", 1e-4)
>>> print(margin)
largest step difference: dense/bias 7.5e-05 (75% of step_atol=1e-04)
>>> round(margin.fraction, 2)
0.75
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from anykeras.testing.arrays import max_abs_diff

__all__ = ["Margin", "Margins", "largest"]


@dataclasses.dataclass(frozen=True)
class Margin:
    """The largest difference a check measured, and the tolerance it was held to.

    Attributes:
        what: What was compared: ``"output"`` or ``"step"`` (weights after training).
        name: The output (``"output 0"``) or weight (``"dense_1/bias"``) it is in.
        diff: The largest absolute difference.
        tolerance: The tolerance's name: ``"atol"`` or ``"step_atol"``.
        atol: The tolerance's value.
    """

    what: str
    name: str
    diff: float
    tolerance: str
    atol: float

    @property
    def fraction(self) -> float:
        """``diff / atol``: above 1 fails; 0 for no difference (even with ``atol`` 0)."""
        if self.diff == 0:
            return 0.0
        return self.diff / self.atol if self.atol > 0 else math.inf

    def __str__(self) -> str:
        share = "inf" if math.isinf(self.fraction) else f"{self.fraction:.0%}"
        return (
            f"largest {self.what} difference: {self.name} {self.diff:.1e} "
            f"({share} of {self.tolerance}={self.atol:.0e})"
        )


@dataclasses.dataclass
class Margins:
    """A check's margins: its outputs' and its step's (None where not compared).

    ``str(margins)`` is one line per margin measured.
    """

    output: Margin | None = None
    step: Margin | None = None

    def keep(self, margin: Margin | None) -> None:
        """Keep ``margin`` if it is the largest of its kind so far."""
        if margin is None:
            return
        held = getattr(self, margin.what)
        if held is None or margin.diff > held.diff:
            setattr(self, margin.what, margin)

    def __str__(self) -> str:
        return "\n".join(str(m) for m in (self.output, self.step) if m is not None)


def largest(
    what: str, got: Sequence[Any], want: Sequence[Any], names: Sequence[str], tolerance: str,
    atol: float,
) -> Margin | None:  # fmt: skip
    """The `Margin` of two lists of arrays: where their largest difference is.

    Returns:
        None when there is nothing to compare, or the lists differ in length.
    """
    if not got or len(got) != len(want):
        return None
    diffs = [max_abs_diff(a, b) for a, b in zip(got, want, strict=True)]
    i = max(range(len(diffs)), key=diffs.__getitem__)
    name = names[i] if i < len(names) else f"{what} {i}"
    return Margin(what, name, diffs[i], tolerance, atol)
