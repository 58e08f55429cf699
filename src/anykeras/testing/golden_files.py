"""Read a golden folder (`anykeras.testing.golden`) checking every key and every file.

A golden folder comes from elsewhere (another machine, a pull request), so each of
its files is checked before it is used: ``golden.json`` must be a JSON object with
the keys `make_golden` writes, each of the right type; every file it names must lie
inside the folder (no ``..``, no absolute path, no symbolic link leading out) and be
a plain ``.npy`` array; the model file must be a ``.keras`` archive. Anything else raises
`GoldenFileError`, one line naming the file and the key.

Example:
>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "golden.json").write_text('{"backend": "jax"')
>>> read_manifest(folder)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
anykeras.testing.golden_files.GoldenFileError: .../golden.json: is not JSON (Expecting ...)
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from anykeras.saving import JSON_TYPES, json_type, read_json

__all__ = ["GoldenFileError", "inside", "load_layout", "model_file", "read_manifest"]

MANIFEST = "golden.json"
MODEL = "model.keras"
_NOTHING = type(None)
#: golden.json's keys and the JSON types each may hold (a layout: a name, a list or dict).
KEYS: dict[str, tuple[type, ...]] = {
    "model_fn": (str, _NOTHING), "backend": (str,), "keras": (str,),
    "compile": (dict, _NOTHING), "x": (str, dict), "outputs": (str, dict),
    "y": (str, dict, _NOTHING), "step": (str, dict, _NOTHING),
}  # fmt: skip


class GoldenFileError(ValueError):
    """A golden folder's file is damaged, lacks a key, or names a file it may not."""


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """``folder``'s ``golden.json``, every key of the type `make_golden` writes."""
    path = Path(folder) / MANIFEST
    try:
        manifest = read_json(path)
    except ValueError as error:
        raise GoldenFileError(f"{path}: {error}") from None
    if not isinstance(manifest, dict):
        raise GoldenFileError(f"{path}: holds a JSON {json_type(manifest)} where an object belongs")
    for key, types in KEYS.items():
        if key not in manifest:
            raise GoldenFileError(f"{path}: key {key!r} is missing; make the golden files again")
        if not isinstance(manifest[key], types):
            expected = " or ".join(dict.fromkeys(JSON_TYPES[t] for t in types))
            raise GoldenFileError(
                f"{path}: key {key!r} holds a JSON {json_type(manifest[key])}; expected {expected}"
            )
    return manifest


def load_layout(folder: str | Path, key: str, layout: Any) -> Any:
    """The arrays ``golden.json``'s ``key`` names (`anykeras.testing.arrays.save_arrays`)."""
    folder = Path(folder)
    where = f"{folder / MANIFEST}: key {key!r}"
    if isinstance(layout, dict) and isinstance(layout.get("dict"), dict) and len(layout) == 1:
        return {k: load_layout(folder, key, v) for k, v in layout["dict"].items()}
    if isinstance(layout, dict) and isinstance(layout.get("list"), list) and len(layout) == 1:
        return [load_layout(folder, key, v) for v in layout["list"]]
    if not isinstance(layout, str):
        raise GoldenFileError(f"{where} holds {json.dumps(layout)[:60]}, not a file name")
    path = inside(folder, layout, where)
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise GoldenFileError(f"{where}: {path} is not a .npy array ({error})") from None


def inside(folder: Path, name: str, where: str) -> Path:
    """``folder / name``, a file inside ``folder``; else `GoldenFileError` saying why.

    Example:
    >>> inside(Path("golden"), "../secret.npy", "golden/golden.json: key 'x'")
    Traceback (most recent call last):
    ...
    anykeras.testing.golden_files.GoldenFileError: golden/golden.json: key 'x' names \
../secret.npy, outside golden; golden files name only files in their folder
    """
    path = folder / name
    if Path(name).is_absolute() or ".." in Path(name).parts:
        raise GoldenFileError(
            f"{where} names {name}, outside {folder}; golden files name only files in their folder"
        )
    if not path.resolve().is_relative_to(folder.resolve()):
        raise GoldenFileError(
            f"{where} names {name}, a link to {path.resolve()} outside {folder}; "
            "golden files name only files in their folder"
        )
    if not path.is_file():
        raise GoldenFileError(f"{where} names {name}, which is missing from {folder}")
    return path


def model_file(folder: str | Path) -> Path:
    """``folder``'s model file, checked to be a ``.keras`` archive inside ``folder``.

    Raises:
        GoldenFileError: The file is missing, leads out of ``folder`` or is not a
            ``.keras`` archive (Keras's own loading errors come later, saying what
            to fix).
    """
    folder = Path(folder)
    path = inside(folder, MODEL, f"{folder / MANIFEST}: the model file")
    try:
        with zipfile.ZipFile(path) as archive:
            json.loads(archive.read("config.json"))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise GoldenFileError(f"{path}: is not a .keras model file ({error})") from None
    return path
