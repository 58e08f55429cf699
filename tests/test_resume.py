"""BackupAndRestore: a killed training process resumes and ends where an unbroken run ends."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

TRAIN = textwrap.dedent(
    """
    import os, signal, sys
    import keras
    import numpy as np
    from anykeras import CallbackConfig, ClassifierSpec, TrainConfig, fit
    from anykeras.training import new_model

    out, backup, kill_after = sys.argv[1], sys.argv[2], int(sys.argv[3])

    class KillAfter(keras.callbacks.Callback):
        # Runs after BackupAndRestore has saved the epoch: then the process dies hard.
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == kill_after:
                os.kill(os.getpid(), signal.SIGKILL)

    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 20)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32")
    spec = ClassifierSpec(input_shape=(20,), hidden=(8, 8))
    config = TrainConfig(epochs=6, batch_size=32, validation_size=64, shuffle=False,
                         callbacks=CallbackConfig(backup_dir=backup or None))
    model = new_model(spec, "functional", seed=0)
    import anykeras.training as training
    callbacks = training.make_callbacks(config.callbacks) + ([KillAfter()] if kill_after else [])
    training.compile_model(model, spec, config.optimizer)
    history = model.fit(x[64:], y[64:], validation_data=(x[:64], y[:64]), epochs=config.epochs,
                        batch_size=32, shuffle=False, callbacks=callbacks, verbose=0)
    np.savez(out, *model.get_weights(), epochs_run=len(history.history["loss"]))
    """
)


def run(tmp_path, name: str, backup: str, kill_after: int) -> subprocess.CompletedProcess:
    script = tmp_path / "train.py"
    script.write_text(TRAIN)
    return subprocess.run(
        [sys.executable, str(script), str(tmp_path / f"{name}.npz"), backup, str(kill_after)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_a_killed_run_resumes_from_its_backup_and_matches_an_unbroken_run(tmp_path):
    unbroken = run(tmp_path, "unbroken", "", 0)
    assert unbroken.returncode == 0, unbroken.stderr

    backup = str(tmp_path / "backup")
    killed = run(tmp_path, "resumed", backup, 3)
    assert killed.returncode == -signal.SIGKILL  # really killed, after 3 of 6 epochs
    assert not (tmp_path / "resumed.npz").exists()
    assert any(Path(backup).iterdir())  # the backup survived the kill

    resumed = run(tmp_path, "resumed", backup, 0)
    assert resumed.returncode == 0, resumed.stderr
    with np.load(tmp_path / "unbroken.npz") as a, np.load(tmp_path / "resumed.npz") as b:
        assert int(a["epochs_run"]) == 6
        assert int(b["epochs_run"]) == 3  # the resumed process ran only the last 3 epochs
        weights = [k for k in a.files if k.startswith("arr_")]
        assert len(weights) == 6
        for key in weights:
            np.testing.assert_allclose(b[key], a[key], atol=1e-6)
    assert not Path(backup).exists() or not any(Path(backup).iterdir())  # cleaned up at the end
