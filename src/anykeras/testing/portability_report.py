"""What `check_portable` found: one row per saving backend and loading backend.

Example:
>>> report = PortabilityReport("models:tiny", atol=1e-5, step_atol=1e-4)
>>> report.pairs.append(PairResult("jax", "torch", weights_diff=0.0, output_diff=2e-7,
...                                step_diff=7.5e-5, step_at="dense_1/bias"))
>>> report.skipped["tensorflow"] = "tensorflow is not installed"
>>> report.passed, [pair.passed for pair in report.pairs]
(True, [True])
>>> print(report)  # doctest: +NORMALIZE_WHITESPACE
check_portable(models:tiny): atol 1e-05, one step atol 0.0001
saver       loader      outputs    one step   result
jax         torch       2.0e-07    7.5e-05    passed
closest to the tolerances:
  jax -> torch: largest output difference: output 0 2.0e-07 (2% of atol=1e-05)
  jax -> torch: largest step difference: dense_1/bias 7.5e-05 (75% of step_atol=1e-04)
skipped: tensorflow: tensorflow is not installed
"""

from __future__ import annotations

import dataclasses
import math

from anykeras.testing.margins import Margin, Margins

__all__ = ["PairResult", "PortabilityReport"]


@dataclasses.dataclass
class PairResult:
    """A file saved under ``saver`` and loaded under ``loader``.

    Attributes:
        saver: The backend that built and saved the model.
        loader: The backend that loaded the file (in a fresh process).
        weights_diff: Largest difference between saved and loaded weights.
        output_diff: Largest difference between the saver's and loader's outputs.
        step_diff: Largest difference between the weights after one optimizer step
            (``None`` when no labels were given).
        where: The output or weight with the largest difference that failed.
        output_at: The output with the largest output difference.
        step_at: The weight with the largest difference after the step.
        error: Why loading or stepping failed, with what to fix ("" if it did not).
        atol: Tolerance for weights and outputs.
        step_atol: Tolerance for the step.
    """

    saver: str
    loader: str
    weights_diff: float | None = None
    output_diff: float | None = None
    step_diff: float | None = None
    where: str = ""
    error: str = ""
    atol: float = 1e-5
    step_atol: float = 1e-4
    output_at: str = "output 0"
    step_at: str = ""

    @property
    def margins(self) -> Margins:
        """The output and the weight with the largest difference, and their share."""
        margins = Margins()
        if self.output_diff is not None:
            margins.output = Margin("output", self.output_at, self.output_diff, "atol", self.atol)
        if self.step_diff is not None:
            name, tolerance = self.step_at or "?", "step_atol"
            margins.step = Margin("step", name, self.step_diff, tolerance, self.step_atol)
        return margins

    @property
    def passed(self) -> bool:
        """No error, and every difference measured is within its tolerance."""
        checks = [
            (self.weights_diff, self.atol),
            (self.output_diff, self.atol),
            (self.step_diff, self.step_atol),
        ]
        measured = self.output_diff is not None and self.weights_diff is not None
        return not self.error and measured and all(d is None or d <= t for d, t in checks)

    def problem(self) -> str:
        """One line: what failed and by how much ("" if the pair passed)."""
        if self.error:
            return self.error
        for what, diff, tol in (
            ("weights", self.weights_diff, self.atol),
            ("outputs", self.output_diff, self.atol),
            ("weights after one step", self.step_diff, self.step_atol),
        ):
            if diff is not None and not diff <= tol:
                return f"{what} differ by {diff:.3g} > {tol:g} (most: {self.where})"
        return "" if self.passed else "nothing was compared"


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return "inf" if math.isinf(value) else f"{value:.1e}"


@dataclasses.dataclass
class PortabilityReport:
    """Every saver -> loader pair checked, the backends skipped, and why.

    Attributes:
        model_fn: The model function, as ``"module:function"``.
        atol: Tolerance for outputs and loaded weights.
        step_atol: Tolerance for the weights after one step.
        pairs: One `PairResult` per saver and loader.
        save_errors: Backend -> why building or saving the model failed there.
        skipped: Backend -> why it was not checked (never counted as passed).
        notes: Other things worth knowing (layers switched off for the step).
        problems: Every serialization problem of the model's custom classes (see
            `anykeras.testing.config_checks`), found where it was built.
    """

    model_fn: str
    atol: float = 1e-5
    step_atol: float = 1e-4
    pairs: list[PairResult] = dataclasses.field(default_factory=list)
    save_errors: dict[str, str] = dataclasses.field(default_factory=dict)
    skipped: dict[str, str] = dataclasses.field(default_factory=dict)
    notes: list[str] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def passed(self) -> bool:
        """A pair was checked, every pair passed, every save worked, no config problem."""
        saved = not self.save_errors and not self.problems
        return bool(self.pairs) and saved and all(p.passed for p in self.pairs)

    @property
    def checked(self) -> list[str]:
        """The backends that saved or loaded something."""
        names = [*self.save_errors, *(p.saver for p in self.pairs), *(p.loader for p in self.pairs)]
        return list(dict.fromkeys(names))

    def failures(self) -> list[str]:
        """One line per failed save and failed pair, saying what went wrong."""
        lines = [f"saving on {backend}: {error}" for backend, error in self.save_errors.items()]
        lines += [f"config: {problem}" for problem in self.problems]
        lines += [f"{p.saver} -> {p.loader}: {p.problem()}" for p in self.pairs if not p.passed]
        if not self.pairs and not self.save_errors:
            lines.append("no backend was checked: every one was skipped")
        return lines

    def __str__(self) -> str:
        lines = [
            f"check_portable({self.model_fn}): atol {self.atol:g}, "
            f"one step atol {self.step_atol:g}",
            f"{'saver':<11} {'loader':<11} {'outputs':<10} {'one step':<10} result",
        ]
        for p in self.pairs:
            result = "passed" if p.passed else "FAILED"
            lines.append(
                f"{p.saver:<11} {p.loader:<11} {_number(p.output_diff):<10} "
                f"{_number(p.step_diff):<10} {result}"
            )
        margins = [(p, str(p.margins)) for p in self.pairs if str(p.margins)]
        if margins:
            lines.append("closest to the tolerances:")
        for p, text in margins:
            lines += [f"  {p.saver} -> {p.loader}: {line}" for line in text.splitlines()]
        lines += [f"skipped: {backend}: {reason}" for backend, reason in self.skipped.items()]
        lines += [f"note: {note}" for note in self.notes]
        failures = self.failures()
        if failures:
            lines += ["failures:", *(f"  {line}" for line in failures)]
        return "\n".join(lines)
