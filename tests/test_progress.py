"""Progress lines: each phase says what it trains, then how long it took; silent unless asked."""

from __future__ import annotations

import argparse
import io
import logging
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pytest

from anykeras import ClassifierSpec, Dataset, RunConfig
from anykeras.cli.parser import epoch_verbosity
from anykeras.training import workflow
from anykeras.training.progress import duration, time_left
from anykeras.training.sweep import Experiment, run_sweep, sweep_configs

SPEC = ClassifierSpec(input_shape=(6,), hidden=(4,))


@pytest.fixture
def said() -> Iterator[io.StringIO]:
    """What the ``anykeras`` logger says at INFO while the test runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("anykeras")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def data() -> Dataset:
    """50 training and 20 test samples of 6 features."""
    rng = np.random.default_rng(0)
    x, y = rng.random((50, 6), dtype="float32"), rng.integers(0, 2, (50, 1)).astype("float32")
    return Dataset(x, y, x[:20], y[:20])


def test_a_hold_out_run_names_each_phase_its_sizes_and_its_time(said, data):
    config = RunConfig(spec=SPEC, data=data, epochs=3, batch_size=16, validation_size=10,
                       retrain_epochs=2)  # fmt: skip
    result = workflow.run(config)
    lines = said.getvalue().splitlines()
    assert lines[0] == "validation run: 3 epochs on 40 samples, 10 held out to validate"
    assert lines[1].startswith("validation run: done in ")
    assert lines[1].endswith(" s")
    assert lines[2] == "retraining: 2 epochs (as set) on 50 samples"
    assert lines[3].startswith("retraining: done in ")
    scores = ", ".join(f"{k} {v:.4f}" for k, v in result.test_metrics.items())
    assert lines[4].startswith(f"test: {scores} on 20 samples (")
    used = result.info["used"]
    assert (used["epochs"], used["retrain_epochs"], used["batch_size"]) == (3, 2, 16)
    assert (used["optimizer"], used["learning_rate"], used["loss"]) == (
        "rmsprop",
        0.001,
        "binary_crossentropy",
    )


def test_k_fold_says_how_many_folds(said, data):
    workflow.run(RunConfig(spec=SPEC, data=data, epochs=2, batch_size=16, folds=2,
                           retrain_epochs=1))  # fmt: skip
    assert said.getvalue().splitlines()[0] == "validation run: 2 folds of 50 samples, 2 epochs each"


def test_the_sweep_counts_its_variants_and_estimates_the_time_left(said):
    variants = sweep_configs(RunConfig(recipe="imdb", quick=True, epochs=1, retrain_epochs=1),
                             [Experiment("a"), Experiment("b", {"hidden": (4,)})])  # fmt: skip
    run_sweep(variants)
    lines = said.getvalue().splitlines()
    assert lines[0] == "sweep: variant 1 of 2, a (time left not known yet)"
    second = [line for line in lines if line.startswith("sweep: variant 2 of 2, b (about ")]
    assert len(second) == 1
    assert second[0].endswith(" left)")
    assert lines[-1].startswith("sweep: 2 variants in ")


def test_durations_and_time_left_read_as_a_person_says_them():
    assert [duration(s) for s in (0.04, 59.94, 60, 83.4, 3600, 3725)] == [
        "0.0 s", "59.9 s", "1 min 0 s", "1 min 23 s", "1 h 0 min", "1 h 2 min",
    ]  # fmt: skip
    assert time_left(0, 3, 10.0) == "time left not known yet"
    assert time_left(1, 3, 30.0) == "about 1 min 0 s left"
    assert time_left(3, 3, 30.0) == "about 0.0 s left"


@pytest.mark.parametrize(
    ("verbose", "quiet", "expected"),
    [(None, False, 2), (None, True, 0), (1, True, 1), (0, False, 0)],
)
def test_the_cli_shows_one_line_an_epoch_when_its_output_is_not_a_terminal(
    verbose, quiet, expected
):
    # pytest captures stdout, so it is not a terminal here: a bar would be control codes.
    assert not sys.stdout.isatty()
    assert epoch_verbosity(argparse.Namespace(verbose=verbose, quiet=quiet)) == expected


def test_a_library_run_prints_nothing_unless_logging_asks():
    code = (
        "import numpy as np\n"
        "from anykeras import ClassifierSpec, Dataset, RunConfig, train_and_evaluate\n"
        "x = np.ones((12, 3), 'float32'); y = np.ones((12, 1), 'float32')\n"
        "spec = ClassifierSpec(input_shape=(3,), hidden=(2,))\n"
        "train_and_evaluate(RunConfig(spec=spec, data=Dataset(x, y, x, y), epochs=1,"
        " validation_size=4, retrain_epochs=1))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "validation run" not in done.stderr
