"""Bad input to the `anykeras` command: one line, the right exit status, nothing written.

Each case runs `anykeras.cli.main` in this process and checks: the exit status (2 for
a bad command line, 1 for bad data or a run that diverged), stderr is exactly one line
``anykeras <command>: error: ...`` with no traceback, and the folder the case works in
(its --out, its files) is byte for byte what it was before.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import pytest

from anykeras import ClassifierSpec, build
from anykeras.cli import main
from anykeras.saving import save_model

BACKEND = keras.backend.backend()
QUICK = ["--quick", "--verbose", "0", "--backend", BACKEND]


def run(args: list[str]) -> tuple[int, str, str]:
    """``anykeras ARGS`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(args)
        except SystemExit as exit_:  # argparse's errors exit from parse_args
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


def snapshot(folder: Path) -> dict[str, str]:
    """Every path below ``folder`` and the sha256 of each file's bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        if p.is_file()
        else "folder"
        for p in sorted(folder.rglob("*"))
    }


def assert_one_line_error(code: int, stdout: str, stderr: str, command: str) -> str:
    """The error's one line; stdout may hold only the progress lines of what was to run."""
    assert stderr.startswith(f"anykeras {command}: error: "), stderr
    assert stderr.count("\n") == 1, stderr
    assert stderr.endswith("\n"), stderr
    assert "Traceback" not in stderr + stdout
    assert all(line.startswith("anykeras: ") for line in stdout.splitlines()), stdout
    return stderr.rstrip("\n")


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    """Tiny saved models (never trained: only their shapes matter) and damaged files."""
    folder = tmp_path_factory.mktemp("models")
    specs = {
        "imdb": ClassifierSpec(input_shape=(10_000,), hidden=(2,)),
        "reuters": ClassifierSpec(
            input_shape=(10_000,), hidden=(2,), task="multiclass", num_classes=46
        ),
    }
    for name, spec in specs.items():
        save_model(build(spec, "functional"), folder / f"{name}.keras")
    (folder / "garbage.keras").write_bytes(np.random.default_rng(0).bytes(4096))
    whole = (folder / "imdb.keras").read_bytes()
    (folder / "truncated.keras").write_bytes(whole[: len(whole) // 2])
    return folder


def write(relative: str, content: bytes | str) -> Callable[[Path], None]:
    """A setup that writes ``content`` to ``tmp_path / relative``."""

    def setup(tmp_path: Path) -> None:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)

    return setup


def mnist_npz(y_train: list[int]) -> bytes:
    buffer = io.BytesIO()
    images = np.zeros((2, 28, 28), np.uint8)
    labels = np.array(y_train, np.uint8)
    np.savez(buffer, x_train=images, y_train=labels, x_test=images, y_test=labels)
    return buffer.getvalue()


@dataclasses.dataclass(frozen=True)
class Case:
    """``argv`` (``{tmp}`` is the case's folder, ``{models}`` the models') and its error.

    ``extra`` arguments follow ``argv`` as they are (those that hold spaces).
    """

    argv: str
    code: int
    message: str | re.Pattern[str]
    setup: Callable[[Path], None] | None = None
    extra: tuple[str, ...] = ()


TRAIN = "train --out {tmp}/out"
SEED = "expected an integer from 0 to 4294967295"
RATE = "expected a finite number > 0"
PREDICT = "predict --model {models}/imdb.keras"
CASES = {
    # Numbers argparse checks (anykeras.cli.checks).
    "seed -1": Case(f"{TRAIN} --seed -1", 2, f"argument --seed: {SEED}. Received: '-1'"),
    "seed 2**32": Case(
        f"{TRAIN} --seed 4294967296", 2, f"argument --seed: {SEED}. Received: '4294967296'"
    ),
    "seed x": Case(f"{TRAIN} --seed x", 2, f"argument --seed: {SEED}. Received: 'x'"),
    "learning rate nan": Case(
        f"{TRAIN} --learning-rate nan", 2, f"argument --learning-rate: {RATE}. Received: 'nan'"
    ),
    "learning rate inf": Case(
        f"{TRAIN} --learning-rate inf", 2, f"argument --learning-rate: {RATE}. Received: 'inf'"
    ),
    "learning rate -1": Case(
        f"{TRAIN} --learning-rate -1", 2, f"argument --learning-rate: {RATE}. Received: '-1'"
    ),
    "learning rate 0": Case(
        f"{TRAIN} --learning-rate 0", 2, f"argument --learning-rate: {RATE}. Received: '0'"
    ),
    "early stopping -1": Case(
        f"{TRAIN} --early-stopping -1",
        2,
        "argument --early-stopping: expected an integer >= 0. Received: '-1'",
    ),
    "epochs 0": Case(
        f"{TRAIN} --epochs 0", 2, "argument --epochs: expected a positive integer. Received: '0'"
    ),
    "batch size 0": Case(
        f"{TRAIN} --batch-size 0",
        2,
        "argument --batch-size: expected a positive integer. Received: '0'",
    ),
    # --out (anykeras.training.run_folder.check_writable_folder).
    "out is a file": Case(
        "train --out {tmp}/out", 2, "--out {tmp}/out is a file; give a folder", write("out", "x")
    ),
    "out below a file": Case(
        "train --out {tmp}/file/out",
        2,
        "--out {tmp}/file/out lies below {tmp}/file, which is a file",
        write("file", "x"),
    ),
    "out holds other files": Case(
        TRAIN,
        2,
        "--out {tmp}/out holds other files (notes.txt...); give a new or empty folder",
        write("out/notes.txt", "mine"),
    ),
    "out holds a finished run": Case(
        TRAIN,
        2,
        "--out {tmp}/out holds a finished run; pass --overwrite to replace it",
        write("out/metrics.json", "{}"),
    ),
    # Reviews to predict (anykeras.cli.checks.read_reviews).
    "text empty": Case(
        PREDICT, 2, "--text must hold at least one word. Received: ''", extra=("--text", "")
    ),
    "text blank": Case(
        f"{PREDICT} --text good",
        2,
        "--text must hold at least one word. Received: '   '",
        extra=("--text", "   "),
    ),
    "file of blank lines": Case(
        f"{PREDICT} --file {{tmp}}/reviews.txt",
        2,
        "--file {tmp}/reviews.txt holds no review (every line is blank)",
        write("reviews.txt", "\n   \n\t\n"),
    ),
    "file not UTF-8": Case(
        f"{PREDICT} --file {{tmp}}/reviews.txt",
        2,
        "--file {tmp}/reviews.txt is not UTF-8 text (line 3)",
        write("reviews.txt", b"A fine film.\n\nD\xe9j\xe0 vu, in Latin-1.\n"),
    ),
    "file is a folder": Case(
        f"{PREDICT} --file {{tmp}}/reviews",
        2,
        "--file {tmp}/reviews is a folder; give a text file",
        write("reviews/one.txt", "A fine film."),
    ),
    "file missing": Case(
        f"{PREDICT} --file {{tmp}}/reviews.txt",
        2,
        "--file {tmp}/reviews.txt cannot be read: No such file or directory",
    ),
    # Models (anykeras.cli._load_model and anykeras.cli.checks.check_head).
    "model missing": Case(
        "predict --model {tmp}/model.keras --text good",
        2,
        "--model must be a saved .keras file; {tmp}/model.keras does not exist",
    ),
    "model of garbage bytes": Case(
        "evaluate --quick --model {models}/garbage.keras",
        2,
        "--model {models}/garbage.keras is damaged or not a .keras file (no whole zip archive)",
    ),
    "model cut short": Case(
        "predict --model {models}/truncated.keras --text good",
        2,
        "--model {models}/truncated.keras is damaged or not a .keras file (no whole zip archive)",
    ),
    "reuters model on imdb": Case(
        "evaluate --quick --dataset imdb --model {models}/reuters.keras",
        2,
        "{models}/reuters.keras ends in 46 softmax unit(s), but imdb needs 1 sigmoid unit(s) "
        "(binary)",
    ),
    "imdb model on housing": Case(
        "evaluate --quick --dataset housing --model {models}/imdb.keras",
        2,
        "{models}/imdb.keras takes inputs of shape (None, 10000), but housing gives (None, 13)",
    ),
    "predict with a reuters model": Case(
        "predict --model {models}/reuters.keras --text good",
        2,
        "{models}/reuters.keras ends in 46 softmax unit(s), but imdb needs 1 sigmoid unit(s) "
        "(binary)",
    ),
    # Data files (anykeras.data): exit status 1.
    "mnist.npz of garbage": Case(
        "train --dataset mnist --verbose 0 --out {tmp}/out",
        1,
        "{tmp}/data/mnist/mnist.npz is not a valid mnist.npz: an .npz file must be a zip "
        "archive of NumPy arrays. Received: a file that is not a zip archive (damaged, cut "
        "short or another format).",
        write("data/mnist/mnist.npz", b"not an npz file" * 10),
    ),
    "mnist label out of range": Case(
        "train --dataset mnist --verbose 0 --out {tmp}/out",
        1,
        "{tmp}/data/mnist/mnist.npz is not a valid mnist.npz: y_train must be class ids in "
        "[0, 10). Received: y_train[1]=12.",
        write("data/mnist/mnist.npz", mnist_npz([3, 12])),
    ),
    "imdb.npz not a known file": Case(
        "train --dataset imdb --verbose 0 --out {tmp}/out",
        1,
        "{tmp}/data/imdb/imdb.npz is not a trusted imdb.npz: ",
        write("data/imdb/imdb.npz", b"not the file Keras downloads"),
    ),
    # Training that diverges: exit status 1, nothing published, nothing left behind.
    "loss becomes nan": Case(
        f"{TRAIN} --quick --verbose 0 --epochs 2 --learning-rate 1e30",
        1,
        # PyTorch's binary cross-entropy fails on the NaN predictions before the loss is NaN.
        re.compile(
            r"the (loss is nan after epoch 1|predictions are nan): training diverged\. Try a "
            r"lower learning rate\."
        ),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_is_one_line_and_writes_nothing(case, models, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ANYKERAS_DATA_DIR", str(tmp_path / "data"))
    if case.setup is not None:
        case.setup(tmp_path)
    argv = [*case.argv.format(tmp=tmp_path, models=models).split(), *case.extra]
    command = argv[0]
    before = snapshot(tmp_path)
    code, stdout, stderr = run([*argv, "--backend", BACKEND])
    message = assert_one_line_error(code, stdout, stderr, command)
    prefix = f"anykeras {command}: error: "
    if isinstance(case.message, re.Pattern):
        assert case.message.fullmatch(message.removeprefix(prefix)), message
    else:
        expected = prefix + case.message.format(tmp=tmp_path, models=models)
        if expected.endswith(": "):  # the reason that follows is Keras's or the data module's
            assert message.startswith(expected), message
        else:
            assert message == expected
    assert code == case.code
    assert snapshot(tmp_path) == before


def test_a_finished_run_is_replaced_only_with_overwrite(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "metrics.json").write_text("{}")
    (out / "model.keras").write_bytes(b"an older run")
    args = ["train", *QUICK, "--epochs", "1", "--retrain-epochs", "1", "--out", str(out)]
    before = snapshot(tmp_path)
    code, stdout, stderr = run(args)
    assert (code, stdout) == (2, "")
    assert assert_one_line_error(code, stdout, stderr, "train").endswith(
        "holds a finished run; pass --overwrite to replace it"
    )
    assert snapshot(tmp_path) == before

    code, _, stderr = run([*args, "--overwrite"])
    assert (code, stderr) == (0, "")
    assert sorted(p.name for p in out.iterdir()) == [
        "accuracy.png", "history.json", "log.csv", "loss.png", "metrics.json", "model.keras",
    ]  # fmt: skip
    assert json.loads((out / "metrics.json").read_text())["validation_epochs"] == 1
    assert keras.saving.load_model(out / "model.keras").count_params() > 0
    assert list(tmp_path.iterdir()) == [out]  # the work folder and the old run are gone


HOLD = """
import sys
from anykeras.training.run_folder import RunFolder
with RunFolder(sys.argv[1]):
    print("holding", flush=True)
    sys.stdin.readline()
"""


def test_a_second_run_into_a_folder_in_use_is_refused_naming_the_first(tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "holding\n"
        before = snapshot(tmp_path)
        assert f"pid {holder.pid}, started " in (tmp_path / ".out.anykeras" / "lock").read_text()
        code, stdout, stderr = run(["train", *QUICK, "--out", str(out)])
        message = assert_one_line_error(code, stdout, stderr, "train")
        assert code == 2
        assert message.startswith(
            f"anykeras train: error: another anykeras run is writing to {out} "
            f"(pid {holder.pid}, started "
        ), message
        assert message.endswith("); wait for it or choose another --out")
        assert snapshot(tmp_path) == before  # the holder's lock file is untouched
        assert not out.exists()
    finally:
        holder.communicate("done\n", timeout=60)
    assert holder.returncode == 0


def test_main_returns_the_status_of_a_usage_error_instead_of_exiting():
    with contextlib.redirect_stderr(io.StringIO()):
        assert main(["train", "--seed", "x", "--out", "out"]) == 2


def test_a_model_file_that_is_not_a_keras_archive_is_not_called_missing(models):
    code, stdout, stderr = run(
        ["predict", "--model", str(models / "garbage.keras"), "--text", "good"]
    )
    assert code == 2
    assert "not found" not in assert_one_line_error(code, stdout, stderr, "predict").lower()
