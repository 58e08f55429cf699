"""Run ``anykeras`` and kill it with SIGKILL at a chosen point: fault injection for tests.

    python tests/faults.py POINT [--log FILE] -- train --quick --backup --out OUT ...

This is a script that tests/test_resume.py runs as a separate process, not a test
module. It patches anykeras so that the process sends itself SIGKILL (no cleanup, no
``finally``, as when the machine loses power or the kernel's OOM killer strikes) at
POINT, then runs `anykeras.cli.main` with the arguments after ``--``. A POINT that is
never reached lets the command finish; its exit status is then this script's.

POINT, with PHASE ``validation`` or ``retrain`` and EPOCH counted from 1:

    PHASE-epoch-EPOCH   after the epoch's backup file is in place
    PHASE-batch-EPOCH   inside the epoch's second training batch (mid-epoch)
    PHASE-backup-EPOCH  while writing the epoch's backup: half the file is written, not
                        yet moved into place
    between-phases      validation.json written, before the retrain starts
    results             while writing the results: history, log and curves are staged,
                        model.keras is half made (its temporary files exist)
    none                no kill

With ``--log FILE``, one JSON line per event is appended to FILE: where each phase
resumed (``{"phase": "validation", "resumed_at": 2}``) and each epoch whose backup
was written (``{"phase": "validation", "epoch": 3}``), so a test sees which epochs this
process trained, and that it did not start over.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

POINT = re.compile(r"(?P<phase>validation|retrain)-(?P<what>epoch|batch|backup)-(?P<epoch>\d+)")
FIXED_POINTS = ("between-phases", "results", "none")


def die() -> None:
    """End this process at once, as a power cut would (no exception, no cleanup)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class Injector:
    """Patches anykeras for one POINT and logs what each phase did."""

    def __init__(self, point: str, log: Path | None) -> None:
        match = POINT.fullmatch(point)
        if match is None and point not in FIXED_POINTS:
            raise SystemExit(f"faults.py: unknown point {point!r}; see the module docstring")
        self.point = point
        self.phase = match["phase"] if match else None
        self.what = match["what"] if match else None
        self.epoch = int(match["epoch"]) if match else 0
        self.log_path = log
        self.running = ""  # the phase whose fit is running ("validation", "retrain")

    def log(self, **event: Any) -> None:
        if self.log_path is not None:
            with self.log_path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps({"pid": os.getpid(), **event}) + "\n")

    def at(self, phase: str, what: str, epoch: int) -> bool:
        """Whether POINT is ``phase-what-epoch``."""
        return (self.phase, self.what, self.epoch) == (phase, what, epoch)

    def install(self) -> None:
        self._follow_phases()
        self._kill_mid_epoch()
        self._kill_while_writing_backups()
        self._kill_between_phases()
        self._kill_while_saving_results()

    def _follow_phases(self) -> None:
        """Know the running phase (fit restores its backup first), log resumes and epochs."""
        from anykeras.training.resume import PhaseBackup

        restore, epoch_end = PhaseBackup.restore, PhaseBackup.on_epoch_end
        injector = self

        def logged_restore(backup: PhaseBackup, model: Any) -> int:
            injector.running = backup.path.stem
            done = restore(backup, model)
            injector.log(phase=injector.running, resumed_at=done)
            return done

        def killing_epoch_end(backup: PhaseBackup, epoch: int, logs: Any = None) -> None:
            epoch_end(backup, epoch, logs)
            injector.log(phase=backup.path.stem, epoch=epoch + 1)
            if injector.at(backup.path.stem, "epoch", epoch + 1):
                die()

        PhaseBackup.restore = logged_restore  # type: ignore[method-assign]
        PhaseBackup.on_epoch_end = killing_epoch_end  # type: ignore[method-assign]

    def _kill_mid_epoch(self) -> None:
        """Die fetching the second training batch of the epoch (any route's batches)."""
        if self.what != "batch":
            return
        from anykeras.speed.packed import PackedBatches
        from anykeras.training.batches import SeededBatches

        injector = self
        for kind in (SeededBatches, PackedBatches):
            original = kind.__getitem__

            def getitem(batches: Any, index: int, _original: Any = original) -> Any:
                if (
                    batches.order is not None  # training batches, not validation data
                    and index == 1
                    and injector.at(injector.running, "batch", batches.epoch + 1)
                ):
                    die()
                return _original(batches, index)

            kind.__getitem__ = getitem  # type: ignore[method-assign]

    def _kill_while_writing_backups(self) -> None:
        """Die with half the epoch's backup written to its temporary file."""
        if self.what != "backup":
            return
        from anykeras.training import resume

        write, injector = resume._write, self

        def half_written(path: Path, meta: str, arrays: Any) -> None:
            write(path, meta, arrays)
            epoch = json.loads(meta)["epochs"]
            if injector.at(injector.running, "backup", epoch):
                with path.open("r+b") as handle:
                    handle.truncate(path.stat().st_size // 2)
                die()

        resume._write = half_written

    def _kill_between_phases(self) -> None:
        if self.point != "between-phases":
            return
        from anykeras.training import workflow

        fit_phase = workflow.fit_phase

        def killing_fit_phase(model: Any, spec: Any, train: Any, config: Any, phase: Any) -> Any:
            if phase.name == "retrain":
                die()
            return fit_phase(model, spec, train, config, phase)

        workflow.fit_phase = killing_fit_phase

    def _kill_while_saving_results(self) -> None:
        if self.point != "results":
            return
        from anykeras import saving

        copy = saving._copy_neutral

        def half_copied(source: Path, target: Path) -> None:
            copy(source, target)
            with target.open("r+b") as handle:
                handle.truncate(target.stat().st_size // 2)
            die()

        saving._copy_neutral = half_copied


def main(argv: list[str]) -> int:
    """``faults.py POINT [--log FILE] -- ANYKERAS_ARGS...``."""
    if "--" not in argv or not argv:
        raise SystemExit("usage: faults.py POINT [--log FILE] -- ANYKERAS_ARGS...")
    split = argv.index("--")
    own, args = argv[:split], argv[split + 1 :]
    log = Path(own[2]) if own[1:2] == ["--log"] and len(own) == 3 else None
    if len(own) != (3 if log else 1):
        raise SystemExit("usage: faults.py POINT [--log FILE] -- ANYKERAS_ARGS...")
    if "--backend" in args[:-1]:  # Keras reads its backend once, on import (below)
        os.environ["KERAS_BACKEND"] = args[args.index("--backend") + 1]
    injector = Injector(own[0], log)
    injector.install()
    from anykeras.cli import main as anykeras

    return anykeras(args)


if __name__ == "__main__":
    here = Path(__file__).resolve().parent  # tests/ holds no module anykeras should see
    sys.path = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.exit(main(sys.argv[1:]))
