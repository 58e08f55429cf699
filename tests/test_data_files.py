"""Where data files come from, and which files may be unpickled (data._files, data._reading)."""

from __future__ import annotations

import ast
import hashlib
import inspect
import os
import re
import traceback
import urllib.error
from pathlib import Path

import keras.src.datasets.boston_housing as keras_boston_housing
import keras.src.datasets.imdb as keras_imdb
import keras.src.datasets.mnist as keras_mnist
import keras.src.datasets.reuters as keras_reuters
import numpy as np
import pytest

from anykeras import data
from anykeras.data import _files, _reading, boston_housing, imdb, mnist, reuters

KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def write_mnist(path: Path, value: int) -> Path:
    """A tiny MNIST-format npz whose pixels are all ``value`` (to tell copies apart)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    images = np.full((2, 28, 28), value, dtype=np.uint8)
    labels = np.array([value % 10, 1], dtype=np.uint8)
    np.savez(path, x_train=images, y_train=labels, x_test=images[:1], y_test=labels[:1])
    return path


def loaded_value(**kwargs) -> int:
    (x_train, _), _ = mnist.load_data(**kwargs)
    return int(x_train[0, 0, 0])


@pytest.fixture
def no_download(monkeypatch):
    """Fail the test if a download is attempted."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"unexpected download: {args} {kwargs}")

    monkeypatch.setattr(_files, "get_file", refuse)


@pytest.fixture
def homes(tmp_path, monkeypatch, no_download):
    """An empty ANYKERAS_DATA_DIR and KERAS_HOME under tmp_path."""
    data_dir, keras_home = tmp_path / "data", tmp_path / "keras_home"
    data_dir.mkdir()
    monkeypatch.setenv("ANYKERAS_DATA_DIR", str(data_dir))
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    return data_dir, keras_home


class _Gadget:
    """Unpickling this creates the folder ``path``: a harmless stand-in for an exploit."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (os.makedirs, (self.path,))


def write_gadget_npz(path: Path, marker: Path, keys: tuple[str, ...]) -> Path:
    """An npz in the IMDB/Reuters layout whose object arrays run code when unpickled."""
    path.parent.mkdir(parents=True, exist_ok=True)
    evil = np.empty(1, dtype=object)
    evil[0] = _Gadget(marker)
    arrays = {key: (evil if key.startswith("x") else np.zeros(1, dtype=np.int64)) for key in keys}
    np.savez(path, **arrays)
    return path


# --- resolution order -------------------------------------------------------------------


def test_explicit_path_wins_over_everything(homes, tmp_path):
    data_dir, keras_home = homes
    write_mnist(data_dir / "mnist" / "mnist.npz", 1)
    write_mnist(keras_home / "datasets" / "mnist.npz", 2)
    explicit = write_mnist(tmp_path / "elsewhere" / "my_copy.npz", 3)
    assert loaded_value(path=explicit) == 3
    assert loaded_value(path=str(explicit)) == 3


def test_data_dir_subfolder_then_top_level_then_keras_cache(homes):
    data_dir, keras_home = homes
    write_mnist(keras_home / "datasets" / "mnist.npz", 2)
    assert loaded_value() == 2
    write_mnist(data_dir / "mnist.npz", 4)
    assert loaded_value() == 4
    write_mnist(data_dir / "mnist" / "mnist.npz", 5)
    assert loaded_value() == 5


def test_keras_cache_used_when_data_dir_unset(homes, monkeypatch):
    _, keras_home = homes
    monkeypatch.delenv("ANYKERAS_DATA_DIR")
    write_mnist(keras_home / "datasets" / "mnist.npz", 6)
    assert loaded_value() == 6


def test_keras_home_defaults_to_dot_keras(monkeypatch, tmp_path):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert _files.keras_home() == tmp_path / ".keras"


def test_download_comes_last_with_keras_url_and_hash(homes, monkeypatch, tmp_path):
    _, keras_home = homes
    downloaded = write_mnist(tmp_path / "downloaded.npz", 7)
    calls = []

    def fake_get_file(**kwargs):
        calls.append(kwargs)
        return str(downloaded)

    monkeypatch.setattr(_files, "get_file", fake_get_file)
    assert loaded_value() == 7
    assert calls == [
        {
            "fname": "mnist.npz",
            "origin": KERAS_URL + "mnist.npz",
            "file_hash": mnist.NPZ.keras_hash,
            "cache_dir": str(keras_home),
        }
    ]


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (imdb, keras_imdb),
        (reuters, keras_reuters),
        (boston_housing, keras_boston_housing),
        (mnist, keras_mnist),
    ],
    ids=["imdb", "reuters", "boston_housing", "mnist"],
)
def test_origin_and_hash_are_the_ones_in_keras_source(ours, theirs):
    name = ours.NPZ.subdir
    npz = ours.NPZ
    source = inspect.getsource(theirs.load_data)
    assert f"{name}.npz" in source
    assert re.findall(r"[0-9a-f]{64}", source) == [npz.keras_hash]
    assert npz.origin == KERAS_URL + f"{name}.npz"
    if name in ("imdb", "reuters"):
        assert npz.keras_hash in npz.known_sha256
        word_source = inspect.getsource(theirs.get_word_index)
        assert re.findall(r"[0-9a-f]{32}", word_source) == [ours.WORD_INDEX.keras_hash]


# --- errors when there is no file ---------------------------------------------------------


def offline_get_file(**kwargs):
    """What keras.utils.get_file raises offline (it wraps urllib's URLError)."""
    try:
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
    except urllib.error.URLError as exc:
        raise Exception(f"URL fetch failure on {kwargs['origin']}: None -- {exc.reason}")  # noqa: B904


def test_offline_without_a_copy_gives_one_clear_error(homes, monkeypatch):
    data_dir, keras_home = homes
    monkeypatch.setattr(_files, "get_file", offline_get_file)
    with pytest.raises(data.DataNotFoundError) as info:
        imdb.load_data()
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    for expected in (
        "imdb.npz",
        str(data_dir / "imdb" / "imdb.npz"),
        str(data_dir / "imdb.npz"),
        str(keras_home / "datasets" / "imdb.npz"),
        KERAS_URL + "imdb.npz",
        "Temporary failure in name resolution",
        "ANYKERAS_DATA_DIR",
        "path=",
    ):
        assert expected in message
    # Raised "from None": no urllib traceback above ours.
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__
    assert "URLError" not in "".join(traceback.format_exception(info.value))


def test_offline_error_says_when_data_dir_is_unset(homes, monkeypatch):
    monkeypatch.delenv("ANYKERAS_DATA_DIR")
    monkeypatch.setattr(_files, "get_file", offline_get_file)
    with pytest.raises(data.DataNotFoundError, match="ANYKERAS_DATA_DIR is not set"):
        reuters.get_word_index()


def test_missing_explicit_path_is_a_clear_error(homes, tmp_path):
    missing = tmp_path / "nowhere" / "boston.npz"
    with pytest.raises(data.DataNotFoundError, match="is not a file") as info:
        boston_housing.load_data(path=missing)
    assert str(missing) in str(info.value)
    assert "boston_housing.npz" in str(info.value)
    with pytest.raises(data.DataNotFoundError, match="is not a file"):
        mnist.load_data(path=tmp_path)  # a folder, not a file


# --- reading files ------------------------------------------------------------------------


def test_wrong_arrays_are_named(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, images=np.zeros(2))
    with pytest.raises(data.DataFileError) as info:
        mnist.load_data(path=path)
    assert str(info.value) == (
        f"{path} is not a valid mnist.npz: it must hold the arrays "
        "['x_train', 'y_train', 'x_test', 'y_test']. Received: arrays ['images']."
    )


def test_sha256_of_a_file(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 3_000_000)
    assert _reading.sha256(path) == hashlib.sha256(b"x" * 3_000_000).hexdigest()


# --- pickle safety ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "keys"),
    [(imdb, ("x_train", "y_train", "x_test", "y_test")), (reuters, ("x", "y"))],
)
@pytest.mark.parametrize("where", ["path", "data_dir", "keras_cache"])
def test_unknown_pickled_file_is_refused_before_unpickling(homes, tmp_path, module, keys, where):
    data_dir, keras_home = homes
    marker = tmp_path / "the_pickle_ran"
    name = module.NPZ.filename
    target = {
        "path": tmp_path / "downloaded" / name,
        "data_dir": data_dir / module.NPZ.subdir / name,
        "keras_cache": keras_home / "datasets" / name,
    }[where]
    write_gadget_npz(target, marker, keys)
    kwargs = {"path": target} if where == "path" else {}

    with pytest.raises(data.UntrustedFileError) as info:
        module.load_data(**kwargs)
    assert not marker.exists(), "the file was unpickled before its hash was checked"
    message = str(info.value)
    assert message.startswith(f"{target} is not a trusted {name}: ")
    assert message.endswith(f"Received: sha256={_reading.sha256(target)}.")
    for known in module.NPZ.known_sha256:
        assert known in message
    assert "only loaded when its sha256 is a known one" in message
    assert "\n" not in message
    assert isinstance(info.value, data.DataFileError)
    assert isinstance(info.value, ValueError)

    # The file really is dangerous: a blind np.load(allow_pickle=True) runs its code.
    with np.load(target, allow_pickle=True) as archive:
        archive[keys[0]]
    assert marker.is_dir()


def test_a_known_hash_is_unpickled(tmp_path):
    path = tmp_path / "ragged.npz"
    ragged = np.empty(2, dtype=object)
    ragged[:] = [[1, 2, 3], [4]]
    np.savez(path, x=ragged, y=np.array([0, 1]))
    trusted = _files.DataFile("ragged.npz", "ragged", "", frozenset({_reading.sha256(path)}))
    arrays = _reading.load_npz(path, trusted, ("x", "y"))
    assert arrays["x"].tolist() == [[1, 2, 3], [4]]


def test_files_without_pickles_never_unpickle(tmp_path):
    marker = tmp_path / "the_pickle_ran"
    keys = ("x_train", "y_train", "x_test", "y_test")
    path = write_gadget_npz(tmp_path / "mnist.npz", marker, keys)
    with pytest.raises(data.DataFileError) as info:
        mnist.load_data(path=path)
    assert not marker.exists()
    assert str(info.value) == (
        f"{path} is not a valid mnist.npz: x_train must be a plain array (mnist.npz is read "
        "without unpickling). Received: x_train holding pickled Python objects."
    )


def test_shared_copies_have_known_hashes(shared_file):
    for module in (imdb, reuters):
        path = shared_file(f"{module.NPZ.subdir}/{module.NPZ.filename}")
        assert _reading.sha256(path) in module.NPZ.known_sha256


# --- word-index JSON ----------------------------------------------------------------------


def test_a_good_word_index_is_read(tmp_path):
    good = tmp_path / "good.json"
    good.write_text('{"the": 1, "\\u00fc": 2}', encoding="utf-8")
    assert reuters.get_word_index(path=good) == {"the": 1, "\u00fc": 2}


def test_package_exports():
    assert set(data.__all__) == {
        "DATA_DIR_ENV",
        "DataFileError",
        "DataNotFoundError",
        "UntrustedFileError",
        "boston_housing",
        "encoding",
        "features",
        "imdb",
        "mnist",
        "reuters",
        "sequences",
        "synthetic",
    }
    assert issubclass(data.DataNotFoundError, FileNotFoundError)
    assert issubclass(data.DataFileError, ValueError)
    assert issubclass(data.UntrustedFileError, data.DataFileError)
    for error in (data.DataNotFoundError, data.DataFileError, data.UntrustedFileError):
        assert error.__module__ == "anykeras.data"


def test_moved_names_are_still_importable_where_they_were():
    from anykeras.data import encoding, features, sequences

    assert imdb.keras_sequences is sequences.keras_sequences
    assert encoding.Standardizer is features.Standardizer
    assert encoding.standardize is features.standardize
    assert encoding.flatten is sequences.flatten
    assert encoding.unflatten is sequences.unflatten
    # reuters shares helpers with imdb through anykeras.data.sequences, never through imdb.
    tree = ast.parse(inspect.getsource(reuters))
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    ] + [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    ]
    assert "sequences" in imported
    assert not [name for name in imported if name and "imdb" in name]
