"""Bad data files and bad arguments give one clear error, in Keras's wording.

Damaged or wrong files are built in tmp_path: garbage, cut short, a member with a bad
checksum, an array missing, strings where integers belong, labels out of range or of
another length, and word indexes that are not JSON objects of words to ranks. Each gives
one `DataFileError` (or `UntrustedFileError`, for pickled files) whose message names the
file and what is wrong, with no NumPy, zipfile or json traceback chained to it.
"""

from __future__ import annotations

import dataclasses
import re
import traceback
from pathlib import Path

import numpy as np
import pytest

from anykeras import data
from anykeras.data import _files, _reading, boston_housing, imdb, mnist, reuters


@pytest.fixture(autouse=True)
def nowhere(tmp_path, monkeypatch):
    """No data folder, an empty Keras cache and no download: only ``path=`` finds files."""
    monkeypatch.delenv("ANYKERAS_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))

    def refuse(*args, **kwargs):
        raise AssertionError(f"unexpected download: {args} {kwargs}")

    monkeypatch.setattr(_files, "get_file", refuse)


def assert_one_error(error: BaseException) -> None:
    """One line, and nothing chained: no library traceback above ours."""
    assert "\n" not in str(error)
    text = "".join(traceback.format_exception(error))
    assert "During handling of the above exception" not in text
    assert "direct cause" not in text


# --- files without pickles: MNIST and Boston housing --------------------------------------

IMAGES = np.full((2, 28, 28), 7, dtype=np.uint8)


def mnist_arrays(**changes):
    """Arrays in MNIST's layout; a change of ``None`` leaves that array out."""
    arrays = {
        "x_train": IMAGES,
        "y_train": np.array([3, 1], dtype=np.uint8),
        "x_test": IMAGES[:1],
        "y_test": np.array([4], dtype=np.uint8),
    }
    arrays.update(changes)
    return {key: value for key, value in arrays.items() if value is not None}


def savez(**arrays):
    def write(path: Path) -> None:
        np.savez(path, **arrays)

    return write


def raw(content: bytes):
    def write(path: Path) -> None:
        path.write_bytes(content)

    return write


def cut_short(path: Path) -> None:
    np.savez(path, **mnist_arrays())
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])


def bad_checksum(path: Path) -> None:
    """A whole zip archive whose x_train member no longer matches its CRC-32."""
    np.savez(path, **mnist_arrays())
    content = path.read_bytes()
    start = content.index(b"\x07" * 100)
    path.write_bytes(content[:start] + b"\x08" * 100 + content[start + 100 :])


def bad_directory(path: Path) -> None:
    """The end record is intact, the central directory it points to is not."""
    np.savez(path, **mnist_arrays())
    path.write_bytes(path.read_bytes().replace(b"PK\x01\x02", b"XX\x01\x02"))


def a_npy_file(path: Path) -> None:
    with path.open("wb") as stream:
        np.save(stream, IMAGES)


def a_zip_of_text(path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("README.txt", "not arrays")


NOT_A_ZIP = (
    "an .npz file must be a zip archive of NumPy arrays. Received: a file that is not a zip "
    "archive (damaged, cut short or another format)."
)
MNIST_CASES = {
    "garbage": (raw(b"this is not a zip file"), NOT_A_ZIP),
    "empty": (raw(b""), NOT_A_ZIP),
    "cut short": (cut_short, NOT_A_ZIP),
    "a .npy, not an .npz": (a_npy_file, NOT_A_ZIP),
    "bad checksum": (
        bad_checksum,
        "x_train must be a readable array. Received: x_train damaged "
        "(Bad CRC-32 for file 'x_train.npy').",
    ),
    "bad central directory": (
        bad_directory,
        re.compile(r"it must be a readable zip archive\. Received: .+\.$"),
    ),
    "a zip of text": (
        a_zip_of_text,
        "it must hold the arrays ['x_train', 'y_train', 'x_test', 'y_test']. "
        "Received: arrays ['README.txt'].",
    ),
    "missing y_test": (
        savez(**mnist_arrays(y_test=None)),
        "it must hold the arrays ['x_train', 'y_train', 'x_test', 'y_test']. "
        "Received: arrays ['x_test', 'x_train', 'y_train'].",
    ),
    "strings for images": (
        savez(**mnist_arrays(x_train=np.full((2, 28, 28), "7"))),
        "x_train must be an integer array of shape (n, 28, 28). "
        "Received: x_train.dtype=<U1, x_train.shape=(2, 28, 28).",
    ),
    "float images": (
        savez(**mnist_arrays(x_test=IMAGES[:1] / 255)),
        "x_test must be an integer array of shape (n, 28, 28). "
        "Received: x_test.dtype=float64, x_test.shape=(1, 28, 28).",
    ),
    "flat images": (
        savez(**mnist_arrays(x_train=IMAGES.reshape(2, -1))),
        "x_train must be an integer array of shape (n, 28, 28). "
        "Received: x_train.dtype=uint8, x_train.shape=(2, 784).",
    ),
    "strings for labels": (
        savez(**mnist_arrays(y_train=np.array(["3", "1"]))),
        "y_train must hold integer class ids. Received: y_train.dtype=<U1.",
    ),
    "float labels": (
        savez(**mnist_arrays(y_test=np.array([4.0]))),
        "y_test must hold integer class ids. Received: y_test.dtype=float64.",
    ),
    "2-D labels": (
        savez(**mnist_arrays(y_train=np.array([[3, 1]]))),
        "y_train must be a 1-D array of integer class ids. Received: y_train.shape=(1, 2).",
    ),
    "a label out of range": (
        savez(**mnist_arrays(y_train=np.array([3, 12]))),
        "y_train must be class ids in [0, 10). Received: y_train[1]=12.",
    ),
    "a negative label": (
        savez(**mnist_arrays(y_test=np.array([-1]))),
        "y_test must be class ids in [0, 10). Received: y_test[0]=-1.",
    ),
    "more labels than images": (
        savez(**mnist_arrays(y_train=np.array([3, 1, 4], dtype=np.uint8))),
        "x_train and y_train must have the same length (one label per sample). "
        "Received: len(x_train)=2, len(y_train)=3.",
    ),
}


@pytest.mark.parametrize(("write", "problem"), MNIST_CASES.values(), ids=MNIST_CASES.keys())
def test_damaged_mnist_file(tmp_path, write, problem):
    path = tmp_path / "mnist.npz"
    write(path)
    with pytest.raises(data.DataFileError) as info:
        mnist.load_data(path=path)
    message = str(info.value)
    prefix = f"{path} is not a valid mnist.npz: "
    assert message.startswith(prefix)
    if isinstance(problem, str):
        assert message == prefix + problem
    else:
        assert problem.search(message), message
    assert not isinstance(info.value, data.UntrustedFileError)
    assert_one_error(info.value)


ROWS = np.ones((3, 13))
HOUSING_CASES = {
    "garbage": (raw(b"\x00" * 64), NOT_A_ZIP),
    "missing y": (
        savez(x=ROWS),
        "it must hold the arrays ['x', 'y']. Received: arrays ['x'].",
    ),
    "12 features": (
        savez(x=np.ones((3, 12)), y=np.ones(3)),
        "x must be a numeric array of shape (n, 13). Received: x.dtype=float64, x.shape=(3, 12).",
    ),
    "strings for features": (
        savez(x=ROWS.astype(str), y=np.ones(3)),
        "x must be a numeric array of shape (n, 13). Received: x.dtype=<U32, x.shape=(3, 13).",
    ),
    "2-D targets": (
        savez(x=ROWS, y=np.ones((3, 1))),
        "y must be a numeric array of shape (n,). Received: y.dtype=float64, y.shape=(3, 1).",
    ),
    "fewer targets than rows": (
        savez(x=ROWS, y=np.ones(2)),
        "x and y must have the same length (one label per sample). Received: len(x)=3, len(y)=2.",
    ),
}


@pytest.mark.parametrize(("write", "problem"), HOUSING_CASES.values(), ids=HOUSING_CASES.keys())
def test_damaged_boston_housing_file(tmp_path, write, problem):
    path = tmp_path / "housing_copy.npz"
    write(path)
    with pytest.raises(data.DataFileError) as info:
        boston_housing.load_data(path=path)
    assert str(info.value) == f"{path} is not a valid boston_housing.npz: {problem}"
    assert_one_error(info.value)


# --- pickled files: IMDB and Reuters ---------------------------------------------------


def ragged(rows):
    out = np.empty(len(rows), dtype=object)
    for i, row in enumerate(rows):
        out[i] = list(row)
    return out


def imdb_arrays(**changes):
    arrays = {
        "x_train": ragged([[5, 6], [7], [8, 9, 10]]),
        "y_train": np.array([0, 1, 1]),
        "x_test": ragged([[4], [11, 12]]),
        "y_test": np.array([1, 0]),
    }
    arrays.update(changes)
    return {key: value for key, value in arrays.items() if value is not None}


def trusted_copy(monkeypatch, module, path: Path, **arrays) -> Path:
    """Write ``arrays`` to ``path`` and let ``module`` unpickle exactly that file."""
    np.savez(path, **arrays)
    known = module.NPZ.known_sha256 | {_reading.sha256(path)}
    monkeypatch.setattr(module, "NPZ", dataclasses.replace(module.NPZ, known_sha256=known))
    return path


@pytest.mark.parametrize("module", [imdb, reuters])
def test_a_damaged_pickled_file_fails_its_hash_check_in_one_line(tmp_path, monkeypatch, module):
    keys = {imdb: imdb_arrays(), reuters: {"x": ragged([[5, 6], [7]]), "y": np.array([3, 4])}}
    path = trusted_copy(monkeypatch, module, tmp_path / "copy.npz", **keys[module])
    module.load_data(path=path)  # the intact copy loads
    content = path.read_bytes()
    path.write_bytes(content[: len(content) - 10])  # cut short
    digest = _reading.sha256(path)

    with pytest.raises(data.UntrustedFileError) as info:
        module.load_data(path=path)
    message = str(info.value)
    name = module.NPZ.filename
    assert message.startswith(f"{path} is not a trusted {name}: ")
    assert message.endswith(f"Received: sha256={digest}.")
    for known in module.NPZ.known_sha256:
        assert known in message
    assert "damaged" in message
    assert_one_error(info.value)


def test_a_cut_short_copy_of_the_real_imdb_file(shared_file, tmp_path):
    copy = tmp_path / "imdb.npz"
    with shared_file("imdb/imdb.npz").open("rb") as source, copy.open("wb") as target:
        target.write(source.read(1 << 20))
    with pytest.raises(data.UntrustedFileError, match=r"is not a trusted imdb\.npz") as info:
        imdb.load_data(path=copy)
    assert info.value.args[0].endswith(f"Received: sha256={_reading.sha256(copy)}.")
    assert_one_error(info.value)


IMDB_CASES = {
    "missing x_test": (
        imdb_arrays(x_test=None),
        "it must hold the arrays ['x_train', 'y_train', 'x_test', 'y_test']. "
        "Received: arrays ['x_train', 'y_test', 'y_train'].",
    ),
    "a 2-D array of ids": (
        imdb_arrays(x_train=np.array([[5, 6], [7, 8], [9, 10]])),
        "x_train must be a 1-D object array of word-id lists of shape (n,). "
        "Received: x_train.dtype=int64, x_train.shape=(3, 2).",
    ),
    "a word, not an id": (
        imdb_arrays(x_test=ragged([[4], [11, "twelve"]])),
        "x_test must hold integer ids only. Received: x_test[1][1]='twelve'.",
    ),
    "strings for labels": (
        imdb_arrays(y_train=np.array(["neg", "pos", "pos"])),
        "y_train must hold integer class ids. Received: y_train.dtype=<U3.",
    ),
    "a label that is not 0 or 1": (
        imdb_arrays(y_test=np.array([1, 2])),
        "y_test must be class ids in [0, 2). Received: y_test[1]=2.",
    ),
    "fewer labels than reviews": (
        imdb_arrays(y_train=np.array([0, 1])),
        "x_train and y_train must have the same length (one label per sample). "
        "Received: len(x_train)=3, len(y_train)=2.",
    ),
}


@pytest.mark.parametrize(("arrays", "problem"), IMDB_CASES.values(), ids=IMDB_CASES.keys())
def test_wrong_arrays_in_a_trusted_imdb_file(tmp_path, monkeypatch, arrays, problem):
    path = trusted_copy(monkeypatch, imdb, tmp_path / "imdb.npz", **arrays)
    with pytest.raises(data.DataFileError) as info:
        imdb.load_data(path=path)
    assert str(info.value) == f"{path} is not a valid imdb.npz: {problem}"
    assert not isinstance(info.value, data.UntrustedFileError)
    assert_one_error(info.value)


def test_a_reuters_topic_out_of_range(tmp_path, monkeypatch):
    path = trusted_copy(
        monkeypatch, reuters, tmp_path / "reuters.npz", x=ragged([[5], [6]]), y=np.array([3, 46])
    )
    with pytest.raises(data.DataFileError) as info:
        reuters.load_data(path=path)
    assert str(info.value) == (
        f"{path} is not a valid reuters.npz: y must be class ids in [0, 46). Received: y[1]=46."
    )


# --- word-index JSON ----------------------------------------------------------------------

RANKS = "it must be a JSON object mapping words to integer ranks >= 1. Received: "
WORD_INDEX_CASES = {
    "cut short": (
        b'{"the": 1,',
        RANKS + "invalid JSON (Expecting property name enclosed in double quotes: "
        "line 1 column 11 (char 10)).",
    ),
    "empty": (b"", RANKS + "invalid JSON (Expecting value: line 1 column 1 (char 0))."),
    "not UTF-8": (
        b'{"caf\xe9": 1}',
        re.compile(
            re.escape(RANKS + "invalid JSON ('utf-8' codec can't decode byte 0xe9") + r".*\)\.$"
        ),
    ),
    "an array": (b"[1, 2]", RANKS + "a JSON array."),
    "a string": (b'"the"', RANKS + "a JSON string."),
    "null": (b"null", RANKS + "a JSON null."),
    "a string rank": (b'{"the": 1, "and": "2"}', RANKS + 'the entry {"and": "2"}.'),
    "a fractional rank": (b'{"the": 1.5}', RANKS + 'the entry {"the": 1.5}.'),
    "a boolean rank": (b'{"the": true}', RANKS + 'the entry {"the": true}.'),
    "rank 0": (b'{"the": 0}', RANKS + 'the entry {"the": 0}.'),
}


@pytest.mark.parametrize("module", [imdb, reuters])
@pytest.mark.parametrize(
    ("content", "problem"), WORD_INDEX_CASES.values(), ids=WORD_INDEX_CASES.keys()
)
def test_damaged_word_index(tmp_path, module, content, problem):
    path = tmp_path / "index.json"
    path.write_bytes(content)
    with pytest.raises(data.DataFileError) as info:
        module.get_word_index(path=path)
    prefix = f"{path} is not a valid {module.WORD_INDEX.filename}: "
    message = str(info.value)
    assert message.startswith(prefix)
    if isinstance(problem, str):
        assert message == prefix + problem
    else:
        assert problem.match(message[len(prefix) :]), message
    assert_one_error(info.value)


def test_the_default_word_index_is_checked_too(tmp_path, monkeypatch):
    folder = tmp_path / "data" / "imdb"
    folder.mkdir(parents=True)
    (folder / "imdb_word_index.json").write_text("[]", encoding="utf-8")
    monkeypatch.setenv("ANYKERAS_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(data.DataFileError, match=r"imdb_word_index\.json: .* a JSON array\.$"):
        imdb.decode([1, 4])
    with pytest.raises(data.DataFileError, match=r"a JSON array\.$"):
        imdb.encode("a film")


# --- arguments that Keras would take silently -----------------------------------------

INT_OPTIONS = [
    ("num_words", -5, "None or an integer >= 0"),
    ("num_words", True, "None or an integer >= 0"),
    ("num_words", 100.0, "None or an integer >= 0"),
    ("skip_top", -1, "an integer >= 0"),
    ("skip_top", None, "an integer >= 0"),
    ("maxlen", -1, "None or an integer >= 0"),
    ("maxlen", 2.5, "None or an integer >= 0"),
    ("start_char", -1, "None or an integer >= 0"),
    ("oov_char", "2", "None or an integer >= 0"),
    ("index_from", -3, "an integer >= 0"),
    ("seed", -1, "an integer >= 0"),
]


@pytest.mark.parametrize("module", [imdb, reuters])
@pytest.mark.parametrize(("name", "value", "expected"), INT_OPTIONS)
def test_bad_options_are_refused_before_any_file_is_read(module, name, value, expected):
    message = f"{name} must be {expected}. Received: {name}={value!r}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        module.load_data(**{name: value})


@pytest.mark.parametrize("module", [imdb, reuters, boston_housing])
def test_a_seed_numpy_would_refuse(module):
    message = "seed must be an integer in [0, 2**32). Received: seed=4294967296"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        module.load_data(seed=2**32)


@pytest.mark.parametrize("module", [imdb, reuters, boston_housing, mnist])
def test_a_path_that_is_not_a_path(module):
    message = (
        f"path must be None, a str or an os.PathLike (the path of {module.NPZ.filename}). "
        "Received: path=3 of type int"
    )
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        module.load_data(path=3)


def test_the_real_files_still_load_after_the_checks(shared_file):
    (x_train, y_train), (x_test, _) = mnist.load_data(shared_file("mnist/mnist.npz"))
    assert (x_train.shape, y_train.shape, x_test.shape) == (
        (60000, 28, 28),
        (60000,),
        (10000, 28, 28),
    )
    (x_train, y_train), _ = boston_housing.load_data(
        shared_file("boston_housing/boston_housing.npz")
    )
    assert x_train.shape == (404, 13)


# --- encode and decode ----------------------------------------------------------------

INDEX = {"the": 1, "film": 2}
ENCODE_ERRORS = [
    ((123,), {}, TypeError, "text must be a str or bytes. Received: text=123 of type int"),
    ((None,), {}, TypeError, "text must be a str or bytes. Received: text=None of type NoneType"),
    (
        (["the", "film"],),
        {},
        TypeError,
        "text must be a str or bytes. Received: text=['the', 'film'] of type list",
    ),
    (("",), {}, ValueError, "text must contain at least one word. Received: text=''"),
    ((" \t\n",), {}, ValueError, "text must contain at least one word. Received: text=' \\t\\n'"),
    (("... !!",), {}, ValueError, "text must contain at least one word. Received: text='... !!'"),
    (
        (b"caf\xe9 film",),
        {},
        ValueError,
        "text must be UTF-8 when given as bytes. Received: text=b'caf\\xe9 film' "
        "(invalid continuation byte at byte 3)",
    ),
    (
        ("the film",),
        {"num_words": -1},
        ValueError,
        "num_words must be None or an integer >= 0. Received: num_words=-1",
    ),
    (
        ("the film",),
        {"index_from": -1},
        ValueError,
        "index_from must be an integer >= 0. Received: index_from=-1",
    ),
    (
        ("the film",),
        {"word_index": ["the", "film"]},
        TypeError,
        "word_index must be a mapping of words to ranks, or None for the data set's own. "
        "Received: word_index of type list",
    ),
]


@pytest.mark.parametrize(("args", "kwargs", "error", "message"), ENCODE_ERRORS)
def test_encode_errors(args, kwargs, error, message):
    kwargs = {"word_index": INDEX, **kwargs}
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        imdb.encode(*args, **kwargs)


def test_what_encode_still_takes():
    assert imdb.encode("<br />", word_index=INDEX) == [1]  # a word ("br"), just not a known one
    assert imdb.encode(b"the film", word_index=INDEX) == [1, 4, 5]
    assert imdb.tokenize("") == []  # splitting nothing gives no words; encode refuses it
    with pytest.raises(TypeError, match=r"^text must be a str or bytes\. Received: text=1\.5 "):
        imdb.tokenize(1.5)


@pytest.mark.parametrize("module", [imdb, reuters])
@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (
            (["the"],),
            {},
            ValueError,
            "sequence must hold integer ids only. Received: sequence[0]='the'",
        ),
        (
            ([1, 2.5],),
            {},
            ValueError,
            "sequence must hold integer ids only. Received: sequence[1]=2.5",
        ),
        (
            ([1],),
            {"index_from": -1},
            ValueError,
            "index_from must be an integer >= 0. Received: index_from=-1",
        ),
        (
            ([1],),
            {"word_index": "the"},
            TypeError,
            "word_index must be a mapping of words to ranks, or None for the data set's own. "
            "Received: word_index of type str",
        ),
    ],
)
def test_decode_errors(module, args, kwargs, error, message):
    kwargs = {"word_index": INDEX, **kwargs}
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        module.decode(*args, **kwargs)
