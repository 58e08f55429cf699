"""The `anykeras` command's one error boundary, the file system as it is, bounded input.

Each case runs ``python -m anykeras`` as a real process (or `anykeras.cli.main` where
only a folder's state matters) and checks: the exit status, exactly one line on stderr
and no traceback, and the folder the case works in as it was, symbolic links included.
A full disk is a real tmpfs mount (when the tests run as root).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import re
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import keras
import pytest

from anykeras.cli import main
from anykeras.cli.boundary import guarded, os_error_line
from anykeras.cli.checks import UsageError
from anykeras.training.run_folder import RunFolder

BACKEND = keras.backend.backend()
QUICK = ["--quick", "--verbose", "0", "--backend", BACKEND]
NO_MODEL = "never-read.keras"  # predict reads its reviews before its model
ENOSPC_ADVICE = "no space left on the device; free some space or choose another place"


def listing(folder: Path) -> dict[str, str]:
    """Every path below ``folder``: a link's target, a file's sha256, or "folder"."""
    entries = {}
    for path in sorted(folder.rglob("*")):  # rglob does not descend into links
        if path.is_symlink():
            entries[str(path.relative_to(folder))] = f"link to {path.readlink()}"
        elif path.is_file():
            entries[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            entries[str(path.relative_to(folder))] = "folder"
    return entries


def anykeras(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m anykeras ARGS`` in a real process; ``env`` is added to this one's."""
    return subprocess.run(
        [sys.executable, "-m", "anykeras", *args],
        check=False, cwd=cwd, capture_output=True, text=True, timeout=120,
        env={**os.environ, "KERAS_BACKEND": BACKEND, **env},
    )  # fmt: skip


#: TensorFlow's own C++ start-up lines, which it writes to stderr when it loads whatever
#: TF_CPP_MIN_LOG_LEVEL says ("I0000 00:00:1796695998.258093   12312 port.cc:153] ...").
TF_START_UP = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to "
    r"STDERR|[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] .*)$"
)


def one_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    """The one stderr line of a process that exited with ``code``; no traceback anywhere.

    TensorFlow's start-up lines are not ours, and are left out when TensorFlow loaded.
    """
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if not TF_START_UP.match(line)]
    assert len(lines) == 1, result.stderr
    assert result.stderr.endswith("\n"), result.stderr
    return lines[0]


def run_here(*args: str) -> tuple[int, str]:
    """``anykeras ARGS`` in this process: (exit status, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, err.getvalue()


# The environment.


@pytest.mark.parametrize("command", ["train --quick --out out", "golden check g"])
def test_a_keras_backend_that_is_no_backend_lists_the_real_ones(tmp_path, command):
    result = anykeras(*command.split(), cwd=tmp_path, KERAS_BACKEND="xyz")
    name = command.split()[0]
    assert one_line(result, 2) == (
        f"anykeras {name}: error: KERAS_BACKEND='xyz' is no Keras backend; expected one of "
        "jax, torch, tensorflow (or pass --backend)"
    )
    assert listing(tmp_path) == {}


# The boundary: unforeseen errors, --debug, errors of the file system, Ctrl-C.

UNFORESEEN = """
import sys
import anykeras.cli as cli
def broken(args):
    raise RuntimeError("a bug nobody foresaw\\nits second line")
cli.COMMANDS["predict"] = broken
sys.exit(cli.main(sys.argv[1:]))
"""


def unforeseen(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``anykeras [ARGS] predict --text good`` whose command raises a RuntimeError."""
    (tmp_path / "tmp").mkdir()
    return subprocess.run(
        [sys.executable, "-c", UNFORESEEN, *args, "predict", "--text", "good", "--model", "m"],
        check=False, cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "KERAS_BACKEND": BACKEND, "TMPDIR": str(tmp_path / "tmp"), **env},
    )  # fmt: skip


def test_an_unforeseen_error_is_one_line_and_its_traceback_goes_to_a_file(tmp_path):
    line = one_line(unforeseen(tmp_path), 1)
    [written] = (tmp_path / "tmp").iterdir()
    assert written.name.startswith("anykeras-predict-")
    assert written.suffix == ".txt"
    assert line == (
        "anykeras predict: unexpected error: RuntimeError: a bug nobody foresaw; the full "
        f"traceback is in {written}"
    )
    story = written.read_text(encoding="utf-8")
    assert story.startswith("Traceback (most recent call last):\n")
    assert story.endswith("RuntimeError: a bug nobody foresaw\nits second line\n")


@pytest.mark.parametrize("how", ["--debug", "ANYKERAS_DEBUG=1"])
def test_debug_prints_the_traceback_before_the_one_line(tmp_path, how):
    args, env = (["--debug"], {}) if how == "--debug" else ([], {"ANYKERAS_DEBUG": "1"})
    result = unforeseen(tmp_path, *args, **env)
    assert result.returncode == 1
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert "RuntimeError: a bug nobody foresaw\nits second line\n" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("anykeras predict: unexpected error: ")


def test_file_system_errors_are_one_line_naming_the_path(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    (tmp_path / "folder").mkdir()
    attempts = {
        "folder": lambda: (tmp_path / "folder").write_text("x"),
        "file/below": lambda: (tmp_path / "file" / "below").write_text("x"),
        "missing": (tmp_path / "missing").read_text,
    }
    for attempt in attempts.values():
        assert guarded("train", attempt) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"anykeras train: error: {tmp_path}/folder: it is a folder where a file was expected; "
        "give a file",
        f"anykeras train: error: {tmp_path}/file/below: a part of the path is a file where a "
        "folder was expected",
        f"anykeras train: error: {tmp_path}/missing: it does not exist",
    ]
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/runs/x", None)
    assert os_error_line(full) == f"/runs/x: {ENOSPC_ADVICE}"
    assert os_error_line(OSError(errno.EIO, "Input/output error")) == "input/output error"


def test_usage_is_status_2_and_ctrl_c_is_130(capsys):
    def usage() -> int:
        raise UsageError("--epochs must be 1 or more")

    def ctrl_c() -> int:
        raise KeyboardInterrupt

    assert (guarded("train", usage), guarded("sweep", ctrl_c), guarded("train", lambda: 0)) == (
        2, 130, 0,
    )  # fmt: skip
    assert capsys.readouterr().err.splitlines() == [
        "anykeras train: error: --epochs must be 1 or more",
        "anykeras sweep: interrupted",
    ]


def test_golden_usage_errors_are_one_line(tmp_path):
    line = one_line(anykeras("golden", "make", "no_module:fn", "g", cwd=tmp_path), 2)
    assert line == "anykeras golden make: error: the following arguments are required: --x"
    assert listing(tmp_path) == {}


# --out: the current folder, symbolic links, a file.


def test_out_dot_is_refused_and_the_refusal_writes_nothing(tmp_path):
    for _ in range(2):  # the second try is refused for the same reason, not a leftover lock
        line = one_line(anykeras("train", *QUICK, "--out", ".", cwd=tmp_path), 2)
        assert line == (
            "anykeras train: error: --out . is the current folder or holds it; name a folder "
            "of its own, such as --out runs/x (its work folder is made beside it)"
        )
        assert listing(tmp_path) == {}
        assert not (tmp_path.parent / f".{tmp_path.name}.anykeras").exists()


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_a_dangling_link_for_out_is_refused_before_work(tmp_path, command):
    (tmp_path / "out").symlink_to(tmp_path / "nowhere")
    before = listing(tmp_path)
    code, stderr = run_here(command, *QUICK, "--out", str(tmp_path / "out"))
    assert (code, stderr) == (
        2,
        f"anykeras {command}: error: --out {tmp_path}/out is a symbolic link to "
        f"{tmp_path}/nowhere, which does not exist; create {tmp_path}/nowhere or give "
        "another --out\n",
    )
    assert listing(tmp_path) == before


@pytest.mark.parametrize("target", ["file", "link to a file"])
def test_sweep_out_at_a_file_is_refused_before_any_training(tmp_path, target):
    (tmp_path / "results.md").write_text("mine")
    out = tmp_path / "out"
    if target == "file":
        out = tmp_path / "results.md"
    else:
        out.symlink_to(tmp_path / "results.md")
    before = listing(tmp_path)
    result = anykeras("sweep", *QUICK, "--out", str(out), cwd=tmp_path)
    assert one_line(result, 2) == (
        f"anykeras sweep: error: --out {tmp_path}/results.md is a file; give a folder"
    )
    assert "experiment" not in result.stdout  # no table: nothing was trained
    assert listing(tmp_path) == before


def test_a_link_to_a_finished_run_is_followed_and_kept_with_overwrite(tmp_path):
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "metrics.json").write_text("{}")
    (tmp_path / "out").symlink_to("target")
    code, stderr = run_here(
        "train", *QUICK, "--epochs", "1", "--retrain-epochs", "1", "--overwrite",
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert (code, stderr) == (0, "")
    assert (tmp_path / "out").readlink() == Path("target")  # the link itself is untouched
    assert sorted(listing(tmp_path)) == [
        "out", "target", "target/accuracy.png", "target/history.json", "target/log.csv",
        "target/loss.png", "target/metrics.json", "target/model.keras",
    ]  # fmt: skip
    assert (tmp_path / "target" / "metrics.json").read_text() != "{}"


# Out of space: a real, small tmpfs.


@pytest.fixture
def tmpfs(tmp_path):
    """``tmpfs(size)``: a new tmpfs of ``size`` (``400k``), unmounted after the test."""
    if os.geteuid() != 0:
        pytest.skip("a full disk needs a tmpfs mount, which needs root")
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        disk = tmp_path / f"disk-{size}"
        disk.mkdir()
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)],
            capture_output=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
        mounted.append(disk)
        return disk

    yield mount
    for disk in mounted:
        subprocess.run(["umount", str(disk)], check=True)


@pytest.fixture
def small_disk(tmpfs):
    """A 400 KiB tmpfs: room for a run folder's small files, not for its model."""
    return tmpfs("400k")


def test_no_room_for_the_work_folder_leaves_no_lock_behind(tmpfs):
    disk = tmpfs("4k")  # one page: the lock file fits, its settings.json does not
    folder = RunFolder(disk / "out", settings={"seed": 0})
    with pytest.raises(OSError, match="No space left") as caught, folder:
        pass
    assert caught.value.filename == str(disk / ".out.anykeras")
    assert listing(disk) == {}  # no work folder, no lock: the next try starts clean


def test_no_space_for_out_is_one_line_and_the_previous_run_is_intact(small_disk):
    out = small_disk / "out"
    out.mkdir()
    (out / "metrics.json").write_text('{"test_accuracy": 0.88}')
    (out / "model.keras").write_bytes(b"the previous run")
    before = listing(small_disk)
    code, stderr = run_here(
        "train", *QUICK, "--epochs", "1", "--retrain-epochs", "1", "--overwrite", "--out", str(out)
    )
    assert (code, stderr) == (
        1,
        f"anykeras train: error: {small_disk}/.out.anykeras/stage/model.keras: {ENOSPC_ADVICE}\n",
    )
    assert listing(small_disk) == before  # nothing half-written, no work folder


def test_a_full_temporary_folder_for_the_workers_is_one_line_and_leaves_no_job_folder(tmpfs):
    # Data-parallel training copies the model and the data into $TMPDIR for its workers.
    disk, work = tmpfs("64k"), tmpfs("1m")
    result = anykeras("train", *QUICK, "--processes", "2", "--out", "out", cwd=work,
                      TMPDIR=str(disk))  # fmt: skip
    line = one_line(result, 1)
    assert line.startswith(f"anykeras train: error: {disk}/anykeras-distributed-")
    assert line.endswith(f": {ENOSPC_ADVICE}")
    assert not list(disk.glob("anykeras-distributed-*"))  # the job folder went with the error
    assert listing(work) == {}  # no --out, no work folder


# Bounded input: predict --file, --model.


@pytest.mark.parametrize("model", ["/dev/zero", "{tmp}"])
def test_a_model_that_is_a_device_or_a_folder_is_not_called_missing(tmp_path, model):
    model = model.format(tmp=tmp_path)
    code, stderr = run_here("predict", "--model", model, "--text", "good")
    assert (code, stderr) == (
        2,
        f"anykeras predict: error: --model {model} is not a regular file (a folder, a device "
        "or a pipe); give a saved .keras file\n",
    )


def test_predict_help_states_the_size_limit():
    assert "at most 16 MiB" in " ".join(
        anykeras("predict", "--help", cwd=Path.cwd()).stdout.split()
    )


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_that_never_ends_is_read_to_the_bound_and_refused(tmp_path, device):
    result = anykeras("predict", "--model", NO_MODEL, "--file", device, cwd=tmp_path)
    assert one_line(result, 2) == (
        f"anykeras predict: error: --file {device} is larger than 16 MiB; give a smaller text file"
    )
    assert listing(tmp_path) == {}


def test_a_named_pipe_that_never_ends_is_refused(tmp_path):
    pipe = tmp_path / f"reviews-{uuid.uuid4().hex[:6]}"
    os.mkfifo(pipe)

    def write_forever() -> None:
        with contextlib.suppress(BrokenPipeError), pipe.open("wb") as writer:
            while True:
                writer.write(b"a fine film\n" * 4096)

    writer = threading.Thread(target=write_forever, daemon=True)
    writer.start()
    code, stderr = run_here("predict", "--model", NO_MODEL, "--file", str(pipe))
    writer.join(timeout=30)
    assert (code, stderr) == (
        2, f"anykeras predict: error: --file {pipe} is larger than 16 MiB; give a smaller "
        "text file\n",
    )  # fmt: skip
    assert not writer.is_alive()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"a fine film\n" * (16 * 2**20 // 12 + 1),
            "is larger than 16 MiB; give a smaller text file",
        ),
        (b"a fine film\n\x00\x01\x02", "is binary, not text (a NUL byte on line 2)"),
        (b"\x89PNG\r\n\x1a\n", "is not UTF-8 text (line 1)"),
    ],
    ids=["over 16 MiB", "NUL bytes", "a PNG"],
)
def test_a_file_too_large_or_binary_is_one_line(tmp_path, content, message):
    (tmp_path / "reviews.txt").write_bytes(content)
    before = listing(tmp_path)
    code, stderr = run_here("predict", "--model", NO_MODEL, "--file", str(tmp_path / "reviews.txt"))
    assert (code, stderr) == (
        2, f"anykeras predict: error: --file {tmp_path}/reviews.txt {message}\n"
    )  # fmt: skip
    assert listing(tmp_path) == before
