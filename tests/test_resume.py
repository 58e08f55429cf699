"""Runs that lose nothing: ``anykeras train --backup``, killed anywhere, finishes exactly.

Every kill here is real: tests/faults.py runs the command in its own process and sends
that process SIGKILL at a chosen point (no exception, no cleanup). The command then
runs again, as a user would run it, and must end with the files of a run that was
never interrupted: the same history, metrics and weights, and nothing else.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from anykeras.cli import main
from anykeras.training.resume import PhaseBackup
from anykeras.training.run_folder import RunFolder, RunFolderError
from anykeras.training.work_repair import remove

BACKEND = keras.backend.backend()
FAULTS = Path(__file__).with_name("faults.py")
# The smallest run that has every phase: 4 validation epochs of 3 batches (1,500
# synthetic reviews, batch 512); on this data the best epoch is the 4th, so the
# retrain has 4 epochs too. Seeded shuffling is on, as by default.
TRAIN = ["train", "--quick", "--dataset", "imdb", "--epochs", "4", "--backup",
         "--verbose", "0", "--backend", BACKEND]  # fmt: skip


def train_args(out: Path, seed: int = 3) -> list[str]:
    return [*TRAIN, "--seed", str(seed), "--out", str(out)]


def run(args: list[str]) -> tuple[int, str, str]:
    """``anykeras ARGS`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def run_with_fault(point: str, args: list[str], log: Path) -> subprocess.CompletedProcess:
    """``anykeras ARGS`` in a new process that kills itself at ``point`` (tests/faults.py)."""
    return subprocess.run(
        [sys.executable, str(FAULTS), point, "--log", str(log), "--", *args],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "KERAS_BACKEND": BACKEND},
    )  # fmt: skip


def events(log: Path) -> list[dict[str, Any]]:
    """What a faults.py process did: where each phase resumed, each epoch it backed up."""
    if not log.exists():
        return []
    lines = log.read_text(encoding="utf-8").splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "pid"} for line in lines]


def trained(phase: str, resumed_at: int, epochs: range) -> list[dict[str, Any]]:
    """The events of ``phase`` resumed after ``resumed_at`` epochs, then ``epochs`` run."""
    return [{"phase": phase, "resumed_at": resumed_at}] + [
        {"phase": phase, "epoch": epoch} for epoch in epochs
    ]


def files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def assert_same_run(got: Path, want: Path) -> None:
    """``got`` holds the files of ``want``, with the same history, metrics and weights."""
    assert files(got) == files(want)  # nothing missing, nothing extra (no temporary files)
    assert not any(name.startswith(".") or "/." in name for name in files(got))
    history = json.loads((got / "history.json").read_text())
    expected = json.loads((want / "history.json").read_text())
    assert sorted(history) == sorted(expected) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    for key, values in expected.items():
        np.testing.assert_allclose(history[key], values, rtol=0, atol=1e-6, err_msg=key)
    metrics = json.loads((got / "metrics.json").read_text())
    expected = json.loads((want / "metrics.json").read_text())
    assert sorted(metrics) == sorted(expected)
    for key, value in expected.items():
        if key.startswith("test_"):
            assert metrics[key] == pytest.approx(value, rel=0, abs=1e-6), key
        elif key != "seconds":
            assert metrics[key] == value, key
    weights = keras.saving.load_model(got / "model.keras").get_weights()
    expected = keras.saving.load_model(want / "model.keras").get_weights()
    assert [w.shape for w in weights] == [w.shape for w in expected]
    for index, (value, want_value) in enumerate(zip(weights, expected, strict=True)):
        np.testing.assert_allclose(value, want_value, rtol=0, atol=1e-6, err_msg=f"weight {index}")


def work_folder(out: Path) -> Path:
    return out.parent / f".{out.name}.anykeras"


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    """The reference: the command run once, never interrupted (in this process)."""
    out = tmp_path_factory.mktemp("uninterrupted") / "run"
    code, _, stderr = run(train_args(out))
    assert code == 0, stderr
    metrics = json.loads((out / "metrics.json").read_text())
    # The run is as long as the docstring says, so every kill point below is reached.
    assert (metrics["validation_epochs"], metrics["retrain_epochs"]) == (4, 4)
    assert not work_folder(out).exists()
    return out


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory) -> Path:
    """The work folder of the same command killed after validation epoch 2's backup."""
    root = tmp_path_factory.mktemp("interrupted")
    out = root / "run"
    killed = run_with_fault("validation-epoch-2", train_args(out), root / "log.jsonl")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert events(root / "log.jsonl") == trained("validation", 0, range(1, 3))
    assert not out.exists()
    assert (work_folder(out) / "backup" / "validation.npz").is_file()
    return work_folder(out)


def copy_of(interrupted: Path, tmp_path: Path) -> Path:
    """An ``--out`` beside a copy of the interrupted run's work folder."""
    out = tmp_path / "run"
    shutil.copytree(interrupted, work_folder(out))
    return out


# The chain: each process is killed at its point, the next one resumes from what it
# left, and the last one finishes. Each entry: the point, and what that process
# trained (the phase, how many epochs it found done, the epochs it backed up).
CHAIN = [
    # After validation epoch 1's backup was written.
    ("validation-epoch-1", trained("validation", 0, range(1, 2))),
    # Mid-epoch: inside the second batch of validation epoch 3 (epoch 2 was backed up).
    ("validation-batch-3", trained("validation", 1, range(2, 3))),
    # Between the phases: validation.json written, the retrain not started.
    ("between-phases", trained("validation", 2, range(3, 5))),
    # After retrain epoch 1's backup (the validation run is not run again).
    ("retrain-epoch-1", trained("retrain", 0, range(1, 2))),
    # While writing retrain epoch 3's backup: half a temporary file, not moved into place.
    ("retrain-backup-3", trained("retrain", 1, range(2, 3))),
    # While writing the results: history and curves staged, model.keras half made.
    ("results", trained("retrain", 2, range(3, 5))),
    # A finished retrain keeps no backup, so the last run retrains (the same seed, the
    # same weights), writes the results and publishes them.
    ("none", trained("retrain", 0, range(1, 5))),
]


def test_a_run_killed_at_every_stage_finishes_as_if_never_interrupted(uninterrupted, tmp_path):
    out = tmp_path / "runs" / "run"
    logs = tmp_path / "logs"
    logs.mkdir()
    for number, (point, expected) in enumerate(CHAIN, start=1):
        log = logs / f"{number}-{point}.jsonl"
        process = run_with_fault(point, train_args(out), log)
        if point == "none":
            assert process.returncode == 0, process.stderr
        else:
            assert process.returncode == -signal.SIGKILL, (point, process.stderr)
            assert not out.exists(), point  # nothing is published before the end
            assert list(out.parent.iterdir()) == [work_folder(out)], point
        assert events(log) == expected, point  # it carried on from the backups left to it
        if point == "between-phases":
            assert (work_folder(out) / "validation.json").is_file()
    assert_same_run(out, uninterrupted)
    assert list(out.parent.iterdir()) == [out]  # the work folder is gone


@pytest.fixture(scope="module")
def between_phases(tmp_path_factory) -> Path:
    """The work folder of the same command killed once validation.json was written."""
    root = tmp_path_factory.mktemp("between")
    out = root / "run"
    killed = run_with_fault("between-phases", train_args(out), root / "log.jsonl")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (work_folder(out) / "validation.json").is_file()
    return work_folder(out)


def as_folder(path: Path) -> None:
    remove(path)
    path.mkdir()
    (path / "stray").write_text("x")


def as_file(path: Path) -> None:
    remove(path)
    path.write_bytes(b"not a folder")


def cut_short(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


def rewrite_backup(path: Path, **changes: Any) -> None:
    """Rewrite the backup ``path`` with ``changes`` to its arrays (None drops one)."""
    with np.load(path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    for name, value in changes.items():
        if value is None:
            del arrays[name]
        else:
            arrays[name] = value
    with path.open("wb") as handle:
        np.savez(handle, **arrays)


def without_optimizer(path: Path) -> str:
    """Drop the optimizer's variables from the backup ``path``: a valid archive, not usable."""
    with np.load(path, allow_pickle=False) as stored:
        names = [name for name in stored.files if name.startswith("optimizer_")]
    rewrite_backup(path, **dict.fromkeys(names))
    where = f"where this run has {len(names)}"
    return f"cannot be used as a backup (it holds 0 optimizer variables {where})"


def json_error(data: bytes) -> str:
    try:
        json.loads(data.decode())
    except ValueError as error:
        return str(error)
    raise AssertionError(data)


# Each shape of damage to what a killed run left: (the work folder it starts from, the
# entry, how it is damaged, what the line says is wrong with it, what happens next).
PHASE = "starting this phase over"
DAMAGE = {
    "backup file a folder": ("interrupted", "backup/validation.npz", as_folder,
                             "is a folder where a file belongs", PHASE),
    "backup folder a file": ("interrupted", "backup", as_file,
                             "is a file where a folder belongs", PHASE),
    "backup random bytes": ("interrupted", "backup/validation.npz",
                            lambda p: p.write_bytes(b"not a backup" * 100),
                            "cannot be used as a backup (not an .npz archive)", PHASE),
    "backup meta of the wrong type": ("interrupted", "backup/validation.npz",
                                      lambda p: rewrite_backup(p, __meta__=np.array("[2]")),
                                      "cannot be used as a backup (list indices must be "
                                      "integers or slices, not str)", PHASE),
    # The model's variables fit, the optimizer's do not: none is changed, so the phase
    # starts over from the fresh model, not from the backup's weights.
    "backup without the optimizer": ("interrupted", "backup/validation.npz",
                                     without_optimizer, None, PHASE),
    "settings cut short": ("interrupted", "settings.json", cut_short, None,
                           "starting the run over"),
    "settings of the wrong type": ("interrupted", "settings.json",
                                   lambda p: p.write_text('["seed", 3]'),
                                   "holds a JSON array where an object belongs",
                                   "starting the run over"),
    "stage a file": ("interrupted", "stage", as_file, "is a file where a folder belongs",
                     "making it again"),
    "lock a folder": ("interrupted", "lock", as_folder, "is a folder where a file belongs",
                      "making a new one"),
    "work folder a file": ("interrupted", "", as_file, "is a file where a folder belongs",
                           "starting the run over"),
    "replaced a file": ("interrupted", "replaced", as_file,
                        "is a file where a folder belongs", "carrying on"),
    "history cut short": ("between_phases", "validation.json", cut_short, None,
                          "starting the validation run over"),
    "history random bytes": ("between_phases", "validation.json",
                             lambda p: p.write_bytes(bytes(range(255, 0, -1))),
                             "is not UTF-8 text", "starting the validation run over"),
    "history of the wrong type": ("between_phases", "validation.json",
                                  lambda p: p.write_text("[0.5, 0.4]"),
                                  "holds a JSON array where an object belongs",
                                  "starting the validation run over"),
    "history without val_loss": ("between_phases", "validation.json",
                                 lambda p: p.write_text('{"loss": [0.5]}'),
                                 "has no 'val_loss' key (keys: ['loss'])",
                                 "starting the validation run over"),
    "history of strings": ("between_phases", "validation.json",
                           lambda p: p.write_text('{"loss": ["a"], "val_loss": [0.5]}'),
                           "key 'loss' is not a list of numbers",
                           "starting the validation run over"),
    "history a folder": ("between_phases", "validation.json", as_folder,
                         "is a folder where a file belongs", "starting the validation run over"),
}  # fmt: skip


@pytest.mark.parametrize("shape", DAMAGE)
def test_a_damaged_work_folder_is_reported_in_one_line_and_its_phase_starts_over(
    shape, uninterrupted, request, tmp_path
):
    base, entry, damage, problem, redo = DAMAGE[shape]
    out = copy_of(request.getfixturevalue(base), tmp_path)
    path = work_folder(out) / entry if entry else work_folder(out)
    found = damage(path)  # what the line says, where the damage decides it
    if problem is None:  # cut short: the line quotes the JSON reader's own words
        problem = found or f"is not JSON ({json_error(path.read_bytes())})"
    code, stdout, stderr = run(train_args(out))
    assert (code, stderr) == (0, "")
    warnings = [line for line in stdout.splitlines() if ": damaged work folder: " in line]
    assert warnings == [f"anykeras: damaged work folder: {path} {problem}; removed it, {redo}"]
    assert_same_run(out, uninterrupted)
    assert list(tmp_path.iterdir()) == [out]  # the work folder is gone


def test_fit_with_a_damaged_backup_dir_says_so_and_trains_from_the_start(tmp_path, caplog):
    weights, history = fit_tiny(None)
    backup = tmp_path / "backup"
    backup.write_text("a file where the backups belong")
    with caplog.at_level("WARNING", logger="anykeras"):
        resumed_weights, resumed_history = fit_tiny(str(backup))
    assert caplog.messages == [
        f"damaged work folder: {backup} is a file where a folder belongs; removed it, {PHASE}"
    ]
    assert resumed_history == history
    for got, want in zip(resumed_weights, weights, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    assert list(backup.iterdir()) == []


def test_a_rerun_with_other_settings_starts_over_instead_of_mixing(
    uninterrupted, interrupted, tmp_path, monkeypatch
):
    clean = tmp_path / "clean"
    code, _, stderr = run(train_args(clean, seed=4))
    assert code == 0, stderr
    # The seed matters, so a run that mixed seed 3's epochs into seed 4's would show.
    seed_3 = json.loads((uninterrupted / "history.json").read_text())
    assert json.loads((clean / "history.json").read_text())["loss"][0] != seed_3["loss"][0]

    resumed_at = []
    restore = PhaseBackup.restore

    def recorded(backup: PhaseBackup, model: keras.Model) -> int:
        resumed_at.append((backup.path.stem, restore(backup, model)))
        return resumed_at[-1][1]

    monkeypatch.setattr(PhaseBackup, "restore", recorded)
    out = copy_of(interrupted, tmp_path)  # seed 3, killed after validation epoch 2
    code, _, stderr = run(train_args(out, seed=4))
    assert code == 0, stderr
    assert stderr == ""
    assert resumed_at == [("validation", 0), ("retrain", 0)]  # both phases from the start
    assert_same_run(out, clean)
    assert not work_folder(out).exists()


# The library's own calls resume the same way: `fit` with a backup folder.
FIT = """
import sys
sys.path.insert(0, sys.argv[1])  # tests/: faults.py, and this file for fit_tiny
from faults import Injector
Injector(sys.argv[2], None).install()
from test_resume import fit_tiny
fit_tiny(sys.argv[3])
"""


def fit_tiny(backup_dir: str | None) -> tuple[list[np.ndarray], dict[str, list[float]]]:
    """`fit` a tiny model for 6 epochs of 6 shuffled batches: (weights, history)."""
    from anykeras import CallbackConfig, ClassifierSpec, TrainConfig
    from anykeras.training import Phase, fit_phase, new_model

    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 20)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32")
    spec = ClassifierSpec(input_shape=(20,), hidden=(8, 8))
    config = TrainConfig(epochs=6, batch_size=32, validation_size=64, seed=1,
                         callbacks=CallbackConfig(backup_dir=backup_dir))  # fmt: skip
    model = new_model(spec, "functional", config.seed)
    history = fit_phase(model, spec, (x, y), config, Phase("validation"))
    return model.get_weights(), history.history


def test_fit_with_a_backup_dir_killed_mid_epoch_resumes_exactly(tmp_path, monkeypatch):
    weights, history = fit_tiny(None)
    assert len(history["loss"]) == 6

    backup = tmp_path / "backup"
    killed = subprocess.run(
        [sys.executable, "-c", FIT, str(FAULTS.parent), "validation-batch-4", str(backup)],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "KERAS_BACKEND": BACKEND},
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert sorted(p.name for p in backup.iterdir()) == ["validation.npz"]

    resumed_at = []
    restore = PhaseBackup.restore
    monkeypatch.setattr(
        PhaseBackup, "restore", lambda b, m: resumed_at.append(restore(b, m)) or resumed_at[-1]
    )
    resumed_weights, resumed_history = fit_tiny(str(backup))
    assert resumed_at == [3]  # epochs 1 to 3 were backed up; the 4th was cut short
    assert sorted(resumed_history) == sorted(history)
    for key, values in history.items():  # every epoch, those before the kill included
        np.testing.assert_allclose(resumed_history[key], values, rtol=0, atol=1e-6, err_msg=key)
    for got, want in zip(resumed_weights, weights, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    assert list(backup.iterdir()) == []  # the backup goes once the run has ended


# The run folder itself (`anykeras.training.run_folder.RunFolder`), without training.
def fail_in(folder: RunFolder) -> None:
    """Back up an epoch and stage a result in ``folder``, then fail."""
    with folder as run:
        run.backup.mkdir()
        (run.backup / "validation.npz").write_bytes(b"epoch 2")
        (run.stage / "history.json").write_text("{}")
        raise RuntimeError("the loss is nan after epoch 3")


def test_a_run_that_fails_without_backups_leaves_nothing_behind(tmp_path):
    with pytest.raises(RuntimeError, match="the loss is nan"):
        fail_in(RunFolder(tmp_path / "out"))
    assert list(tmp_path.iterdir()) == []


def test_a_run_that_fails_with_backups_keeps_them_for_the_same_settings_only(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="the loss is nan"):
        fail_in(RunFolder(out, resume=True, settings={"seed": 3}))
    assert not out.exists()
    with RunFolder(out, resume=True, settings={"seed": 3}) as run:
        assert (run.backup / "validation.npz").read_bytes() == b"epoch 2"
        assert list(run.stage.iterdir()) == []  # results are made again, from the backups
    with RunFolder(out, resume=True, settings={"seed": 4}) as run:
        assert not run.backup.exists()
        assert json.loads((run.work / "settings.json").read_text()) == {"seed": 4}


PUBLISH = """
import os, signal, sys
from pathlib import Path
from anykeras.training.run_folder import RunFolder

rename = Path.rename

def rename_then_die(path, target):  # publish renames OUT aside, then the stage to OUT
    rename(path, target)
    os.kill(os.getpid(), signal.SIGKILL)

with RunFolder(sys.argv[1], overwrite=True) as run:
    (run.stage / "metrics.json").write_text("new")
    Path.rename = rename_then_die
    run.publish()
"""


def test_a_run_killed_between_the_renames_of_publish_is_published_by_the_next(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "metrics.json").write_text("old")
    killed = subprocess.run([sys.executable, "-c", PUBLISH, str(out)], check=False, timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert not out.exists()  # the old run was moved aside, the new one not yet in place
    assert (work_folder(out) / "replaced" / "metrics.json").read_text() == "old"
    # The same command again, even without --overwrite, first finishes that publish.
    with pytest.raises(RunFolderError, match="holds a finished run; pass --overwrite"):
        RunFolder(out).__enter__()
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json"]
    assert (out / "metrics.json").read_text() == "new"
    assert not (work_folder(out) / "replaced").exists()
