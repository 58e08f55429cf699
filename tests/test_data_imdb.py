"""anykeras.data.imdb gives exactly what keras.datasets.imdb gives, and encodes new text."""

from __future__ import annotations

import dataclasses
import tarfile

import keras
import keras.src.datasets.imdb as keras_imdb
import numpy as np
import pytest

from anykeras.data import _reading, imdb

# --- helpers ------------------------------------------------------------------------------


def assert_same_split(ours, theirs):
    """Every array of ``(x_train, y_train), (x_test, y_test)`` is equal, dtypes included."""
    for (x_ours, y_ours), (x_theirs, y_theirs) in zip(ours, theirs, strict=True):
        assert x_ours.dtype == x_theirs.dtype == object
        assert x_ours.shape == x_theirs.shape
        assert y_ours.dtype == y_theirs.dtype
        np.testing.assert_array_equal(y_ours, y_theirs)
        assert [len(x) for x in x_ours] == [len(x) for x in x_theirs]
        assert all(a == b for a, b in zip(x_ours, x_theirs, strict=True))
        if len(x_ours) and len(x_ours[0]):
            assert type(x_ours[0][0]) is type(x_theirs[0][0]) is int


def ragged(rows):
    out = np.empty(len(rows), dtype=object)
    for i, row in enumerate(rows):
        out[i] = list(row)
    return out


@pytest.fixture
def tiny_imdb(tmp_path, monkeypatch):
    """A small random file in Keras's IMDB layout, trusted by us and served to Keras."""
    rng = np.random.default_rng(1)
    arrays = {}
    for split, n in (("train", 40), ("test", 30)):
        arrays[f"x_{split}"] = ragged(
            [rng.integers(1, 60, size=rng.integers(1, 25)).tolist() for _ in range(n)]
        )
        arrays[f"y_{split}"] = rng.integers(0, 2, size=n).astype(np.int64)
    path = tmp_path / "imdb.npz"
    np.savez(path, **arrays)
    trusted = imdb.NPZ.known_sha256 | {_reading.sha256(path)}
    monkeypatch.setattr(imdb, "NPZ", dataclasses.replace(imdb.NPZ, known_sha256=trusted))
    monkeypatch.setattr(keras_imdb, "get_file", lambda *args, **kwargs: str(path))
    return path


@pytest.fixture
def real_imdb(shared_file, monkeypatch):
    """The shared imdb.npz, also served to Keras's own loader."""
    path = shared_file("imdb/imdb.npz")
    monkeypatch.setattr(keras_imdb, "get_file", lambda *args, **kwargs: str(path))
    return path


@pytest.fixture(scope="module")
def imdb_10k(data_dir):
    """``imdb.load_data(num_words=10000)`` found through ANYKERAS_DATA_DIR, loaded once."""
    if not (data_dir / "imdb" / "imdb.npz").is_file():
        pytest.skip(f"imdb/imdb.npz is not in ANYKERAS_DATA_DIR={data_dir}")
    return imdb.load_data(num_words=10000)


@pytest.fixture(scope="module")
def word_index(data_dir):
    path = data_dir / "imdb" / "imdb_word_index.json"
    if not path.is_file():
        pytest.skip(f"imdb/imdb_word_index.json is not in ANYKERAS_DATA_DIR={data_dir}")
    return imdb.get_word_index(path)


# --- equality with keras.datasets.imdb ----------------------------------------------------

TINY_CASES = [
    {},
    {"num_words": 20},
    {"num_words": 0},
    {"skip_top": 5, "num_words": 30},  # skip_top above start_char turns it into oov_char
    {"maxlen": 10},
    {"maxlen": 12, "num_words": 25, "oov_char": None},
    {"start_char": None},
    {"start_char": None, "index_from": 0},
    {"index_from": 0, "oov_char": 9, "num_words": 40},
    {"seed": 7, "index_from": 5, "start_char": 3},
]


@pytest.mark.parametrize("kwargs", TINY_CASES, ids=str)
def test_matches_keras_on_a_tiny_file(tiny_imdb, kwargs):
    ours = imdb.load_data(tiny_imdb, **kwargs)
    theirs = keras.datasets.imdb.load_data(**kwargs)
    assert_same_split(ours, theirs)


def test_maxlen_that_keeps_nothing(tiny_imdb):
    with pytest.raises(
        ValueError, match=r"no sequence is kept; increase maxlen\. Received: maxlen=1$"
    ):
        imdb.load_data(tiny_imdb, maxlen=1)


# --- tokenize, encode and decode on small inputs ----------------------------------------


def test_tokenize_as_the_data_set_was_built():
    assert imdb.tokenize("Great FILM!<br /><br />It's 10/10.") == [
        "great",
        "film",
        "br",
        "br",
        "it's",
        "10",
        "10",
    ]
    # Only ASCII letters are lowercased; only ASCII whitespace splits.
    assert imdb.tokenize("ÉTÉ été\u00a0x\r\ny\x0bz") == ["ÉtÉ", "été\u00a0x", "y", "z"]
    assert imdb.tokenize("café".encode()) == ["café"]


def test_encode_options():
    index = {"the": 1, "film": 5, "end": 9}
    text = "The film - the END?"
    assert imdb.encode(text, None, index) == [1, 4, 8, 4, 12]
    assert imdb.encode(text, 6, index) == [1, 4, 2, 4, 2]
    assert imdb.encode(text, 6, index, oov_char=None) == [1, 4, 4]
    assert imdb.encode(text, 10, index, start_char=None, index_from=0) == [1, 5, 1, 9]
    assert imdb.encode("unknown words only", 10, index) == [1]


def test_decode_options():
    index = {"great": 1, "film": 2}
    assert imdb.decode([0, 1, 2, 4, 5, 99], index) == "? ? ? great film ?"
    assert imdb.decode(np.array([1, 4]), index, unknown="[START]") == "[START] great"
    assert imdb.decode([1, 2], index, index_from=0) == "great film"


# --- the real data (module fixture loaded once; these run last) --------------------------


def test_matches_keras_on_the_real_file(real_imdb, imdb_10k):
    assert_same_split(imdb_10k, keras.datasets.imdb.load_data(num_words=10000))


@pytest.mark.slow
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"num_words": 5000, "skip_top": 20, "maxlen": 300, "index_from": 2, "oov_char": None}],
    ids=str,
)
def test_matches_keras_on_the_real_file_with_other_arguments(real_imdb, kwargs):
    ours = imdb.load_data(real_imdb, **kwargs)
    assert_same_split(ours, keras.datasets.imdb.load_data(**kwargs))


def test_what_the_book_prints(imdb_10k):
    (x_train, y_train), (x_test, y_test) = imdb_10k
    assert len(x_train) == len(x_test) == 25_000
    assert [len(x) for x in x_train[:5]] == [218, 189, 141, 550, 147]
    assert y_train[:5].tolist() == [1, 0, 0, 1, 0]
    assert y_train.dtype == np.int64
    assert x_train[0][:10] == [1, 14, 22, 16, 43, 530, 973, 1622, 1385, 65]
    assert max(max(x) for x in x_train) == 9999
    assert y_train.sum() == y_test.sum() == 12_500


def test_get_word_index_matches_keras(word_index, shared_file, monkeypatch):
    path = shared_file("imdb/imdb_word_index.json")
    monkeypatch.setattr(keras_imdb, "get_file", lambda *args, **kwargs: str(path))
    assert word_index == keras.datasets.imdb.get_word_index()
    assert len(word_index) == 88_584
    assert word_index["the"] == 1


# --- decode (Listing 4.2) and encode ------------------------------------------------------


def test_decode_first_review_as_in_the_book(imdb_10k, word_index):
    (x_train, _), _ = imdb_10k
    text = imdb.decode(x_train[0], word_index)
    assert text.startswith(
        "? this film was just brilliant casting location scenery story direction "
        "everyone's really suited the part they played"
    )
    assert imdb.decode(x_train[0]) == text  # the default index is the same file


def test_decode_then_encode_gives_the_sequence_back_without_oov(imdb_10k, word_index):
    (x_train, _), _ = imdb_10k
    for sequence in x_train[:300]:
        # "?" (for oov id 2) is a filtered character, so it vanishes; every word comes back.
        assert imdb.encode(imdb.decode(sequence, word_index), 10000, word_index) == [
            i for i in sequence if i != 2
        ]


def raw_reviews(data_dir, per_folder=4):
    """Some raw reviews of each folder, with their index in the npz's stored order."""
    archive = data_dir / "imdb" / "aclImdb_v1_labeled.tar.gz"
    if not archive.is_file():
        pytest.skip(f"imdb/aclImdb_v1_labeled.tar.gz is not in ANYKERAS_DATA_DIR={data_dir}")
    names: dict[str, list[str]] = {}
    texts: dict[str, bytes] = {}
    with tarfile.open(archive) as tar:
        for member in tar:
            parts = member.name.split("/")
            if not (member.isfile() and len(parts) == 4 and parts[3].endswith(".txt")):
                continue
            folder = "/".join(parts[1:3])  # e.g. "train/pos"
            names.setdefault(folder, []).append(member.name)
            position = len(names[folder]) - 1
            if position < per_folder or position in (5_000, 12_499):
                texts[member.name] = tar.extractfile(member).read()
    found = []
    for split in ("train", "test"):
        # Stored order: pos files, then neg files, each in lexicographic file-name order.
        stored = sorted(names[f"{split}/pos"]) + sorted(names[f"{split}/neg"])
        found += [
            (split, stored.index(name), texts[name]) for name in texts if f"/{split}/" in name
        ]
    return found


def test_encode_reproduces_the_data_set_from_raw_reviews(data_dir, real_imdb, imdb_10k, word_index):
    arrays = _reading.load_npz(real_imdb, imdb.NPZ, ("x_train", "x_test"))
    permutation = {}
    rng = np.random.RandomState(113)
    for split in ("train", "test"):
        indices = np.arange(25_000)
        rng.shuffle(indices)
        permutation[split] = np.argsort(indices)  # stored index -> position after shuffling
    (x_train, _), (x_test, _) = imdb_10k
    loaded = {"train": x_train, "test": x_test}

    reviews = raw_reviews(data_dir)
    assert len(reviews) == 4 * 6  # 6 reviews from each of the 4 folders
    assert any(b"<br />" in text for _, _, text in reviews)
    for split, stored, text in reviews:
        raw_ranks = imdb.encode(text, None, word_index, start_char=None, index_from=0)
        assert raw_ranks == arrays[f"x_{split}"][stored]
        assert imdb.encode(text, 10000, word_index) == loaded[split][permutation[split][stored]]
