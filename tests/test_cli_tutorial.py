"""`anykeras tutorial`: the notebook and the examples, written from what the package ships."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from anykeras.cli import main
from anykeras.cli.tutorial import PACKAGED, TUTORIAL_FILES

ROOT = Path(__file__).resolve().parent.parent


def run(args: list[str]) -> tuple[int, str, str]:
    """``anykeras ARGS`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def test_it_writes_the_notebook_and_the_examples(tmp_path):
    code, out, err = run(["tutorial", "--out", str(tmp_path / "course")])
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert result["files"] == [str(tmp_path / "course" / name) for name in TUTORIAL_FILES]
    assert (
        result["next"]
        == f"pip install jupyterlab, then: jupyter lab {tmp_path}/course/tutorial.ipynb"
    )
    for name, origin in TUTORIAL_FILES.items():
        assert (tmp_path / "course" / name).read_bytes() == (ROOT / origin).read_bytes()


def test_it_refuses_to_overwrite_unless_told(tmp_path):
    (tmp_path / "tutorial.ipynb").write_text("my notes")
    code, out, err = run(["tutorial", "--out", str(tmp_path)])
    assert (code, out) == (2, "")
    assert err == (
        f"anykeras tutorial: error: {tmp_path}/tutorial.ipynb exists; pass --overwrite to "
        "replace it, or --out another folder\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tutorial.ipynb"]  # nothing written
    assert run(["tutorial", "--out", str(tmp_path), "--overwrite"])[0] == 0
    assert (tmp_path / "tutorial.ipynb").read_bytes() == (ROOT / "docs/tutorial.ipynb").read_bytes()


def test_out_must_be_a_folder(tmp_path):
    (tmp_path / "file").write_text("")
    code, _, err = run(["tutorial", "--out", str(tmp_path / "file")])
    assert (code, err) == (
        2,
        f"anykeras tutorial: error: --out must be a folder; {tmp_path}/file is a file\n",
    )


def test_the_wheel_ships_every_file_the_command_writes():
    """pyproject.toml's force-include puts each file under anykeras/_tutorial/ in the wheel."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert shipped == {
        origin: f"anykeras/{PACKAGED}/{name}" for name, origin in TUTORIAL_FILES.items()
    }
    examples = sorted(p.name for p in (ROOT / "examples").iterdir() if p.suffix in (".py", ".md"))
    assert [name.removeprefix("examples/") for name in TUTORIAL_FILES][2:] == examples
